#!/usr/bin/env node
// The `isopeer` command: argument parsing and wiring only; every behaviour lives in a library.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';

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

const VERSION_FLAGS = ['-V', '--version'];

/** The package's own version. The compiled file and its bundle both sit two folders below it. */
function packageVersion(): string {
  const pkg = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

const program = new Command('isopeer')
  .description('Build, run and test peer-to-peer applications')
  .version(packageVersion(), VERSION_FLAGS.join(', '), 'print the version')
  .showHelpAfterError();

/** The subcommands to load: the one asked for, none for the version, all for help and errors. */
function toLoad(first: string | undefined): Array<() => Promise<Register>> {
  if (first !== undefined && Object.hasOwn(commands, first)) return [commands[first]];
  if (first !== undefined && VERSION_FLAGS.includes(first)) return [];
  return Object.values(commands);
}

for (const load of toLoad(process.argv[2])) (await load())(program);

await program.parseAsync(process.argv);
