import { EventEmitter } from 'node:events';
import { deadlineSignal } from './abort.js';
import type { PortLine, TestConsole } from './console-port.js';
import { TestServerError } from './errors.js';
import { countSatisfied, type FilterSpec, filterMatches, formatFilter } from './filter.js';
import { TestServerClient } from './http-client.js';
import type { Dispatch, LogKind, RunDocument, Status, SummaryEntry } from './protocol.js';
import { TEST_COMMAND_NAMES, testCommands } from './test-commands.js';

export interface TestClientOptions {
  /** Base URL of the test server (the original's TEST_SIDECAR_SERVER). */
  serverUrl: string;
  /** This peer's name in the script (`alice`). */
  peerName: string;
  /** Test name: the script `NAME.cmd` the server runs. */
  scriptName: string;
  /** Timeout of one ordinary request to the server; default 5 s. */
  requestTimeoutMs?: number;
  /** How long one long-poll may be held by the server; default 20 s. */
  pollWaitMs?: number;
  /** How long the client keeps retrying when the server cannot be reached; default 10 s. */
  connectTimeoutMs?: number;
  /** How long polling may fail in a row before the client gives up (run over); default 30 s. */
  lostServerMs?: number;
  /**
   * At the end of a run, how long the client waits for this peer's filters to reach their
   * counts before it asks the server to prepare its summary; default 5 s (as the runner's settle).
   */
  summarySettleMs?: number;
}

export interface LocalFilter {
  spec: FilterSpec;
  received: number;
}

interface SeenLine {
  text: string;
  source?: string;
}

/** Lines kept for `testwait` (it counts lines seen since the client attached). */
const SEEN_LIMIT = 20_000;
/** Source written on the client's own status lines; excluded from filters like test commands. */
export const TEST_SOURCE = 'test';

export interface TestClientEvents {
  /** A script or control line was received and is about to run. */
  dispatch: [Dispatch];
  /** A line finished and its result was reported. */
  result: [Dispatch, Status, string | undefined];
  /** This peer's summary was prepared on the server at the end of the run (its entries). */
  summary: [SummaryEntry[]];
  /** The run has no more lines (and this peer's summary was asked for). */
  done: [];
  /** Something went wrong talking to the server (the client keeps going). */
  error: [Error];
}

/**
 * The peer side of a test run, made by `attachTestClient`. It asks the server for this peer's
 * lines (long-poll, so a line starts as soon as the previous one ended), runs them through the
 * console, reports results, and turns console output lines matching the registered filters into
 * events for the server.
 */
export interface TestClient extends EventEmitter<TestClientEvents> {
  /** This peer's name in the script. */
  readonly peerName: string;
  /** The script the server runs. */
  readonly scriptName: string;
  /** Resolves with the run document once `/init` succeeded; rejects if it never does. */
  readonly ready: Promise<RunDocument>;
  /** The id of the run joined, once `ready` resolved. */
  readonly runId: string | undefined;
  /** The filters registered by this peer (`testfilter`) with the lines counted so far. */
  readonly localFilters: readonly LocalFilter[];
  /** Aborts when the client is closed. */
  readonly signal: AbortSignal;
  /** `testfilter`: counts matching lines from now on and registers the filter with the server. */
  addFilter(spec: FilterSpec): Promise<void>;
  /** Matching lines seen since the client attached. */
  countSeen(spec: FilterSpec): number;
  /**
   * `testwait`: resolves with the count once the lines seen since attaching satisfy `spec`;
   * rejects on timeout, on abort, or as soon as the count has passed an upper bound.
   */
  waitFor(spec: FilterSpec, timeoutMs: number, signal?: AbortSignal): Promise<number>;
  /** Waits until every report queued so far has been sent. */
  flush(): Promise<void>;
  /** Stops polling and observing; commands stay registered but report that the client is closed. */
  close(): Promise<void>;
}

/**
 * The implementation of `TestClient`, with the test server's HTTP client that the `test*`
 * commands use. Not exported by the package: `attachTestClient` creates it.
 */
export class TestClientImpl extends EventEmitter<TestClientEvents> implements TestClient {
  /** The test server's HTTP client (for the `test*` commands). */
  readonly server: TestServerClient;
  readonly peerName: string;
  readonly scriptName: string;
  readonly ready: Promise<RunDocument>;
  private readonly console: TestConsole;
  private readonly opts: TestClientOptions;
  private readonly closer = new AbortController();
  private readonly filters: LocalFilter[] = [];
  private readonly seen: SeenLine[] = [];
  private readonly seenWaiters = new Set<() => void>();
  private posting: Promise<void> = Promise.resolve();
  private run: RunDocument = {};
  private loop: Promise<void> | undefined;

