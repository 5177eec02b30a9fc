// Drives one node process (the Go reference peer or `isopeer node`) over the node line protocol:
// JSON events in, commands out. Every wait is on a condition with a deadline; every child is
// tracked so it is killed even when a test fails half-way.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { goPeerBinary } from './go-peer.js';
import { isopeerCli } from './paths.js';

export type Impl = 'go' | 'ts';

export interface LineNodeOptions {
  impl: Impl;
  name: string;
  join?: string[];
  config?: 'local' | 'lan' | 'wan';
  meta?: string;
  keys?: string[];
  count?: number;
  bind?: string;
  port?: number;
  /** Further flags, appended as given (e.g. `--label X`, which only `isopeer node` has). */
  extraArgs?: string[];
  /** Extra environment for the child. */
  env?: Record<string, string>;
  /** Run the node inside this network namespace (`ip netns exec`; the pid stays the node's). */
  netns?: string;
  /** How long to wait for every `ready` (default 20 s). */
  readyTimeoutMs?: number;
}

/** One parsed output line; `event` names it, the rest are its fields. */
export interface LineEvent {
  event: string;
  ts: number;
  self?: string;
  name?: string;
  [field: string]: unknown;
}

export interface MemberInfo {
  name: string;
  addr: string;
  port: number;
  state: string;
  meta: string;
}

const live = new Set<LineNode>();
process.on('exit', () => {
  for (const n of live) n.forceKill();
});
// A test runner that times a file out sends SIGTERM; take the children along, then die of the
// same signal as we would have without this handler.
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    for (const n of live) n.forceKill();
    process.kill(process.pid, sig);
  });
}

const STDERR_KEEP = 200;

export class LineNode extends EventEmitter {
  readonly events: LineEvent[] = [];
  readonly stderrTail: string[] = [];
  /** Per reporting node: last known state of every other node, from join/leave/update events. */
  readonly views = new Map<string, Map<string, string>>();
  /** Node names of this process, in order (K of them with --count K). */
  readonly names: string[] = [];
  readonly addresses = new Map<string, string>();
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly closed: Promise<void>;

