// Gossip broadcasts are probabilistic by design: with the local preset a node transmits an
// application broadcast at most 2 × ceil(log10(n+1)) times, so in a 4-5 node cluster a single
// broadcast misses some node now and then, in Go exactly as in TS (measured in
// bench/memberlist/interop-notes.md, note 1). Tests that need "broadcasts from X reach
// everyone" use this: re-broadcast under a new id until every receiver has one of them.
import type { LineNode } from './line-node.js';

/** One node of a process (several with --count). */
export interface Receiver {
  node: LineNode;
  self: string;
}

export function receiversOf(nodes: LineNode[], except?: string): Receiver[] {
  return nodes.flatMap((node) =>
    node.names.filter((self) => self !== except).map((self) => ({ node, self })),
  );
}

/**
 * Broadcasts `<prefix>-<attempt>` from node `from` of `sender` until every receiver has reported
 * a broadcast from it starting with `prefix`; waits `perAttemptMs` per attempt. Resolves with the
 * number of attempts; rejects naming the nodes that never got one.
 */
export async function broadcastUntilDelivered(
  sender: LineNode,
  from: string,
  receivers: Receiver[],
  prefix: string,
  attempts = 6,
  perAttemptMs = 2_000,
): Promise<number> {
  const got = (r: Receiver) =>
    r.node.events.some(
      (e) =>
        e.event === 'msg' &&
        e.kind === 'broadcast' &&
        e.self === r.self &&
        e.from === from &&
        String(e.data).startsWith(prefix),
    );
  const index = sender.names.indexOf(from);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    await sender.request(`broadcast ${prefix}-${attempt}`, 'broadcast-queued', 10_000, index);
    const delivered = await Promise.all(
      receivers.map((r) =>
        r.node
          .until(() => got(r), perAttemptMs, `${prefix} at ${r.self}`)
          .then(
            () => true,
            () => false,
          ),
      ),
    );
    if (delivered.every(Boolean)) return attempt;
  }
  const missing = receivers.filter((r) => !got(r)).map((r) => r.self);
  throw new Error(`${prefix}: no broadcast from ${from} reached ${missing.join(', ')}`);
}