  constructor(console: TestConsole, opts: TestClientOptions) {
    super();
    this.console = console;
    this.opts = opts;
    this.peerName = opts.peerName;
    this.scriptName = opts.scriptName;
    this.server = new TestServerClient(opts.serverUrl, { timeoutMs: opts.requestTimeoutMs });
    console.on('line', this.onLine);
    this.ready = this.connect();
    // Failures surface through `ready` and 'error'; never as an unhandled rejection.
    this.ready.catch(() => {});
  }

  get runId(): string | undefined {
    return this.run.id;
  }

  get localFilters(): readonly LocalFilter[] {
    return this.filters;
  }

  get signal(): AbortSignal {
    return this.closer.signal;
  }

  private async connect(): Promise<RunDocument> {
    const deadline = Date.now() + (this.opts.connectTimeoutMs ?? 10_000);
    let delay = 50;
    for (;;) {
      try {
        this.run = await this.server.init(this.scriptName);
        this.loop = this.pollLoop();
        return this.run;
      } catch (err) {
        const refusedForGood = err instanceof TestServerError && err.status !== undefined;
        if (refusedForGood || Date.now() + delay > deadline || this.closer.signal.aborted) {
          this.fail(err as Error);
          throw err;
        }
        await this.pause(delay);
        delay = Math.min(delay * 2, 1000);
      }
    }
  }

  /** Backoff between retries of an unreachable server; cut short by close(). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.closer.signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.closer.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Reports a problem once: to 'error' listeners if there are any, else on the console. */
  private fail(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else this.console.write('error', `test: ${err.message}`, TEST_SOURCE);
  }

  private async pollLoop(): Promise<void> {
    let after = 0;
    let delay = 50;
    const wait = this.opts.pollWaitMs ?? 20_000;
    // A server gone for longer than this (the runner died) ends the client instead of retrying forever.
    const giveUpMs = this.opts.lostServerMs ?? 30_000;
    let failingSince: number | undefined;
    while (!this.closer.signal.aborted) {
      let d: Dispatch | 'end' | undefined;
      try {
        d = await this.server.next(this.peerName, after, wait, this.closer.signal, this.run.id);
        delay = 50;
        failingSince = undefined;
      } catch (err) {
        if (this.closer.signal.aborted) return;
        // Said once when the trouble starts and once more if the client gives up.
        if (failingSince === undefined) this.fail(err as Error);
        failingSince ??= Date.now();
        if (Date.now() - failingSince > giveUpMs) {
          this.fail(
            new TestServerError(
              `test server lost for ${giveUpMs / 1000} s: ${(err as Error).message}; giving up`,
            ),
          );
          this.emit('done');
          return;
        }
        await this.pause(delay);
        delay = Math.min(delay * 2, 1000);
        continue;
      }
      if (d === 'end') {
        await this.prepareOwnSummary();
        this.emit('done');
        return;
      }
      if (!d) continue;
      if (d.type === 'line') after = d.seq;
      await this.execute(d);
    }
  }

  /**
   * What the original client does once the run is empty: ask the server to prepare this peer's
   * summary, so that `/getsummary` is complete in runs without a runner (and in runs that mix
   * original clients with ours). First lets this peer's filters reach their counts, for at most
   * `summarySettleMs`, and sends the events it already saw.
   */
  private async prepareOwnSummary(): Promise<void> {
    await this.localFiltersSettled(this.opts.summarySettleMs ?? 5000);
    await this.flush();
    if (this.closer.signal.aborted) return;
    try {
      this.emit('summary', await this.server.prepareSummary(this.peerName, this.run.id));
    } catch (err) {
      // 409: the run was reset or replaced meanwhile; there is nothing to summarise.
      const gone = err instanceof TestServerError && err.status === 409;
      if (!gone && !this.closer.signal.aborted) this.fail(err as Error);
    }
  }

