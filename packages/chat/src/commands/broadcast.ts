/** The `broadcast` group: key/message items replicated to every member over gossip. */
import type { CommandSpec } from '@isopeer/console';
import type { ChatPeer } from '../chat-peer.js';

export function broadcastCommands(peer: ChatPeer): CommandSpec[] {
  return [
    {
      name: 'broadcastadd',
      group: 'broadcast',
      usage: 'broadcastadd <key> <message>',
      description: 'set a key to a message at every member (gossip)',
      minArgs: 2,
      run(args, { out }) {
        const key = args[0]!;
        const value = args.slice(1).join(' '); // as the original: the words joined by one space
        peer.broadcastKv({ Action: 'add', Data: { [key]: value } });
        out.text(`${key} = ${value}`);
      },
    },
    {
      name: 'broadcastdel',
      group: 'broadcast',
      usage: 'broadcastdel <key>...',
      description: 'delete keys at every member (gossip)',
      minArgs: 1,
      run(args, { out }) {
        for (const key of args) {
          const had = peer.items.has(key);
          peer.broadcastKv({ Action: 'del', Data: { [key]: '' } });
          out.text(had ? `${key} deleted` : `${key} was not set here; deletion sent anyway`);
        }
      },
      complete: (_i, partial) => [...peer.items.keys()].filter((k) => k.startsWith(partial)),
    },
    {
      name: 'broadcastlist',
      group: 'broadcast',
      usage: 'broadcastlist',
      description: 'list the key/message items known here',
      maxArgs: 0,
      run(_a, { out }) {
        if (peer.items.size === 0) out.info('no items');
        for (const k of [...peer.items.keys()].sort()) out.text(`${k} = ${peer.items.get(k)}`);
      },
    },
  ];
}
