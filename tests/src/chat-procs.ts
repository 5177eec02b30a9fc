// Real `isopeer chat` and `isopeer bootstrap-server` processes for the chat end-to-end tests and
// the chat benchmark. Every wait is on output lines with a deadline; every child is tracked and
// killed at exit even when a test fails half-way.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { isopeerCli } from '../support/paths.js';

const live = new Set<Proc>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});
// A harness stopped by a signal takes its children with it (the 'exit' handler does not run then).
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    for (const p of live) p.kill('SIGKILL');
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

export interface Line {
  text: string;
  /** performance.now() when the line arrived */
  at: number;
}

class Proc extends EventEmitter {
  readonly lines: Line[] = [];
  readonly stderr: string[] = [];
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  protected readonly child: ChildProcessWithoutNullStreams;
  readonly done: Promise<void>;

  constructor(
    readonly label: string,
    args: string[],
    env: NodeJS.ProcessEnv,
  ) {
    super();
    this.setMaxListeners(0);
    this.child = spawn(process.execPath, [isopeerCli, ...args], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    live.add(this);
    this.child.stdin.on('error', () => {});
    createInterface({ input: this.child.stdout }).on('line', (text) => {
      const line = { text, at: performance.now() };
      this.lines.push(line);
      this.emit('line', line);
    });
    createInterface({ input: this.child.stderr }).on('line', (l) => {
      this.stderr.push(l);
      if (this.stderr.length > 100) this.stderr.shift();
    });
    this.done = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        live.delete(this);
        this.emit('exit');
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.exited) this.child.kill(signal);
  }

  /** Stops the process (SIGTERM, then SIGKILL after `graceMs`) and waits for it to exit. */
  async stop(graceMs = 3_000): Promise<void> {
    if (this.exited) return;
    this.kill('SIGTERM');
    const t = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await this.done;
    clearTimeout(t);
  }

  count(match: (text: string) => boolean, from = 0): number {
    let n = 0;
    for (let i = from; i < this.lines.length; i++) if (match(this.lines[i]!.text)) n++;
    return n;
  }

