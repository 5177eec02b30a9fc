/**
 * The peer's console commands: every command of the original prototype with its name, group and
 * usage (bootstrap, broadcast, chat, cli, development, memberlist), plus keyring and metrics, and
 * `testpartition` for the test runner — one file per group. The console's own commands (help,
 * script, log) and the testkit's `test*` commands are registered by their packages.
 */
import type { CommandSpec } from '@isopeer/console';
import { goConfigFormat } from '@isopeer/memberlist';
import type { ChatPeer } from '../chat-peer.js';
import { bootstrapCommands } from './bootstrap.js';
import { broadcastCommands } from './broadcast.js';
import { chatGroupCommands, sendAndEcho } from './chat.js';
import { cliCommands } from './cli.js';
import { developmentCommands } from './development.js';
import { keyringCommands } from './keyring.js';
import { memberlistCommands } from './memberlist.js';
import { metricsCommands } from './metrics.js';
import { testCommands } from './test.js';

export function chatCommands(peer: ChatPeer): CommandSpec[] {
  return [
    ...bootstrapCommands(peer),
    ...broadcastCommands(peer),
    ...chatGroupCommands(peer),
    ...cliCommands(peer),
    ...developmentCommands(peer),
    ...keyringCommands(peer),
    ...memberlistCommands(peer),
    ...metricsCommands(peer),
    ...testCommands(peer),
  ];
}

/**
 * Registers the peer's commands, its configuration provider (`/showconfig`, `/saveconfig`,
 * `/loadconfig` on memberlist's Go format) and plain lines as chat messages. Throws the console's
 * `DuplicateCommandError` if one of the command names is taken already.
 */
export function registerChatPeer(peer: ChatPeer): void {
  const c = peer.console;
  c.register(chatCommands(peer));
  c.useConfig({
    format: goConfigFormat,
    get: () => peer.currentGoConfig(),
    set: (config) => {
      const note = peer.setGoConfig(config);
      if (note) c.write('warn', note, 'loadconfig');
    },
    // Our memberlist reads every setting when it is created.
    appliesOnNextCreate: () => true,
    createCommand: 'memberlistcreate',
    group: 'memberlist',
    defaultFile: 'memberlist-config.json',
  });
  c.setDefaultHandler((line, ctx) => sendAndEcho(peer, line, ctx));
}
