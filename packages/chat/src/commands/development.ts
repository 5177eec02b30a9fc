/** The `development` group: the original's start-up and leave sequences, and an empty hook. */
import type { CommandSpec } from '@isopeer/console';
import type { ChatPeer } from '../chat-peer.js';
import { ChatError } from '../errors.js';

export function developmentCommands(peer: ChatPeer): CommandSpec[] {
  return [
    {
      name: 'init',
      group: 'development',
      usage: 'init',
      description:
        'start up: memberlistconfigure, memberlistcreate, bootstrapjoin, memberliststart, memberlistjoin, chatstart',
      maxArgs: 0,
      async run(_a, { out }) {
        if (peer.memberlist) throw new ChatError('CHAT_STATE', 'already initialised');
        await peer.init(out);
      },
    },
    {
      name: 'quit',
      group: 'development',
      usage: 'quit',
      description:
        'leave properly: bootstrap leave, tell the members, LEAVE record, memberlist leave, exit',
      maxArgs: 0,
      async run(_a, { out, signal }) {
        // Ctrl-C during /quit (which aborts the command) cuts the leave short.
        await peer.quit(out, signal);
      },
    },
    {
      name: 'play',
      group: 'development',
      usage: 'play',
      description: 'empty hook for experiments',
      run(_a, { out }) {
        out.info('nothing to play: this hook is empty');
      },
    },
  ];
}
