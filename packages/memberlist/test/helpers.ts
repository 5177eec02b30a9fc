// Test helpers: fast configs, waiting for conditions with deadlines, in-memory clusters.
import { seededRandom, VirtualClock } from '../src/clock.js';
import { type Config, defaultLocalConfig } from '../src/config.js';
import type { MemberlistHooks } from '../src/context.js';
import { createMemberlist, type Memberlist } from '../src/memberlist.js';
import { MemoryNetwork } from '../src/transport/memory-transport.js';

/** Local preset on loopback with an ephemeral port. */
export function loopbackConfig(name: string, over: Partial<Config> = {}): Config {
  return { ...defaultLocalConfig(), name, bindAddr: '127.0.0.1', bindPort: 0, ...over };
}

/** Polls `cond` every 10 ms until it holds; rejects with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function aliveNames(m: Memberlist): string[] {
  return m
    .members()
    .filter((x) => x.state === 'alive')
    .map((x) => x.name)
    .sort();
}

export interface SimCluster {
  clock: VirtualClock;
  net: MemoryNetwork;
  nodes: Memberlist[];
  /** Advances virtual time until cond holds; false if maxMs passed first. */
  runUntil(cond: () => boolean, maxMs: number): Promise<boolean>;
  shutdown(): Promise<void>;
}

/**
 * `n` nodes on one in-memory network with a virtual clock; node i > 0 joins node 0 (all
 * joins issued at virtual time 0, like a burst of process starts).
 */
export async function simCluster(
  n: number,
  opts: {
    seed?: number;
    config?: Partial<Config>;
    configFor?: (i: number) => Partial<Config>;
    hooks?: (i: number) => MemberlistHooks;
    join?: boolean;
  } = {},
): Promise<SimCluster> {
  const clock = new VirtualClock();
  const seed = opts.seed ?? 1;
  const net = new MemoryNetwork({ clock, seed });
  const nodes: Memberlist[] = [];
  for (let i = 0; i < n; i++) {
    const transport = net.createTransport();
    const m = await createMemberlist(
      { ...defaultLocalConfig(), name: `n${i}`, ...opts.config, ...opts.configFor?.(i) },
      { ...opts.hooks?.(i), transport, clock, random: seededRandom(seed * 7919 + i) },
    );
    nodes.push(m);
  }
  if (opts.join !== false) {
    const seedAddr = nodes[0].advertiseAddress;
    // In-memory push/pulls complete without the clock moving, so these joins settle at once.
    await Promise.all(nodes.slice(1).map((m) => m.join([seedAddr])));
  }
  return {
    clock,
    net,
    nodes,
    runUntil: (cond, maxMs) => clock.runUntil(cond, maxMs),
    shutdown: async () => {
      await Promise.all(nodes.map((m) => m.shutdown()));
    },
  };
}

/** Whether every node in `nodes` sees exactly `expected` alive members. */
export function converged(nodes: Memberlist[], expected: number): boolean {
  return nodes.every((m) => m.members().filter((x) => x.state === 'alive').length === expected);
}
