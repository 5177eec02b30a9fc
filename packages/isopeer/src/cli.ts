#!/usr/bin/env node
// The `isopeer` command: argument parsing and wiring only; every behaviour lives in a library.
import { Command } from 'commander';
import { registerBootstrapServer } from './commands/bootstrap-server.js';
import { registerChat } from './commands/chat.js';
import { registerNode } from './commands/node.js';
import { registerTest } from './commands/test.js';
import { registerTestServer } from './commands/test-server.js';

const program = new Command('isopeer')
  .description('Build, run and test peer-to-peer applications')
  .showHelpAfterError();

registerChat(program);
registerNode(program);
registerBootstrapServer(program);
registerTestServer(program);
registerTest(program);

await program.parseAsync(process.argv);
