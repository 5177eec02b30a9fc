/** The `bootstrap` group: the bootstrap service's list, configuration and this peer's place in it. */
import type { BootstrapData } from '@isopeer/bootstrap';
import {
  type CommandSpec,
  formatTable,
  type LineWriter,
  type TableColumn,
  UsageError,
} from '@isopeer/console';
import type { ChatPeer } from '../chat-peer.js';
import { isoSeconds, jsonFlag, jsonOption } from './output.js';

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
  // isopeer and the Go prototype end a node name with the peer's id; the column is shown only
  // when some name does not, so the table fits a terminal.
  const withId = peers.some((p) => !p.name.endsWith(p.id));
  const columns: TableColumn[] = [
    { header: 'Node' },
    { header: 'Address' },
    ...(withId ? [{ header: 'Id' }] : []),
    { header: 'Running since (UTC)' },
  ];
  const rows = peers.map((p) => {
    // The service stores what clients send: a timestamp that is not a number is shown as is.
    const since = /^\d+$/.test(p.timestamp) ? isoSeconds(Number(p.timestamp)) : p.timestamp;
    return [p.name, `${p.ip}:${p.port}`, ...(withId ? [p.id] : []), since];
  });
  for (const line of formatTable(columns, rows)) out.text(line);
}

export function bootstrapCommands(peer: ChatPeer): CommandSpec[] {
  return [
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
        const data = await peer.bootstrapUpdate('leave', (bs) => bs.leave(peer.id));
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
      usage: 'bootstrappeers [--json]',
      description: 'list the bootstrap peers the service holds (--json: its document, one line)',
      ...jsonOption,
      async run(args, { out }) {
        const json = jsonFlag(args);
        const data = await peer.bootstrapUpdate('list', (bs) => bs.list());
        if (json) out.text(JSON.stringify(data));
        else showPeers(out, data);
      },
    },
    {
      name: 'bootstraprefill',
      group: 'bootstrap',
      usage: 'bootstraprefill',
      description: 'offer this peer as a bootstrap peer (older peers win when the list is full)',
      maxArgs: 0,
      async run(_a, { out }) {
        const data = await peer.bootstrapUpdate('refill', (bs) => bs.refill(peer.peerRecord()));
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
        const data = await peer.bootstrapUpdate('reset', (bs) => bs.reset());
        showPeers(out, data);
      },
    },
  ];
}
