/**
 * The peer's console commands: every command of the original prototype with its name, group and
 * usage (bootstrap, broadcast, chat, cli, development, memberlist), plus `testpartition` for the
 * test runner. The console's own commands (help, script, log) and the testkit's `test*` commands
 * are registered by their packages.
 */
import type { BootstrapData } from '@isopeer/bootstrap';
import {
  type CommandContext,
  type CommandSpec,
  type LineWriter,
  UsageError,
} from '@isopeer/console';
import { goConfigFormat } from '@isopeer/memberlist';
import { chatLine, sanitizeLine } from './chat-line.js';
import { ChatError } from './errors.js';
import { keyringCommands } from './keyring-commands.js';
import { memberRecordJson, msgTypeName } from './member-record.js';
import { metricsCommands } from './metrics-commands.js';
import type { ChatPeer, Delivery } from './peer.js';

function seconds(arg: string | undefined, fallback: number): number {
  if (arg === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(arg))
    throw new UsageError(`${JSON.stringify(arg)} is not a number of seconds`);
  return Number(arg);
}

function showData(out: LineWriter, data: BootstrapData | undefined, what: string): void {
  if (!data) {
    out.info(`no ${what} yet (run /bootstrapjoin or /bootstrap)`);
    return;
  }
  for (const line of JSON.stringify(data, null, 2).split('\n')) out.text(line);
}

function showPeers(out: LineWriter, data: BootstrapData): void {
  const peers = Object.values(data.Peers);
  out.text(
    `${peers.length} of at most ${data.Config.maxpeers} bootstrap peer(s); minrefillcandidates ${data.Config.minrefillcandidates}`,
  );
  for (const p of peers) {
    const started = new Date(Number(p.timestamp) * 1000).toISOString();
    out.text(`  ${p.name}  ${p.ip}:${p.port}  id ${p.id}  since ${started}`);
  }
}

function reportDelivery(out: LineWriter, d: Delivery): void {
  for (const f of d.failed) out.warn(`could not deliver to ${f.name}: ${f.error}`);
}

