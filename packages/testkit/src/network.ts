import type { FaultChange, FaultLog, NetFaults } from './faults.js';
import { parseRange } from './netns/addresses.js';
import { NetnsMesh } from './netns/mesh.js';
import { netnsUnsupported } from './netns/support.js';
import type { PeerSpawnSpec } from './peer-process.js';
import type { Status } from './protocol.js';
import type { TestRun } from './run.js';

/**
 * How peers are networked. `netns`: each peer in its own network namespace with its own address,
 * faults applied by the kernel. `loopback`: every peer on 127.0.0.1, faults only as far as the
 * peers cooperate (`testpartition`). `auto` takes netns when it is available.
 */
export type NetMode = 'auto' | 'netns' | 'loopback';

export interface NetworkOptions {
  mode: NetMode;
  /** Address range of the namespaces; default 198.18.0.0/15. */
  range?: string;
  /** Claim files of the runners on this machine; default /run/isopeer/netns. */
  stateDir?: string;
}

/** What the runner says about the network it set up (one line in the CLI). */
export type NetworkInfo =
  | { mode: 'netns'; subnet: string; host: string; namespaces: string }
  | { mode: 'loopback'; reason?: string };

/** The peers' network for one runner: addresses, how to start a peer in it, how to break it. */
export interface PeerNetwork {
  readonly info: NetworkInfo;
  /** Where the test server and bootstrap service listen so that every peer reaches them. */
  readonly hostAddress: string;
  addPeers(peers: readonly string[]): Promise<void>;
  address(peer: string): string;
  wrap(peer: string, spec: PeerSpawnSpec): PeerSpawnSpec;
  /**
   * Makes `change` (from `faults.apply(line)`) real; resolves with the line's outcome. `run`
   * carries the loopback mode's `testpartition` control lines.
   */
  applyFaults(
    faults: NetFaults,
    change: FaultChange,
    run: TestRun,
  ): Promise<{ status: Status; comment?: string }>;
  removePeers(): Promise<void>;
  close(): Promise<void>;
}

/** The runner was told to use network namespaces and cannot. */
export class NetworkUnavailableError extends Error {
  readonly code = 'NETNS_UNAVAILABLE';
}

export async function openNetwork(
  opts: NetworkOptions,
  controlTimeoutMs: number,
): Promise<PeerNetwork> {
  if (opts.mode === 'loopback') return new LoopbackNetwork(controlTimeoutMs);
  // A bad range is the caller's mistake, not a reason to fall back.
  if (opts.range !== undefined) parseRange(opts.range);
  const why = await netnsUnsupported();
  if (why) {
    if (opts.mode === 'netns') throw new NetworkUnavailableError(`--net netns: ${why}`);
    return new LoopbackNetwork(controlTimeoutMs, why);
  }
  try {
    return new NamespaceNetwork(
      await NetnsMesh.create({ range: opts.range, stateDir: opts.stateDir }),
    );
  } catch (err) {
    const reason = `network namespaces could not be set up: ${(err as Error).message}`;
    if (opts.mode === 'netns') throw new NetworkUnavailableError(reason);
    return new LoopbackNetwork(controlTimeoutMs, reason);
  }
}

class NamespaceNetwork implements PeerNetwork {
  readonly info: NetworkInfo;
  private readonly mesh: NetnsMesh;

  constructor(mesh: NetnsMesh) {
    this.mesh = mesh;
    this.info = {
      mode: 'netns',
      subnet: mesh.block.subnet,
      host: mesh.hostAddress,
      namespaces: `${mesh.names.hub}-*`,
    };
  }

  get hostAddress(): string {
    return this.mesh.hostAddress;
  }

  addPeers(peers: readonly string[]): Promise<void> {
    return this.mesh.addPeers(peers);
  }

  address(peer: string): string {
    return this.mesh.address(peer);
  }

  wrap(peer: string, spec: PeerSpawnSpec): PeerSpawnSpec {
    return this.mesh.spawnSpec(peer, spec);
  }

  async applyFaults(faults: NetFaults, change: FaultChange) {
    try {
      await this.mesh.applyFaults(faults, change);
      return { status: 'OK' as const };
    } catch (err) {
      return { status: 'FAILED' as const, comment: (err as Error).message };
    }
  }

  removePeers(): Promise<void> {
    return this.mesh.removePeers();
  }

  close(): Promise<void> {
    return this.mesh.destroy();
  }
}

class LoopbackNetwork implements PeerNetwork {
  readonly info: NetworkInfo;
  readonly hostAddress = '127.0.0.1';
  private readonly controlTimeoutMs: number;

  constructor(controlTimeoutMs: number, reason?: string) {
    this.controlTimeoutMs = controlTimeoutMs;
    this.info = { mode: 'loopback', ...(reason ? { reason } : {}) };
  }

  async addPeers(): Promise<void> {}

  address(): string {
    return '127.0.0.1';
  }

  wrap(_peer: string, spec: PeerSpawnSpec): PeerSpawnSpec {
    return spec;
  }

  /**
   * Two-way cuts only (the runner refuses scripts with other network faults on loopback): each
   * side is asked to drop the other's traffic itself, `testpartition <peer> on|off`.
   */
  async applyFaults(_faults: NetFaults, change: FaultChange, run: TestRun) {
    const asks: [string, string][] = [];
    for (const [a, b] of change.cut)
      asks.push([a, `testpartition ${b} on`], [b, `testpartition ${a} on`]);
    for (const [a, b] of change.uncut)
      asks.push([a, `testpartition ${b} off`], [b, `testpartition ${a} off`]);
    const results = await Promise.all(
      asks.map(([peer, command]) => run.control(peer, command, this.controlTimeoutMs)),
    );
    const failed = results
      .map((r, i) => (r.status === 'OK' ? '' : `${asks[i][0]}: ${r.error ?? 'failed'}`))
      .filter(Boolean);
    return failed.length
      ? { status: 'FAILED' as const, comment: failed.join('; ') }
      : { status: 'OK' as const };
  }

  async removePeers(): Promise<void> {}

  async close(): Promise<void> {}
}

/** The text of a fault's log entry on one lane, e.g. `@partition alice -> bob: alice→bob cut`. */
export function faultLogText(lineText: string, log: FaultLog): string {
  const f = log.fault;
  const link = f.from && f.to ? `${f.from}${f.oneWay ? '→' : '–'}${f.to}` : '';
  switch (f.kind) {
    case 'partition':
      return `${lineText}: ${link} cut`;
    case 'isolate':
      return `${lineText}: ${f.peer} cut from every peer`;
    case 'loss':
      return `${lineText}: ${f.percent}% of packets ${link ? `on ${link}` : `from ${f.peer}`} dropped`;
    case 'rate':
      return `${lineText}: ${f.peer} sends at most ${f.rate}`;
    case 'heal':
      return `${lineText}: ${link || (f.peer ? `every fault of ${f.peer}` : 'every fault')} removed`;
  }
}