  /** Waits until at least `n` lines (from index `from`) match; returns the n-th match. */
  waitFor(
    match: string | ((text: string) => boolean),
    opts: { n?: number; from?: number; timeoutMs?: number } = {},
  ): Promise<Line> {
    const pred = typeof match === 'string' ? (t: string) => t.startsWith(match) : match;
    const n = opts.n ?? 1;
    const from = opts.from ?? 0;
    const timeoutMs = opts.timeoutMs ?? 20_000;
    return new Promise((resolve, reject) => {
      let seen = 0;
      const check = (line: Line, index: number) => {
        if (index >= from && pred(line.text) && ++seen === n) {
          cleanup();
          resolve(line);
          return true;
        }
        return false;
      };
      const onLine = (line: Line) => check(line, this.lines.length - 1);
      const onExit = () => {
        cleanup();
        reject(
          new Error(
            `${this.label} exited (${JSON.stringify(this.exited)}) before ${describe(match)}\n${this.tail()}`,
          ),
        );
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `${this.label}: no ${n}× ${describe(match)} within ${timeoutMs} ms\n${this.tail()}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('line', onLine);
        this.off('exit', onExit);
      };
      for (let i = 0; i < this.lines.length; i++) if (check(this.lines[i]!, i)) return;
      if (this.exited) return onExit();
      this.on('line', onLine);
      this.on('exit', onExit);
    });
  }

  tail(n = 30): string {
    const out = this.lines.slice(-n).map((l) => `  | ${l.text}`);
    const err = this.stderr.slice(-10).map((l) => `  ! ${l}`);
    return [...out, ...err].join('\n');
  }
}

function describe(match: string | ((t: string) => boolean)): string {
  return typeof match === 'string' ? JSON.stringify(match) : 'matching line';
}

let marker = 0;
const nextMarker = () => `__end_${process.pid}_${++marker}__`;

/** One record of a peer's log file (`--log`): JSON with `ts`, `level`, `subsystem`, `msg`, fields. */
export interface LogLine {
  level: string;
  subsystem: string;
  msg: string;
  [field: string]: unknown;
}

export class ChatProc extends Proc {
  /** The peer's log file, when started with `--log FILE`. */
  readonly logFile: string | undefined;

  constructor(
    readonly name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
  ) {
    super(name, ['chat', name, ...args], env);
    const i = args.indexOf('--log');
    this.logFile = i >= 0 ? args[i + 1] : undefined;
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Closes the peer's standard input (end of piped input). */
  endInput(): void {
    this.child.stdin.end();
  }

  /** Runs a command and returns the lines it printed (delimited by an /echo marker). */
  async command(line: string, timeoutMs = 20_000): Promise<string[]> {
    const from = this.lines.length;
    this.send(line);
    const end = await this.#echoMarker(from, timeoutMs);
    const texts = this.lines.slice(from).map((l) => l.text);
    return texts.slice(0, texts.indexOf(end));
  }

  /**
   * Resolves once every line the peer printed before this call has been read here: the peer
   * prints in order, so its answer to an /echo sent now comes after all of them.
   */
  async flush(timeoutMs = 20_000): Promise<void> {
    await this.#echoMarker(this.lines.length, timeoutMs);
  }

  /** Sends `/echo MARKER` and waits for it (from line index `from`); returns the marker. */
  async #echoMarker(from: number, timeoutMs: number): Promise<string> {
    const end = nextMarker();
    this.send(`/echo ${end}`);
    await this.waitFor((t) => t === end, { from, timeoutMs });
    return end;
  }

  /** The complete records in the log file so far (a record still being written is left out). */
  logRecords(): LogLine[] {
    if (!this.logFile) throw new Error(`${this.label} was started without --log`);
    let text: string;
    try {
      text = readFileSync(this.logFile, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    return complete
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as LogLine);
  }

  /** Waits until the log file holds a record matching `match`; returns the first such record. */
  async waitForLog(
    what: string,
    match: (r: LogLine) => boolean,
    timeoutMs = 20_000,
  ): Promise<LogLine> {
    let found: LogLine | undefined;
    await until(
      `${this.label}: ${what} in its log`,
      () => {
        found = this.logRecords().find(match);
        return found !== undefined || this.exited !== undefined;
      },
      timeoutMs,
    );
    if (!found) throw new Error(`${this.label} exited before ${what} was logged\n${this.tail()}`);
    return found;
  }

  /** Waits for the end of `/init` (the chat listener line). */
  ready(timeoutMs = 30_000): Promise<Line> {
    return this.waitFor('chat listening on', { timeoutMs });
  }
}

export class BootstrapProc extends Proc {
  url = '';

  static async start(env: NodeJS.ProcessEnv, extra: string[] = []): Promise<BootstrapProc> {
    const p = new BootstrapProc(
      'bootstrap-server',
      ['bootstrap-server', '--port', '0', '--store', 'memory', ...extra],
      env,
    );
    const first = await p.waitFor('listening on', { timeoutMs: 20_000 });
    p.url = /listening on (\S+)/.exec(first.text)![1]!;
    return p;
  }

  /** Request log lines (`ISO-TIME METHOD PATH STATUS ...`) for `path`, from line index `from`. */
  requests(path: string, from = 0): number {
    return this.count((t) => t.split(' ')[2] === path, from);
  }

  /**
   * Resolves once the request log holds every request answered before this call: the server
   * logs a request when it answers it, in order, so the line of a marker request sent now (an
   * unknown path, refused) comes after all of them.
   */
  async flush(timeoutMs = 20_000): Promise<void> {
    const path = `/${nextMarker()}`;
    const from = this.lines.length;
    const res = await fetch(new URL(path, this.url), { method: 'POST' });
    await res.arrayBuffer();
    await this.waitFor((t) => t.split(' ')[2] === path, { from, timeoutMs });
  }

  async call(
    path: string,
    body = '',
  ): Promise<{
    Config: Record<string, number>;
    Peers: Record<string, { id: string; name: string }>;
  }> {
    const res = await fetch(new URL(path, this.url), {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json() as Promise<{
      Config: Record<string, number>;
      Peers: Record<string, { id: string; name: string }>;
    }>;
  }
}

/** A port that was free a moment ago (for services that must listen on a chosen port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The environment for children: no inherited bootstrap or test settings. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  for (const k of ['BOOTSTRAP_DATA_SERVER', 'TEST_SIDECAR_SERVER', 'ISOPEER_LOCAL_BOOTSTRAP_URL']) {
    if (!(k in extra)) delete env[k];
  }
  return env;
}

/**
 * A chat peer that joins through the bootstrap service at `url`, its state in
 * `<stateRoot>/<name>`; resolves once it is ready (stopped again if it never gets there).
 */
export async function readyPeer(name: string, url: string, stateRoot: string): Promise<ChatProc> {
  const p = new ChatProc(
    name,
    ['--bootstrap', url, '--state-dir', join(stateRoot, name)],
    cleanEnv({}),
  );
  try {
    await p.ready();
  } catch (e) {
    await p.stop();
    throw e;
  }
  return p;
}

/** Polls `cond` until true or the deadline passes. */
export async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
