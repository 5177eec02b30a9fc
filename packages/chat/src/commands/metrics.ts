/**
 * `/metrics`: the memberlist metrics snapshot as a table a person reads, or as one JSON line for
 * scripts and tests (`/metrics --json`).
 */
import { type CommandSpec, formatTable } from '@isopeer/console';
import type { MetricsSnapshot } from '@isopeer/memberlist';
import type { ChatPeer } from '../chat-peer.js';
import { jsonFlag, jsonOption } from './output.js';

/** The snapshot as rows a person reads: one subject per row, counts first. */
export function metricsRows(m: MetricsSnapshot): [string, string][] {
  const dropped = Object.entries(m.dropped)
    .filter(([, n]) => (n ?? 0) > 0)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([reason, n]) => `${reason} ${n}`);
  const p = m.packets;
  const s = m.streams;
  return [
    [
      'members',
      `${m.members.alive} alive, ${m.members.suspect} suspect, ${m.members.dead} dead, ${m.members.left} left`,
    ],
    ['health score', `${m.healthScore} (0 is healthy)`],
    [
      'probes',
      `${m.probes.sent} sent, ${m.probes.failed} failed, ${m.probes.indirect} indirect, ${m.probes.tcpFallback} TCP fallback (${m.probes.tcpFallbackOk} ok)`,
    ],
    [
      'suspicions',
      `${m.suspicions.raised} raised, ${m.suspicions.refuted} refuted, ${m.suspicions.confirmed} confirmed`,
    ],
    ['flaps', `${m.flaps} (dead or left, then alive again)`],
    ['deaths', `${m.deaths}`],
    [
      'packets',
      `${p.in} in, ${p.out} out; bytes ${p.bytesIn} in, ${p.bytesOut} out; ${p.sendErrors} send error(s)`,
    ],
    [
      'streams',
      `${s.in} in, ${s.out} out; bytes ${s.bytesIn} in, ${s.bytesOut} out; ${s.errors} error(s)`,
    ],
    [
      'push/pull',
      `${m.pushPulls.initiated} initiated, ${m.pushPulls.served} served, ${m.pushPulls.failed} failed`,
    ],
    [
      'gossip',
      `${m.gossip.rounds} round(s), ${m.gossip.messagesQueued} message(s) queued, ${m.gossip.queueDepth} waiting`,
    ],
    ['user messages', `${m.userMessages.in} in, ${m.userMessages.out} out`],
    ['dropped', dropped.length > 0 ? dropped.join(', ') : 'none'],
  ];
}

export function metricsCommands(peer: ChatPeer): CommandSpec[] {
  return [
    {
      name: 'metrics',
      group: 'memberlist',
      usage: 'metrics [--json]',
      description:
        'memberlist counters: members by state, health, probes, suspicions, flaps, traffic, drops',
      ...jsonOption,
      run(args, { out }) {
        const json = jsonFlag(args);
        const m = peer.requireMemberlist().metrics();
        if (json) out.text(JSON.stringify(m));
        else {
          const table = formatTable([{ header: 'Metric' }, { header: 'Value' }], metricsRows(m));
          for (const line of table) out.text(line);
        }
      },
    },
  ];
}