  private constructor(
    readonly opts: LineNodeOptions,
    command: string,
    args: string[],
  ) {
    super();
    this.setMaxListeners(0);
    if (opts.netns) [command, args] = ['ip', ['netns', 'exec', opts.netns, command, ...args]];
    this.child = spawn(command, args, {
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    live.add(this);
    this.child.stdin.on('error', () => {}); // a dead child's closed pipe is reported by `exit`
    createInterface({ input: this.child.stdout }).on('line', (line) => this.onLine(line));
    createInterface({ input: this.child.stderr }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_KEEP) this.stderrTail.shift();
    });
    this.closed = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.exited = { code, signal };
        live.delete(this);
        this.emit('change');
        resolve();
      });
    });
    this.child.on('error', (e) => {
      this.stderrTail.push(`spawn error: ${e.message}`);
    });
  }

  static async start(opts: LineNodeOptions): Promise<LineNode> {
    const args = ['--name', opts.name, '--bind', opts.bind ?? '127.0.0.1'];
    args.push('--port', String(opts.port ?? 0), '--config', opts.config ?? 'local');
    if (opts.join?.length) args.push('--join', opts.join.join(','));
    if (opts.meta !== undefined) args.push('--meta', opts.meta);
    for (const k of opts.keys ?? []) args.push('--key', k);
    if (opts.count !== undefined) args.push('--count', String(opts.count));
    args.push(...(opts.extraArgs ?? []));
    // ISOPEER_TEST_TS_AS_GO=1 runs 'ts' nodes as Go peers: it checks the interop tests
    // themselves against a known-good implementation.
    const asGo = opts.impl === 'go' || process.env.ISOPEER_TEST_TS_AS_GO === '1';
    const node = asGo
      ? new LineNode(opts, await goPeerBinary(), args)
      : new LineNode(opts, process.execPath, [isopeerCli, 'node', ...args]);
    const want = opts.count ?? 1;
    await node.until(
      () => node.names.length >= want,
      opts.readyTimeoutMs ?? 20_000,
      `${want} ready event(s)`,
    );
    return node;
  }

  /** The first node's name. */
  get name(): string {
    return this.names[0];
  }

  /** `host:port` of the first (or the named) node, for --join. */
  address(name = this.name): string {
    const a = this.addresses.get(name);
    if (!a) throw new Error(`${this.label()}: no ready event for ${name}`);
    return a;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  label(): string {
    return `${this.opts.impl}:${this.opts.name}`;
  }

  private onLine(line: string): void {
    let ev: LineEvent;
    try {
      ev = JSON.parse(line) as LineEvent;
    } catch {
      this.stderrTail.push(`(non-JSON stdout) ${line}`);
      return;
    }
    if (typeof ev !== 'object' || ev === null || typeof ev.event !== 'string') {
      this.stderrTail.push(`(stdout line without event) ${line}`);
      return;
    }
    this.events.push(ev);
    if (ev.event === 'ready' && typeof ev.name === 'string') {
      this.names.push(ev.name);
      const host = String(ev.addr).includes(':') ? `[${ev.addr}]` : String(ev.addr);
      this.addresses.set(ev.name, `${host}:${ev.port}`);
    }
    if (
      (ev.event === 'join' || ev.event === 'leave' || ev.event === 'update') &&
      typeof ev.self === 'string' &&
      typeof ev.name === 'string'
    ) {
      let view = this.views.get(ev.self);
      if (!view) {
        view = new Map();
        this.views.set(ev.self, view);
      }
      const state =
        typeof ev.state === 'string' ? ev.state : ev.event === 'leave' ? 'dead' : 'alive';
      view.set(ev.name, state);
    }
    this.emit('event', ev);
    this.emit('change');
  }

  /** Current states seen by `self` (default: the first node), from membership events. */
  view(self = this.name): Map<string, string> {
    return this.views.get(self) ?? new Map();
  }

  /** Resolves when check() holds, re-checked on every event; rejects with a trace on timeout. */
  until(check: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<void> {
    return new Promise((resolve, reject) => {
      const onChange = () => {
        let ok = false;
        try {
          ok = check();
        } catch (e) {
          finish(e instanceof Error ? e : new Error(String(e)));
          return;
        }
        if (ok) finish();
        else if (this.exited) finish(new Error(`exited (${JSON.stringify(this.exited)})`));
      };
      const timer = setTimeout(
        () => finish(new Error(`timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      const finish = (err?: Error) => {
        clearTimeout(timer);
        this.off('change', onChange);
        if (err) {
          const desc = typeof what === 'string' ? what : what();
          reject(
            new Error(`${this.label()}: waiting for ${desc}: ${err.message}\n${this.trace()}`),
          );
        } else resolve();
      };
      this.on('change', onChange);
      onChange();
    });
  }

  /**
   * The first event (at index >= since) matching the predicate, waiting up to timeoutMs for it.
   * Use mark() before sending a command to wait only for its answer.
   */
  async waitFor(
    predicate: (ev: LineEvent) => boolean,
    timeoutMs: number,
    what = 'a matching event',
    since = 0,
  ): Promise<LineEvent> {
    let found: LineEvent | undefined;
    let scanned = since;
    await this.until(
      () => {
        for (; scanned < this.events.length; scanned++) {
          if (predicate(this.events[scanned])) {
            found = this.events[scanned];
            return true;
          }
        }
        return false;
      },
      timeoutMs,
      what,
    );
    return found!;
  }

  /** Index of the next event, for waitFor(..., since). */
  mark(): number {
    return this.events.length;
  }

  send(command: string): void {
    if (this.exited || !this.child.stdin.writable) {
      throw new Error(`${this.label()}: cannot send ${JSON.stringify(command)}: process is gone`);
    }
    this.child.stdin.write(`${command}\n`);
  }

  /** Closes the child's stdin (the protocol's end of input). */
  endInput(): void {
    this.child.stdin.end();
  }

  /** Sends a command and waits for its answer event (`self` = the addressed node). */
  async request(command: string, answer: string, timeoutMs = 10_000, node = 0): Promise<LineEvent> {
    const since = this.mark();
    const self = this.names[node];
    this.send(this.opts.count !== undefined ? `@${node} ${command}` : command);
    return this.waitFor(
      (ev) => ev.event === answer && (ev.self === undefined || ev.self === self),
      timeoutMs,
      `'${answer}' answering '${command}'`,
      since,
    );
  }

  async members(node = 0): Promise<MemberInfo[]> {
    const ev = await this.request('members', 'members', 10_000, node);
    return ev.members as MemberInfo[];
  }

  /** Every event whose fields include all of `fields`. */
  find(event: string, fields: Record<string, unknown> = {}): LineEvent[] {
    return this.events.filter(
      (ev) => ev.event === event && Object.entries(fields).every(([k, v]) => ev[k] === v),
    );
  }

  kill(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT' | 'SIGTERM'): void {
    if (!this.exited) this.child.kill(signal);
  }

  forceKill(): void {
    if (!this.exited) {
      this.child.kill('SIGCONT');
      this.child.kill('SIGKILL');
    }
  }

  /** Shuts the node down (SIGTERM, then SIGKILL after graceMs) and waits for it to exit. */
  async close(graceMs = 3_000): Promise<void> {
    if (!this.exited) {
      this.child.kill('SIGCONT'); // a stopped process cannot handle SIGTERM
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.forceKill(), graceMs);
      await this.closed;
      clearTimeout(t);
    }
  }

  /** Waits for the process to exit on its own. */
  async exit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    await this.until(() => this.exited !== undefined, timeoutMs, 'process exit');
    return this.exited!;
  }

  trace(lines = 40): string {
    const ev = this.events.slice(-lines).map((e) => `  out: ${JSON.stringify(e)}`);
    const err = this.stderrTail.slice(-15).map((l) => `  err: ${l}`);
    return `--- last events of ${this.label()} ---\n${ev.join('\n')}\n${err.join('\n')}`;
  }
}

/** Kills every node still running (for `after` hooks). */
export async function closeAll(): Promise<void> {
  await Promise.all([...live].map((n) => n.close()));
}

/** Waits until every node in `nodes` sees every name in `names` in the given state. */
export async function waitForStates(
  nodes: LineNode[],
  names: string[],
  state: string,
  timeoutMs: number,
): Promise<void> {
  await Promise.all(
    nodes.flatMap((n) =>
      n.names.map((self) =>
        n.until(
          () => names.every((x) => n.view(self).get(x) === state),
          timeoutMs,
          () =>
            `${self} to see ${names.join(',')} ${state} (sees ${JSON.stringify([...n.view(self)])})`,
        ),
      ),
    ),
  );
}
