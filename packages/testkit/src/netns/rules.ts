import type { NetFaults } from '../faults.js';
import type { NetRate } from '../script.js';

/** The device every peer namespace reaches the mesh through. */
export const PEER_DEVICE = 'eth0';
/** nftables table holding a peer's fault rules, inside its own namespace. */
export const FAULT_TABLE = 'isopeer';

/**
 * The nftables script that makes a peer's namespace drop what the faults say, as one atomic
 * transaction: the old table (if any) goes and the new one comes in the same `nft -f`.
 *
 * Rules sit on the egress hook of the peer's device, so a dropped packet has already left the
 * sending socket (the program sees no error, as with real loss) and never reaches the wire. Only
 * traffic to other peers' addresses is matched: the test server and bootstrap service on the host
 * side stay reachable, so a partitioned peer still receives and reports its script lines.
 */
export function faultRuleset(
  faults: NetFaults,
  peer: string,
  addressOf: (peer: string) => string,
): string {
  const { blocked, oneWay, loss } = faults.egress(peer);
  const lines = [`table netdev ${FAULT_TABLE}`, `delete table netdev ${FAULT_TABLE}`];
  if (blocked.length + oneWay.length + loss.length === 0) return `${lines.join('\n')}\n`;
  const set = (peers: string[]) => `{ ${peers.map(addressOf).join(', ')} }`;
  lines.push(
    `table netdev ${FAULT_TABLE} {`,
    '  chain egress {',
    `    type filter hook egress device "${PEER_DEVICE}" priority 0; policy accept;`,
  );
  if (blocked.length > 0) lines.push(`    ip daddr ${set(blocked)} drop`);
  if (oneWay.length > 0) {
    // What this peer starts: datagrams, and TCP segments opening a connection (SYN without ACK).
    lines.push(
      `    ip daddr ${set(oneWay)} meta l4proto != tcp drop`,
      `    ip daddr ${set(oneWay)} tcp flags & (syn | ack) == syn drop`,
    );
  }
  for (const [to, percent] of loss) {
    // Hundredths of a percent, so that 0.5% is exact.
    lines.push(
      `    ip daddr ${addressOf(to)} numgen random mod 10000 < ${Math.round(percent * 100)} drop`,
    );
  }
  lines.push('  }', '}');
  return `${lines.join('\n')}\n`;
}

/** Longest a packet may wait in the token bucket before tbf drops it. */
export const RATE_LATENCY_MS = 200;

/**
 * `tc` arguments that put (or, for `undefined`, take away) a token-bucket limit on everything the
 * peer sends. The bucket holds at least four full-size packets, and 10 ms of traffic at high
 * rates, so that bursts of gossip are shaped rather than cut.
 */
export function rateCommand(rate: NetRate | undefined): string[] {
  if (!rate) return ['qdisc', 'del', 'dev', PEER_DEVICE, 'root'];
  const burst = Math.max(4 * 1600, Math.ceil(rate.bitsPerSecond / 8 / 100));
  return [
    'qdisc',
    'replace',
    'dev',
    PEER_DEVICE,
    'root',
    'tbf',
    'rate',
    `${Math.round(rate.bitsPerSecond)}bit`,
    'burst',
    String(burst),
    'latency',
    `${RATE_LATENCY_MS}ms`,
  ];
}
