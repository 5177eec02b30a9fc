import type { FaultChange, NetFaults } from '../faults.js';
import type { PeerSpawnSpec } from '../peer-process.js';
import { type AddressRange, type Block, blockOf, DEFAULT_RANGE, parseRange } from './addresses.js';
import {
  type BlockNames,
  blockNames,
  type Claim,
  claimBlock,
  cleanStale,
  DEFAULT_STATE_DIR,
  removeBlock,
  removeNamespace,
} from './claims.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, exec, NetnsError } from './exec.js';
import { faultRuleset, PEER_DEVICE, rateCommand } from './rules.js';

export interface MeshOptions {
  /** Address range cut into one /24 block per run; default 198.18.0.0/15 (RFC 2544). */
  range?: string;
  /** Directory of the runners' claim files; default /run/isopeer/netns. */
  stateDir?: string;
  /** Longest one `ip`, `nft` or `tc` call may take; default 10 s. */
  commandTimeoutMs?: number;
}

const BRIDGE = 'br0';
/** The hub's end of the host link. */
const HUB_UPLINK = 'host';

/**
 * One network namespace per peer, all on one bridge, plus a link to the host's namespace where
 * the runner serves the test server and the bootstrap service:
 *
 *     host ns: isopeer-N (198.18.N.1) ─── hub ns isopeer-N: bridge br0 ─┬─ v1 ─ eth0 in isopeer-N-alice (.2)
 *                                                                         └─ v2 ─ eth0 in isopeer-N-bob   (.3)
 *
 * Nothing routes out: the namespaces have only their subnet's route (no default route, no NAT),
 * the bridge has no address, and a guard table in the host namespace drops anything from or to
 * the mesh that would be forwarded, and anything from the mesh addressed to another host address.
 * IPv6 is off on every mesh link (no addresses are generated), so the rules only need IPv4.
 */
export class NetnsMesh {
  readonly range: AddressRange;
  readonly block: Block;
  readonly names: BlockNames;
  private readonly claim: Claim;
  private readonly timeoutMs: number;
  private readonly peerAddress = new Map<string, string>();
  private vethCounter = 0;
  private destroyed = false;

  private constructor(range: AddressRange, claim: Claim, timeoutMs: number) {
    this.range = range;
    this.claim = claim;
    this.block = blockOf(range, claim.index);
    this.names = blockNames(claim.index);
    this.timeoutMs = timeoutMs;
  }

