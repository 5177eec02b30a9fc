// Small multi-process clusters for the interop tests: one process per node, each joining the
// first, so Go and TypeScript nodes can be mixed in any order.
import { type Impl, LineNode, type LineNodeOptions, waitForStates } from './line-node.js';

export interface ClusterSpec {
  /** Implementation of each node, in start order; names are `${prefix}-${impl}${index}`. */
  impls: Impl[];
  prefix: string;
  /** A running cluster to join; the new nodes then also wait to be seen by all of it. */
  existing?: LineNode[];
  /** Join only this node (or the first node started) instead of every earlier node. */
  seed?: LineNode | 'first';
  /** Extra options for every node. */
  options?: Partial<LineNodeOptions>;
  convergeTimeoutMs?: number;
}

/**
 * Starts the nodes and waits until all of them and `existing` see each other alive. By default
 * each node joins every earlier node: memberlist 0.2.2 re-gossips an alive only a couple of
 * times in a small cluster, so a burst of single-seed joins can leave a node unknown to some
 * peers until the next push/pull, 15-30 s later (issue 3 measures this for Go).
 */
export async function startCluster(spec: ClusterSpec): Promise<LineNode[]> {
  const nodes: LineNode[] = [];
  for (const [i, impl] of spec.impls.entries()) {
    const earlier = [...(spec.existing ?? []), ...nodes];
    const seed = spec.seed === 'first' ? earlier[0] : spec.seed;
    const join = seed ? [seed] : earlier;
    nodes.push(
      await LineNode.start({
        ...spec.options,
        impl,
        name: `${spec.prefix}-${impl}${i}`,
        join: join.length ? join.map((n) => n.address()) : undefined,
      }),
    );
  }
  const all = [...(spec.existing ?? []), ...nodes];
  await waitForStates(all, names(all), 'alive', spec.convergeTimeoutMs ?? 15_000);
  return nodes;
}

export function names(nodes: LineNode[]): string[] {
  return nodes.flatMap((n) => n.names);
}

/** The names a node lists as alive, asked through the `members` command. */
export async function membersOf(node: LineNode): Promise<string[]> {
  const list = await node.members();
  return list
    .filter((m) => m.state === 'alive')
    .map((m) => m.name)
    .sort();
}
