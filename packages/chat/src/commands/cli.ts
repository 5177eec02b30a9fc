/** The `cli` group of the peer: leaving the program at once. */
import type { CommandSpec } from '@isopeer/console';
import type { ChatPeer } from '../chat-peer.js';

export function cliCommands(peer: ChatPeer): CommandSpec[] {
  return [
    {
      name: 'exit',
      group: 'cli',
      usage: 'exit',
      description: 'exit at once, without telling anyone (/quit leaves properly)',
      maxArgs: 0,
      async run() {
        await peer.exit();
      },
    },
  ];
}