export function chatCommands(peer: ChatPeer): CommandSpec[] {
  const memberNames = (_i: number, partial: string) =>
    [...peer.members.keys()]
      .filter((n) => n !== peer.nodeName)
      .flatMap((n) => [peer.displayName(n), n])
      .filter((n, i, all) => n.startsWith(partial) && all.indexOf(n) === i);

  const bootstrap: CommandSpec[] = [
    {
      name: 'bootstrap',
      group: 'bootstrap',
      usage: 'bootstrap',
      description: 'show the bootstrap data held by the service',
      maxArgs: 0,
      async run(_a, { out }) {
        showData(out, await peer.bootstrapCall('list', (bs) => bs.list()), 'data');
      },
    },
    {
      name: 'bootstrapconfig',
      group: 'bootstrap',
      usage: 'bootstrapconfig [<maxpeers> <minrefillcandidates>]',
      description: 'show the service configuration, or set it (admin)',
      maxArgs: 2,
      async run(args, { out }) {
        if (args.length === 1) throw new UsageError('give both numbers or none');
        if (args.length === 2) {
          const [max, min] = args.map((a) => {
            if (!/^\d+$/.test(a) || Number(a) < 1)
              throw new UsageError(`${JSON.stringify(a)} is not a positive integer`);
            return Number(a);
          });
          await peer.bootstrapCall('config', (bs) => bs.config(max!, min!));
        }
        const data = await peer.bootstrapCall('list', (bs) => bs.list());
        for (const line of JSON.stringify(data.Config, null, 2).split('\n')) out.text(line);
      },
    },
    {
      name: 'bootstrapjoin',
      group: 'bootstrap',
      usage: 'bootstrapjoin',
      description: 'ask the bootstrap service for peers and join its list if there is room',
      maxArgs: 0,
      async run(_a, { out }) {
        const r = await peer.bootstrapJoin();
        if (r.source === 'bootstrap') showPeers(out, r.data);
        else {
          out.warn(
            `bootstrap service unreachable (${r.error}); /memberlistjoin will use ${r.count} cached member(s)`,
          );
          return r.count > 0;
        }
      },
    },
    {
      name: 'bootstrapleave',
      group: 'bootstrap',
      usage: 'bootstrapleave',
      description: 'remove this peer from the bootstrap list',
      maxArgs: 0,
      async run(_a, { out }) {
        const data = await peer.bootstrapCall('leave', (bs) => bs.leave(peer.id));
        peer.bootstrapData = data;
        showPeers(out, data);
      },
    },
    {
      name: 'bootstraplistlocal',
      group: 'bootstrap',
      usage: 'bootstraplistlocal',
      description: 'show the bootstrap data this peer received last',
      maxArgs: 0,
      run(_a, { out }) {
        showData(out, peer.bootstrapData, 'local bootstrap data');
      },
    },
    {
      name: 'bootstrappeers',
      group: 'bootstrap',
      usage: 'bootstrappeers',
      description: 'list the bootstrap peers the service holds',
      maxArgs: 0,
      async run(_a, { out }) {
        const data = await peer.bootstrapCall('list', (bs) => bs.list());
        peer.bootstrapData = data;
        showPeers(out, data);
      },
    },
    {
      name: 'bootstraprefill',
      group: 'bootstrap',
      usage: 'bootstraprefill',
      description: 'offer this peer as a bootstrap peer (older peers win when the list is full)',
      maxArgs: 0,
      async run(_a, { out }) {
        const data = await peer.bootstrapCall('refill', (bs) => bs.refill(peer.peerRecord()));
        peer.bootstrapData = data;
        showPeers(out, data);
      },
    },
    {
      name: 'bootstrapreset',
      group: 'bootstrap',
      usage: 'bootstrapreset',
      description: 'remove every peer from the bootstrap list (admin)',
      maxArgs: 0,
      async run(_a, { out }) {
        const data = await peer.bootstrapCall('reset', (bs) => bs.reset());
        peer.bootstrapData = data;
        showPeers(out, data);
      },
    },
  ];

  const broadcast: CommandSpec[] = [
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

  const chat: CommandSpec[] = [
    {
      name: 'chatstart',
      group: 'chat',
      usage: 'chatstart',
      description: 'start the chat listener, announce this member and greet the others',
      maxArgs: 0,
      async run(_a, { out }) {
        const d = await peer.chatStart();
        out.text(`chat listening on ${peer.self?.sender}; greeted ${d.delivered.length} member(s)`);
        reportDelivery(out, d);
      },
    },
    {
      name: 'chatstop',
      group: 'chat',
      usage: 'chatstop',
      description: 'stop the chat listener (this member stays known)',
      maxArgs: 0,
      async run(_a, { out }) {
        const where = peer.self?.sender;
        await peer.chatStop();
        out.text(`stopped chat listener of ${JSON.stringify(where)}`);
      },
    },
    {
      name: 'chatleave',
      group: 'chat',
      usage: 'chatleave',
      description: 'leave the chat: stop listening and announce LEAVE to all members',
      maxArgs: 0,
      async run(_a, { out }) {
        await peer.chatLeave();
        out.text('left the chat');
      },
    },
    {
      name: 'chatmembers',
      group: 'chat',
      usage: 'chatmembers',
      description: 'list the known chat members (records as on the wire)',
      maxArgs: 0,
      run(_a, { out }) {
        const names = [...peer.members.keys()].sort();
        out.text(`${names.length} chat member(s)`);
        for (const n of names) {
          const r = peer.members.get(n)!;
          out.text(
            `  ${peer.displayName(n)}  ${n}  ${r.sender}  ${msgTypeName(r.msgType)}  ${memberRecordJson(r)}`,
          );
        }
      },
    },
    {
      name: 'chatping',
      group: 'chat',
      usage: 'chatping',
      description: "check every member's chat listener with an empty connection",
      maxArgs: 0,
      async run(_a, { out }) {
        const results = await peer.pingMembers();
        if (results.length === 0) out.info('no other chat member');
        for (const r of results) {
          if (r.error) out.warn(`${r.name}: unreachable (${r.error})`);
          else out.text(`${r.name}: reachable in ${r.ms!.toFixed(1)} ms`);
        }
        return results.every((r) => !r.error);
      },
    },
    {
      name: 'chatmemberping',
      group: 'chat',
      usage: 'chatmemberping <member>',
      description: 'ping one member over gossip (PING record) and over TCP',
      minArgs: 1,
      maxArgs: 1,
      async run(args, { out }) {
        const m = peer.findMember(args[0]!);
        if (m.name === peer.nodeName) throw new ChatError('CHAT_ARGS', 'that is this peer');
        peer.gossipPing(m);
        const results = await peer.pingMembers();
        const r = results.find((x) => x.name === peer.displayName(m.name));
        if (r?.error) {
          out.warn(`${r.name}: chat listener unreachable (${r.error})`);
          return false;
        }
        out.text(
          `${peer.displayName(m.name)}: chat listener reachable in ${r?.ms?.toFixed(1)} ms; gossip ping sent`,
        );
      },
      complete: memberNames,
    },
    {
      name: 'msg',
      group: 'chat',
      usage: 'msg <text>',
      description: 'send a line to every chat member (a line without "/" does the same)',
      minArgs: 1,
      async run(_a, ctx) {
        await sendAndEcho(peer, ctx.rawArgs, ctx);
      },
    },
  ];

  const cli: CommandSpec[] = [
    {
      name: 'exit',
      group: 'cli',
      usage: 'exit',
      description: 'exit at once, without telling anyone (/quit leaves properly)',
      maxArgs: 0,
      async run() {
        await peer.close();
        peer.emit('exit', 0);
      },
    },
  ];

  const development: CommandSpec[] = [
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
      async run(_a, { out }) {
        await peer.quit(out);
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

  const memberlist: CommandSpec[] = [
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
            throw new UsageError(`${JSON.stringify(args[1])} is not a port`);
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
        peer.requireMemberlist();
        await peer.transport?.close();
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
      usage: 'memberlist',
      description: 'list the live memberlist members',
      maxArgs: 0,
      run(_a, { out }) {
        const members = peer.requireMemberlist().members();
        out.text(`${members.length} member(s)`);
        for (const n of members.sort((a, b) => (a.name < b.name ? -1 : 1))) {
          out.text(`  ${peer.displayName(n.name)}  ${n.name}  ${n.addr}:${n.port}  ${n.state}`);
        }
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

  const test: CommandSpec[] = [
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

  return [
    ...bootstrap,
    ...broadcast,
    ...chat,
    ...cli,
    ...development,
    ...keyringCommands(peer),
    ...memberlist,
    ...metricsCommands(peer),
    ...test,
  ];
}

/** Sends a chat line and shows it locally the way the receivers see it. */
export async function sendAndEcho(
  peer: ChatPeer,
  text: string,
  ctx: Pick<CommandContext, 'out'>,
): Promise<void> {
  const d = await peer.sendMessage(text);
  ctx.out.text(chatLine(peer.name, sanitizeLine(text)).trimEnd());
  reportDelivery(ctx.out, d);
}

/**
 * Registers the peer's commands, its configuration provider (`/showconfig`, `/saveconfig`,
 * `/loadconfig`) and plain lines as chat messages.
 */
export function registerChatPeer(peer: ChatPeer): void {
  const c = peer.console;
  c.register(chatCommands(peer).filter((spec) => !c.command(spec.name)));
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
