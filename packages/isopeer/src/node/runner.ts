// Runs the nodes of one `isopeer node` process (K of them with --count) and executes line
// protocol commands against them. Output goes through `emit`; the CLI decides where it lands.
import { Buffer } from 'node:buffer';
import { META_MAX_SIZE } from '@isopeer/memberlist';
import { type Emit, type NodeEvent, nowMs } from './events.js';
import type { NodeOptions } from './options.js';
import { splitAddresses } from './options.js';
import { NodePeer } from './peer.js';
import { DEFAULT_JOIN_POLICY, Window } from './startup-joins.js';

const COMMANDS =
  'members, broadcast, send, sendbest, meta, health, stats, join, leave, key, verify, shutdown';

export class NodeRunner {
  readonly peers: NodePeer[] = [];
  private stopping: Promise<void> | undefined;
  private convergedCount = 0;
  /** Resolves after shutdown; the reason is the one of the first shutdown request. */
  readonly done: Promise<string>;
  private resolveDone!: (reason: string) => void;
  private readonly emit: Emit;
  private forcedReason: string | undefined;
  private resolveForced!: () => void;
  private readonly forced = new Promise<void>((r) => {
    this.resolveForced = r;
  });

  private constructor(sink: (ev: NodeEvent) => void) {
    this.emit = (ev) => sink({ ...ev, ts: nowMs() });
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
  }

  /**
   * Starts every node (node i > 0 joins node 0; node 0 joins --join) without waiting for joins;
   * with --count the joins are paced and retried, and node i's starts i × --join-stagger-ms later.
   */
  static async start(opts: NodeOptions, sink: (ev: NodeEvent) => void): Promise<NodeRunner> {
    const r = new NodeRunner(sink);
    const count = opts.count ?? 1;
    const group =
      opts.count === undefined
        ? undefined
        : {
            size: count,
            converged: (self: string) => {
              if (++r.convergedCount === count) {
                r.emit({ event: 'all-converged', self, members: count });
              }
            },
          };
    try {
      for (let i = 0; i < count; i++) {
        const name = opts.count === undefined ? opts.name : `${opts.name}-${i}`;
        const port = opts.port === 0 ? 0 : opts.port + i;
        r.peers.push(await NodePeer.start(opts, name, port, r.emit, group));
      }
    } catch (err) {
      await Promise.all(r.peers.map((p) => p.ml.shutdown()));
      throw err;
    }
    if (opts.count === undefined) {
      if (opts.join.length > 0) void r.peers[0].join(opts.join);
      return r;
    }
    // --count: every start-up join goes through one window and is retried (startup-joins.ts).
    const window = new Window(DEFAULT_JOIN_POLICY.window);
    const alive = () => r.stopping === undefined;
    const joinRetrying = (p: NodePeer, to: string[]) =>
      void p.joinRetrying(to, window, DEFAULT_JOIN_POLICY, alive);
    if (opts.join.length > 0) joinRetrying(r.peers[0], opts.join);
    const seed = r.peers[0].ml.advertiseAddress;
    r.peers.slice(1).forEach((p, k) => {
      // --join-stagger-ms: node i = k + 1 starts its join i × MS after this point (0 = now).
      const delayMs = (k + 1) * opts.joinStaggerMs;
      if (delayMs === 0) {
        joinRetrying(p, [seed]);
        return;
      }
      // Unref'd: a pending join must not keep a process that is shutting down alive.
      setTimeout(() => {
        if (alive()) joinRetrying(p, [seed]);
      }, delayMs).unref();
    });
    return r;
  }

  private fail(message: string): void {
    this.emit({ event: 'error', message });
  }

