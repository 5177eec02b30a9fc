#!/usr/bin/env node
// The `isopeer` command: argument parsing and wiring only; every behaviour lives in a library.
import { Command } from 'commander';
import { applyCliStyle } from './cli-style.js';

type Register = (program: Command) => void;

// Each subcommand's module pulls in its whole library stack (memberlist, chat, testkit, ...).
// Loading only the one that was asked for keeps process start-up short, which matters because
// the test runner and the benchmarks spawn many peers; `isopeer --help` still loads them all.
const commands: Record<string, () => Promise<Register>> = {
  chat: async () => (await import('./commands/chat.js')).registerChat,
  node: async () => (await import('./commands/node.js')).registerNode,
  'bootstrap-server': async () =>
    (await import('./commands/bootstrap-server.js')).registerBootstrapServer,
  'test-server': async () => (await import('./commands/test-server.js')).registerTestServer,
  test: async () => (await import('./commands/test.js')).registerTest,
};

const program = new Command('isopeer').description('Build, run and test peer-to-peer applications');

const requested = process.argv[2];
const selected =
  requested !== undefined && Object.hasOwn(commands, requested)
    ? [commands[requested]]
    : Object.values(commands);
for (const load of selected) (await load())(program);
// Usage errors, exit codes and help read alike in every subcommand (cli-style.ts).
for (const cmd of [program, ...program.commands]) applyCliStyle(cmd);

await program.parseAsync(process.argv);