  /**
   * Removes what dead runners left, claims a block and builds the hub, the host link and the
   * guard. On failure everything made so far is removed again before the error is thrown.
   */
  static async create(opts: MeshOptions = {}): Promise<NetnsMesh> {
    const range = parseRange(opts.range ?? DEFAULT_RANGE);
    const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
    await cleanStale(stateDir);
    const claim = await claimBlock(range, stateDir);
    const mesh = new NetnsMesh(range, claim, opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
    try {
      await mesh.build();
    } catch (err) {
      await mesh.destroy().catch(() => {});
      throw err;
    }
    return mesh;
  }

  get hostAddress(): string {
    return this.block.host;
  }

  private ip(args: string[], input?: string) {
    return exec('ip', args, { input, timeoutMs: this.timeoutMs });
  }

  private async build(): Promise<void> {
    const { hub, hostLink, guardTable } = this.names;
    const { host, prefix } = this.block;
    await this.ip(['netns', 'add', hub]);
    await this.ip(
      ['-n', hub, '-batch', '-'],
      [
        `link add ${BRIDGE} type bridge`,
        `link set ${BRIDGE} addrgenmode none`,
        `link set ${BRIDGE} up`,
      ].join('\n'),
    );
    await this.ip(
      ['-batch', '-'],
      [
        `link add ${hostLink} type veth peer name ${HUB_UPLINK} netns ${hub}`,
        `link set ${hostLink} addrgenmode none`,
        `address add ${host}/${prefix} dev ${hostLink}`,
        `link set ${hostLink} up`,
      ].join('\n'),
    );
    await this.ip(
      ['-n', hub, '-batch', '-'],
      [
        `link set ${HUB_UPLINK} addrgenmode none`,
        `link set ${HUB_UPLINK} master ${BRIDGE}`,
        `link set ${HUB_UPLINK} up`,
      ].join('\n'),
    );
    // A drop in any base chain is final, whatever other tables accept, so this holds even on a
    // host that forwards (ip_forward=1) or has its own firewall.
    await exec('nft', ['-f', '-'], {
      timeoutMs: this.timeoutMs,
      input: [
        `table inet ${guardTable} {`,
        '  chain forward {',
        '    type filter hook forward priority -200; policy accept;',
        `    iifname "${hostLink}" drop`,
        `    oifname "${hostLink}" drop`,
        '  }',
        '  chain input {',
        '    type filter hook input priority -200; policy accept;',
        `    iifname "${hostLink}" meta nfproto ipv6 drop`,
        `    iifname "${hostLink}" ip daddr != ${host} drop`,
        '  }',
        '}',
        '',
      ].join('\n'),
    });
  }

  /** Creates a namespace with its own address for each peer, linked to the bridge. */
  async addPeers(peers: readonly string[]): Promise<void> {
    if (this.destroyed) throw new NetnsError('the namespace mesh was removed');
    const fresh = peers.filter((p) => !this.peerAddress.has(p));
    if (fresh.length === 0) return;
    const used = this.peerAddress.size;
    if (used + fresh.length > this.block.capacity) {
      throw new NetnsError(
        `${used + fresh.length} peers do not fit into ${this.block.subnet} (at most ${this.block.capacity})`,
      );
    }
    const { hub, peerNamespace } = this.names;
    const veths = fresh.map(() => `v${++this.vethCounter}`);
    for (const [i, p] of fresh.entries()) this.peerAddress.set(p, this.block.peer(used + i));
    await this.ip(['-batch', '-'], fresh.map((p) => `netns add ${peerNamespace(p)}`).join('\n'));
    await this.ip(
      ['-n', hub, '-batch', '-'],
      fresh
        .flatMap((p, i) => [
          `link add ${veths[i]} type veth peer name ${PEER_DEVICE} netns ${peerNamespace(p)}`,
          `link set ${veths[i]} addrgenmode none`,
          `link set ${veths[i]} master ${BRIDGE}`,
          `link set ${veths[i]} up`,
        ])
        .join('\n'),
    );
    await Promise.all(
      fresh.map((p) =>
        this.ip(
          ['-n', peerNamespace(p), '-batch', '-'],
          [
            'link set lo up',
            `link set ${PEER_DEVICE} addrgenmode none`,
            `address add ${this.address(p)}/${this.block.prefix} dev ${PEER_DEVICE}`,
            `link set ${PEER_DEVICE} up`,
          ].join('\n'),
        ),
      ),
    );
  }

  address(peer: string): string {
    const a = this.peerAddress.get(peer);
    if (!a) throw new NetnsError(`${peer} has no namespace`);
    return a;
  }

  get peers(): string[] {
    return [...this.peerAddress.keys()];
  }

  /**
   * Runs the peer's program inside its namespace. `ip netns exec` replaces itself with the
   * program, so the pid the runner holds is the program's and its signals reach it directly.
   */
  spawnSpec(peer: string, spec: PeerSpawnSpec): PeerSpawnSpec {
    return {
      ...spec,
      command: 'ip',
      args: ['netns', 'exec', this.names.peerNamespace(peer), spec.command, ...spec.args],
    };
  }

  /** Brings the kernel in line with `faults` for the peers `change` names. */
  async applyFaults(
    faults: NetFaults,
    change: Pick<FaultChange, 'rules' | 'rates'>,
  ): Promise<void> {
    const address = (p: string) => this.address(p);
    await Promise.all([
      ...[...change.rules].map((p) =>
        exec('ip', ['netns', 'exec', this.names.peerNamespace(p), 'nft', '-f', '-'], {
          input: faultRuleset(faults, p, address),
          timeoutMs: this.timeoutMs,
        }),
      ),
      ...[...change.rates].map((p) => {
        const rate = faults.rate(p);
        return exec(
          'ip',
          ['netns', 'exec', this.names.peerNamespace(p), 'tc', ...rateCommand(rate)],
          {
            timeoutMs: this.timeoutMs,
            // Taking away a limit that was never set is not an error worth failing a line for.
            allowFailure: rate === undefined,
          },
        );
      }),
    ]);
  }

  /** Removes every peer namespace (and whatever still runs in it); the hub stays. */
  async removePeers(): Promise<void> {
    const { peerNamespace } = this.names;
    const namespaces = this.peers.map(peerNamespace);
    this.peerAddress.clear();
    const failed: string[] = [];
    for (const ns of namespaces) {
      await removeNamespace(ns).catch((err: Error) => failed.push(err.message));
    }
    if (failed.length) throw new NetnsError(`could not remove namespaces: ${failed.join('; ')}`);
  }

  /** Removes everything this mesh created, then its claim. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.peerAddress.clear();
    const { failed } = await removeBlock(this.claim.index);
    if (failed.length) {
      // The claim stays, so the next runner's start-up cleanup tries again.
      throw new NetnsError(`could not remove: ${failed.join('; ')}`);
    }
    await this.claim.release();
  }
}
