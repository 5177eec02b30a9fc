/** The `memberlist` group: the memberlist node through its life, and what it knows. */
import { type CommandSpec, formatTable, type TableColumn, UsageError } from '@isopeer/console';
import { joinHostPort } from '@isopeer/memberlist';
import type { ChatPeer } from '../chat-peer.js';
import { jsonFlag, jsonOption } from './output.js';

const MEMBER_COLUMNS: TableColumn[] = [
  { header: 'Name' },
  { header: 'Node' },
  { header: 'Address' },
  { header: 'Status' },
  { header: 'Incarnation', align: 'right' },
  { header: 'Protocol', align: 'right' },
];

/** Node metadata as text (chat peers put their chat name there). */
function metaText(meta: Uint8Array | null): string | null {
  return meta ? Buffer.from(meta).toString('utf8') : null;
}

function seconds(arg: string | undefined, fallback: number): number {
  if (arg === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(arg))
    throw new UsageError(`${JSON.stringify(arg)} is not a number of seconds`);
  return Number(arg);
}

export function memberlistCommands(peer: ChatPeer): CommandSpec[] {
  return [
    {
      name: 'memberlistconfigure',
      group: 'memberlist',
      usage: 'memberlistconfigure [BindPort <port>]',
      description: `create a memberlist configuration (${peer.preset} preset)`,
      maxArgs: 2,
      run(args, { out }) {
        let port: number | undefined;
        if (args.length > 0) {
          if (args[0] !== 'BindPort' || args.length !== 2)
            throw new UsageError('the only option is BindPort <port>');
          if (!/^\d+$/.test(args[1]!) || Number(args[1]) > 65535)
            throw new UsageError(`${JSON.stringify(args[1])} is not a port number (0-65535)`);
          port = Number(args[1]);
        }
        const c = peer.configure(port);
        out.text(
          `configured ${c.Name} on ${c.BindAddr}:${c.BindPort} (${peer.preset} preset; /showconfig shows all)`,
        );
      },
    },
    {
      name: 'memberlistcreate',
      group: 'memberlist',
      usage: 'memberlistcreate',
      description: 'create the memberlist node from the configuration',
      maxArgs: 0,
      async run(_a, { out }) {
        const ml = await peer.create();
        out.text(`memberlist node ${ml.localNode().name} listening on ${ml.advertiseAddress}`);
      },
    },
    {
      name: 'memberliststart',
      group: 'memberlist',
      usage: 'memberliststart',
      description: 'start broadcasting between the members',
      maxArgs: 0,
      run(_a, { out }) {
        peer.startBroadcasts();
        out.text('broadcast queue started (RetransmitMult 3)');
      },
    },
    {
      name: 'memberlistjoin',
      group: 'memberlist',
      usage: 'memberlistjoin [addr...]',
      description: 'join the given host:port addresses, or the bootstrap peers (or cached members)',
      async run(args, { out }) {
        const n = await peer.join(args);
        out.text(
          n === 0
            ? 'no other member to join'
            : `joined through ${n} member(s); ${peer.requireMemberlist().numMembers()} member(s) now`,
        );
      },
    },
    {
      name: 'memberlistleave',
      group: 'memberlist',
      usage: 'memberlistleave [<seconds>]',
      description: 'announce leaving memberlist and wait up to the timeout (default 1 s)',
      maxArgs: 1,
      async run(args, { out }) {
        await peer.requireMemberlist().leave(seconds(args[0], 1) * 1000);
        out.text('left the memberlist');
      },
    },
    {
      name: 'memberlistupdate',
      group: 'memberlist',
      usage: 'memberlistupdate [<seconds>]',
      description: 're-announce this node (metadata) and wait up to the timeout (default 1 s)',
      maxArgs: 1,
      async run(args, { out }) {
        await peer.requireMemberlist().updateNode(seconds(args[0], 1) * 1000);
        out.text('node update gossiped');
      },
    },
    {
      name: 'memberlistshutdown',
      group: 'memberlist',
      usage: 'memberlistshutdown',
      description: 'stop the memberlist node without leaving (others see a failure)',
      maxArgs: 0,
      async run(_a, { out }) {
        await peer.shutdownMemberlist(false);
        out.text('memberlist shut down');
      },
    },
    {
      name: 'memberlistshutdowntransport',
      group: 'memberlist',
      usage: 'memberlistshutdowntransport',
      description: 'close only the network transport (simulates losing the network)',
      maxArgs: 0,
      async run(_a, { out }) {
        await peer.closeTransport();
        out.text('memberlist transport closed');
      },
    },
    {
      name: 'memberlistdelete',
      group: 'memberlist',
      usage: 'memberlistdelete',
      description: 'shut down and forget the memberlist node (allows /memberlistcreate again)',
      maxArgs: 0,
      async run(_a, { out }) {
        await peer.shutdownMemberlist(true);
        out.text('memberlist deleted');
      },
    },
    {
      name: 'memberlisthealthscore',
      group: 'memberlist',
      usage: 'memberlisthealthscore',
      description: 'show the Lifeguard health score (0 is healthy)',
      maxArgs: 0,
      run(_a, { out }) {
        out.text(`health score: ${peer.requireMemberlist().healthScore()}`);
      },
    },
    {
      name: 'memberlist',
      group: 'memberlist',
      usage: 'memberlist [--json]',
      description: 'list the live memberlist members (--json: one JSON line)',
      ...jsonOption,
      run(args, { out }) {
        const json = jsonFlag(args);
        const members = peer
          .requireMemberlist()
          .members()
          .sort((a, b) => (a.name < b.name ? -1 : 1));
        if (json) {
          out.text(JSON.stringify(members.map((n) => ({ ...n, meta: metaText(n.meta) }))));
          return;
        }
        out.text(`${members.length} member(s)`);
        const rows = members.map((n) => [
          peer.displayName(n.name),
          n.name,
          joinHostPort(n.addr, n.port),
          n.state,
          String(n.incarnation),
          String(n.pCur),
        ]);
        for (const line of formatTable(MEMBER_COLUMNS, rows)) out.text(line);
      },
    },
    {
      name: 'localnode',
      group: 'memberlist',
      usage: 'localnode',
      description: 'show this memberlist node',
      maxArgs: 0,
      run(_a, { out }) {
        const n = peer.requireMemberlist().localNode();
        out.text(
          `${n.name} ${n.addr}:${n.port} ${n.state} incarnation ${n.incarnation} protocol ${n.pCur} (${n.pMin}-${n.pMax})`,
        );
      },
    },
    {
      name: 'showmemberlist',
      group: 'memberlist',
      usage: 'showmemberlist',
      description: 'show the state of the memberlist node',
      maxArgs: 0,
      run(_a, { out }) {
        const ml = peer.requireMemberlist();
        out.text(`node ${ml.localNode().name} at ${ml.advertiseAddress}`);
        out.text(`members: ${ml.numMembers()} live, ${ml.allNodes().length} known`);
        out.text(
          `broadcast queue: ${peer.queue ? `${peer.queue.numQueued()} queued` : 'not started'}`,
        );
        out.text(`health score: ${ml.healthScore()}`);
        const cut = peer.partitions.peers();
        if (cut.length) out.text(`partitioned from: ${cut.join(', ')}`);
      },
    },
  ];
}
