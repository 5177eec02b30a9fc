// Events of the node line protocol (and of docs/node-line-protocol-extensions.md).
import type { MemberNode } from '@isopeer/memberlist';

/** One output line: `event` names it; `ts` is added when it is emitted. */
export type NodeEvent = { event: string } & Record<string, unknown>;

export type Emit = (ev: NodeEvent) => void;

/** Unix time in milliseconds, with fractions. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

const text = new TextDecoder();

export function metaText(meta: Uint8Array | null): string {
  return meta ? text.decode(meta) : '';
}

/** The fields a membership event or member entry reports about a node. */
export function nodeFields(n: MemberNode): Record<string, unknown> {
  return {
    name: n.name,
    addr: n.addr,
    port: n.port,
    meta: metaText(n.meta),
    state: n.state,
    incarnation: n.incarnation,
  };
}
