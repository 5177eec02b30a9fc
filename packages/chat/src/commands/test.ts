/** The `test` group: cutting this peer off from another one, for the test runner. */
import { type CommandSpec, UsageError } from '@isopeer/console';
import type { ChatPeer } from '../chat-peer.js';

export function testCommands(peer: ChatPeer): CommandSpec[] {
  return [
    {
      name: 'testpartition',
      group: 'test',
      usage: 'testpartition <peer> on|off',
      description: 'cut (on) or restore (off) all traffic between this peer and <peer> (tests)',
      minArgs: 2,
      maxArgs: 2,
      run(args, { out }) {
        const mode = args[1];
        if (mode !== 'on' && mode !== 'off')
          throw new UsageError(`expected on or off, got ${JSON.stringify(mode)}`);
        peer.partitions.set(args[0]!, mode === 'on');
        out.info(`partition from ${args[0]} ${mode}`);
      },
      complete: (i, partial) =>
        i === 0
          ? (peer.memberlist?.members() ?? [])
              .filter((n) => n.name !== peer.nodeName)
              .map((n) => peer.displayName(n.name))
              .filter((n) => n.startsWith(partial))
          : ['on', 'off'].filter((x) => x.startsWith(partial)),
    },
  ];
}