  /** Executes one input line; never throws (bad input is answered with an `error` event). */
  command(input: string): void {
    let line = input.trim();
    if (line === '' || this.stopping) return;
    let peer = this.peers[0];
    if (line.startsWith('@')) {
      const sp = line.indexOf(' ');
      const prefix = sp < 0 ? line : line.slice(0, sp);
      const i = /^@\d+$/.test(prefix) ? Number(prefix.slice(1)) : -1;
      if (i < 0 || i >= this.peers.length) {
        this.fail(
          `bad node prefix ${JSON.stringify(prefix)}: expected @0..@${this.peers.length - 1}`,
        );
        return;
      }
      peer = this.peers[i];
      line = sp < 0 ? '' : line.slice(sp + 1).trim();
    }
    const sp = line.indexOf(' ');
    const verb = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : line.slice(sp + 1);
    try {
      const problem = this.run(peer, verb, rest);
      if (problem) this.fail(problem);
    } catch (err) {
      this.fail(`${verb}: ${(err as Error).message}`);
    }
  }

  /** Starts one command; returns what was wrong with it, if anything. */
  private run(peer: NodePeer, verb: string, rest: string): string | undefined {
    switch (verb) {
      case 'members':
        peer.members();
        return;
      case 'broadcast':
        peer.broadcast(rest);
        return;
      case 'send':
      case 'sendbest': {
        const sp = rest.indexOf(' ');
        const to = sp < 0 ? rest : rest.slice(0, sp);
        if (to === '') return `${verb} needs a node name: ${verb} <node> <text>`;
        void peer.send(verb === 'send', to, sp < 0 ? '' : rest.slice(sp + 1));
        return;
      }
      case 'meta': {
        const size = Buffer.byteLength(rest);
        if (size > META_MAX_SIZE) return `meta is ${size} bytes, the limit is ${META_MAX_SIZE}`;
        peer.setMeta(rest).catch((err: Error) => this.fail(`meta: ${err.message}`));
        return;
      }
      case 'health':
        peer.health();
        return;
      case 'stats':
        peer.stats();
        return;
      case 'join': {
        const addrs = splitAddresses(rest);
        if (addrs.length === 0) return 'join needs addresses: join H:P[,H:P...]';
        void peer.join(addrs);
        return;
      }
      case 'leave': {
        if (!/^\d+$/.test(rest.trim())) {
          return `leave needs a timeout in ms: leave <ms>, got ${JSON.stringify(rest)}`;
        }
        void peer.leave(Number(rest.trim()));
        return;
      }
      case 'key': {
        const [op, b64, extra] = rest.split(/\s+/).filter(Boolean);
        if (!op || extra !== undefined || (op !== 'list' && b64 === undefined)) {
          return 'usage: key list | key install|use|remove <base64>';
        }
        peer.key(op, b64);
        return;
      }
      case 'verify': {
        const args = rest.split(/\s+/).filter(Boolean);
        if (args.length === 0) {
          peer.verify();
          return;
        }
        const [dir, onOff] = args;
        if (
          args.length !== 2 ||
          (dir !== 'incoming' && dir !== 'outgoing') ||
          (onOff !== 'on' && onOff !== 'off')
        ) {
          return 'usage: verify [incoming|outgoing on|off]';
        }
        peer.verify(dir, onOff === 'on');
        return;
      }
      case 'shutdown':
        void this.shutdown('command');
        return;
      default:
        return `unknown command ${JSON.stringify(verb)} (${COMMANDS})`;
    }
  }

  /**
   * Shuts every node down and emits `shutdown` once. With `leaveMs` every node first leaves
   * gracefully (each emits `left`), waiting at most that long, unless `force` cuts it short.
   */
  shutdown(reason: string, opts: { leaveMs?: number } = {}): Promise<void> {
    this.stopping ??= (async () => {
      if (opts.leaveMs !== undefined) {
        const leaving = Promise.all(this.peers.map((p) => p.leave(opts.leaveMs!)));
        await Promise.race([leaving, this.forced]);
      }
      await Promise.all(this.peers.map((p) => p.ml.shutdown()));
      const why = this.forcedReason ?? reason;
      this.emit({ event: 'shutdown', reason: why });
      this.resolveDone(why);
    })();
    return this.stopping;
  }

  /** Ends a graceful shutdown in progress at once (a second Ctrl-C), or shuts down now. */
  force(reason: string): Promise<void> {
    this.forcedReason ??= reason;
    this.resolveForced();
    return this.shutdown(reason);
  }
}