  /** Resolves once every local filter has its count and keeps it for 100 ms, or after `maxMs`. */
  private localFiltersSettled(maxMs: number): Promise<void> {
    return new Promise((resolve) => {
      let quiet: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(quiet);
        clearTimeout(limit);
        this.seenWaiters.delete(check);
        this.closer.signal.removeEventListener('abort', finish);
        resolve();
      };
      const limit = setTimeout(finish, maxMs);
      const check = () => {
        clearTimeout(quiet);
        quiet = undefined;
        if (this.filters.every((f) => countSatisfied(f.spec.count, f.received))) {
          quiet = setTimeout(finish, 100);
        }
      };
      this.closer.signal.addEventListener('abort', finish, { once: true });
      this.seenWaiters.add(check);
      check();
    });
  }

  private async execute(d: Dispatch): Promise<void> {
    this.emit('dispatch', d);
    const line = d.command.startsWith('/') ? d.command : `/${d.command}`;
    // The server fails the line at its deadline anyway; stop the command then too.
    const deadline = deadlineSignal(d.remainingMs ?? d.deadlineMs, this.closer.signal);
    const r = await this.console.execute(line, { signal: deadline.signal });
    deadline.clear();
    const status: Status = r.ok ? 'OK' : 'FAILED';
    try {
      await this.server.complete({
        id: d.id,
        seq: d.seq,
        peer: this.peerName,
        type: d.type,
        status,
        ...(r.error ? { error: r.error } : {}),
      });
    } catch (err) {
      // 409: the deadline passed first; the server already failed the line.
      if (!this.closer.signal.aborted) this.fail(err as Error);
    }
    this.emit('result', d, status, r.error);
  }

  private onLine = (line: PortLine): void => {
    if (line.source === TEST_SOURCE || (line.source && TEST_COMMAND_NAMES.has(line.source))) return;
    this.seen.push({ text: line.text, source: line.source });
    if (this.seen.length > SEEN_LIMIT) this.seen.splice(0, this.seen.length - SEEN_LIMIT);
    for (const w of [...this.seenWaiters]) w();
    for (const f of this.filters) {
      if (!filterMatches(f.spec, line.text, line.source)) continue;
      f.received++;
      this.post(() => this.server.putEvent(this.eventDoc(f, line.text)));
    }
    const kind = membershipKind(line.text);
    if (kind) {
      // A peer may announce itself before this client's /init answered: send once joined.
      const entry = { peer: this.peerName, kind, text: line.text, ts: line.ts };
      this.post(() => this.ready.then(() => this.server.putLog({ id: this.run.id, ...entry })));
    }
  };

  /** Reports go out one at a time, in the order the lines were seen. */
  private post(send: () => Promise<void>): void {
    this.posting = this.posting.then(send).catch((err: Error) => {
      if (!this.closer.signal.aborted) this.fail(err);
    });
  }

  private eventDoc(f: LocalFilter, event: string) {
    const exact = f.spec.count.min === f.spec.count.max;
    return {
      id: this.run.id,
      name: this.run.name,
      peer: this.peerName,
      source: f.spec.source,
      filter: f.spec.match.text,
      event,
      num_expected_events: f.spec.count.min,
      num_received_events: f.received,
      ...(exact ? {} : { expected: f.spec.count.text }),
    };
  }

  async addFilter(spec: FilterSpec): Promise<void> {
    await this.ready;
    const key = formatFilter(spec);
    if (!this.filters.some((f) => formatFilter(f.spec) === key))
      this.filters.push({ spec, received: 0 });
    const f = this.filters.find((x) => formatFilter(x.spec) === key)!;
    await this.server.putEvent({ ...this.eventDoc(f, ''), event: undefined });
  }

  countSeen(spec: FilterSpec): number {
    let n = 0;
    for (const l of this.seen) if (filterMatches(spec, l.text, l.source)) n++;
    return n;
  }

  waitFor(spec: FilterSpec, timeoutMs: number, signal?: AbortSignal): Promise<number> {
    return new Promise((resolve, reject) => {
      const stop = () => {
        clearTimeout(timer);
        this.seenWaiters.delete(check);
        signal?.removeEventListener('abort', onAbort);
      };
      const check = () => {
        const n = this.countSeen(spec);
        if (countSatisfied(spec.count, n)) {
          stop();
          resolve(n);
        } else if (n > spec.count.max) {
          stop();
          reject(new Error(`saw ${n} matching lines, expected ${spec.count.text}`));
        }
      };
      const onAbort = () => {
        stop();
        reject(new Error(`aborted after seeing ${this.countSeen(spec)} of ${spec.count.text}`));
      };
      const timer = setTimeout(() => {
        stop();
        reject(
          new Error(
            `saw ${this.countSeen(spec)} matching lines within ${timeoutMs} ms, expected ${spec.count.text}`,
          ),
        );
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.seenWaiters.add(check);
      check();
    });
  }

  flush(): Promise<void> {
    return this.posting;
  }

  async close(): Promise<void> {
    if (this.closer.signal.aborted) return;
    this.closer.abort();
    this.console.off('line', this.onLine);
    for (const w of [...this.seenWaiters]) w();
    await Promise.allSettled([this.loop, this.posting]);
  }
}

/** `<joined> bob has joined` and `<left> bob has left` as membership changes for the report. */
export function membershipKind(text: string): LogKind | undefined {
  if (text.startsWith('<joined>')) return 'joined';
  if (text.startsWith('<left>'))
    return /\b(fail|failed|dead|crash|crashed)\b/i.test(text) ? 'failed' : 'left';
  return undefined;
}

/**
 * Connects a peer's console to a test run: registers the `test*` commands and starts executing
 * this peer's lines of `scriptName` from the server at `serverUrl`. Returns at once; `ready`
 * tells when the run was joined.
 */
export function attachTestClient(console: TestConsole, opts: TestClientOptions): TestClient {
  const client = new TestClientImpl(console, opts);
  console.register(testCommands(client));
  return client;
}
