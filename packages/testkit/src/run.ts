import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { formatDuration } from './duration.js';
import { ConflictError } from './errors.js';
import { type CountSpec, countSatisfied, parseCount } from './filter.js';
import { RunBudget, type RunLimits } from './limits.js';
import {
  type Completion,
  type Dispatch,
  type EventFilterDocument,
  type LogEntry,
  type LogKind,
  omitEmpty,
  type ResultsDocument,
  RUN_EMPTY,
  RUN_READY,
  type RunDocument,
  type Status,
  type SummaryEntry,
} from './protocol.js';
import type { FaultDetail } from './report/model.js';
import { RUNNER_PEER, type RunnerLine, type Script } from './script.js';

/** One script line and, once it finished, its outcome. */
export interface LineRecord {
  seq: number;
  lineNo: number;
  kind: 'peer' | 'runner';
  /** The peer that executes it; RUNNER_PEER for runner lines. */
  peer: string;
  command: string;
  /** `<peer> <command>` or `@kill bob`. */
  text: string;
  status?: Status;
  /** When it became the current line (ms since epoch). */
  startedAt?: number;
  endedAt?: number;
  comment?: string;
}

export interface FilterRecord {
  peer: string;
  source: string;
  filter: string;
  count: CountSpec;
  received: number;
  lastEvent?: string;
  registeredAt: number;
}

export interface EventRecord {
  peer: string;
  source: string;
  filter: string;
  text: string;
  ts: number;
}

export interface LogRecord {
  peer: string;
  kind: LogKind;
  text: string;
  ts: number;
  /** What a network fault did (runner entries only). */
  fault?: FaultDetail;
}

/** Everything the reports draw: a run with timestamps. Served as `/timeline`. */
export interface Timeline {
  id: string;
  name: string;
  startedAt: number;
  endedAt?: number;
  lineDeadlineMs: number;
  peers: string[];
  lines: LineRecord[];
  filters: FilterRecord[];
  events: EventRecord[];
  logs: LogRecord[];
}

export interface RunEvents {
  'line-start': [LineRecord];
  'line-end': [LineRecord];
  'runner-line': [LineRecord, RunnerLine];
  event: [FilterRecord, EventRecord | undefined];
  log: [LogRecord];
  'lines-done': [];
}

interface Waiter {
  peer: string;
  after: number;
  resolve(d: Dispatch | 'end' | 'none'): void;
}

interface Control {
  id: number;
  peer: string;
  command: string;
  delivered: boolean;
  resolve(r: { status: Status; error?: string }): void;
  timer: NodeJS.Timeout;
}

/**
 * One execution of a script: the line cursor, per-line deadlines, results, event filters and a
 * log of membership changes. Lines run strictly in order; a line ends when its peer completes
 * it or when its deadline passes (FAILED), so a dead peer never blocks the run.
 */
/** Extra time for a peer process to start before its first line's deadline begins. */
export const DEFAULT_PEER_STARTUP_MS = 10_000;

export class TestRun extends EventEmitter<RunEvents> {
  readonly id = randomUUID();
  readonly name: string;
  readonly lineDeadlineMs: number;
  readonly startedAt = Date.now();
  endedAt: number | undefined;
  readonly lines: LineRecord[];
  private readonly script: Script;
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  /** When the current line fails unless completed. */
  private deadlineAt = 0;
  /** True while the current line's clock waits for its peer's process to come up. */
  private awaitingPeer = false;
  /** Peers known to be polling (`connected`) or known to be gone; others are starting. */
  private readonly peerStates = new Map<string, 'connected' | 'gone'>();
  private readonly goneWhy = new Map<string, string>();
  private readonly peerStartupMs: number;
  /** Result announced by an original client's /putresult, applied by its /removecommand. */
  private legacyStatus: Status | undefined;
  private readonly filters = new Map<string, FilterRecord>();
  private readonly events: EventRecord[] = [];
  private readonly logs: LogRecord[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly controls = new Map<number, Control>();
  private nextControlId = 1;
  private closed = false;
  /** Bounds what clients can make this run store (filters, events, logs). */
  private readonly budget: RunBudget;

  /**
   * `peerStartupMs` is added to the deadline of a line whose peer has not polled yet (a process
   * still starting); its deadline restarts in full when the peer first polls.
   */
  constructor(
    script: Script,
    defaultDeadlineMs: number,
    peerStartupMs = DEFAULT_PEER_STARTUP_MS,
    limits: Partial<RunLimits> = {},
  ) {
    super();
    this.budget = new RunBudget(limits);
    this.peerStartupMs = peerStartupMs;
    this.script = script;
    this.name = script.name;
    this.lineDeadlineMs = script.lineDeadlineMs ?? defaultDeadlineMs;
    this.lines = script.lines.map((l, i) => ({
      seq: i + 1,
      lineNo: l.lineNo,
      kind: l.kind,
      peer: l.kind === 'peer' ? l.peer : RUNNER_PEER,
      command: l.kind === 'peer' ? l.command : l.text,
      text: l.text,
    }));
  }

  /** Starts the first line; call after attaching listeners (runner lines need one). */
  start(): void {
    this.startCurrent();
  }

  get done(): boolean {
    return this.cursor >= this.lines.length;
  }

  get current(): LineRecord | undefined {
    return this.lines[this.cursor];
  }

  get peers(): string[] {
    return [...this.script.peers];
  }

  get settleMs(): number | undefined {
    return this.script.settleMs;
  }

  document(): RunDocument {
    return omitEmpty({
      id: this.id,
      name: this.name,
      commands: this.lines.slice(this.cursor).map((l) => l.text),
      currentpeer: this.current?.peer,
      status: this.done ? RUN_EMPTY : RUN_READY,
    });
  }

  results(): ResultsDocument {
    return omitEmpty({
      id: this.id,
      name: this.name,
      CommandResults: this.lines
        .filter((l) => l.status)
        .map((l) => omitEmpty({ peer: l.peer, status: l.status, data: l.command })),
    });
  }

  eventFilters(): EventFilterDocument[] {
    return [...this.filters.values()].map((f) =>
      omitEmpty({
        id: this.id,
        name: this.name,
        peer: f.peer,
        source: f.source,
        filter: f.filter,
        event: f.lastEvent,
        num_expected_events: f.count.min,
        num_received_events: f.received,
        expected: f.count.min === f.count.max ? undefined : f.count.text,
      }),
    );
  }

  timeline(): Timeline {
    return {
      id: this.id,
      name: this.name,
      startedAt: this.startedAt,
      endedAt: this.endedAt,
      lineDeadlineMs: this.lineDeadlineMs,
      peers: this.peers,
      lines: this.lines.map((l) => ({ ...l })),
      filters: [...this.filters.values()].map((f) => ({ ...f })),
      events: [...this.events],
      logs: [...this.logs],
    };
  }

  /** Evaluations of one peer (or of every peer and the runner), in script order. */
  summary(peer?: string): SummaryEntry[] {
    const out: SummaryEntry[] = [];
    const peers = peer === undefined ? [...this.peers, RUNNER_PEER] : [peer];
    for (const p of peers) {
      for (const l of this.lines) {
        if (l.peer !== p || !l.status) continue;
        const took = formatDuration((l.endedAt ?? 0) - (l.startedAt ?? 0));
        out.push(
          omitEmpty({
            id: this.id,
            name: this.name,
            peer: p,
            status: l.status,
            kind: 'command',
            test: l.command,
            result: l.status === 'OK' ? `completed in ${took}` : `failed after ${took}`,
            comment: l.comment,
          }),
        );
      }
      for (const f of this.filters.values()) {
        if (f.peer !== p) continue;
        const ok = countSatisfied(f.count, f.received);
        out.push(
          omitEmpty({
            id: this.id,
            name: this.name,
            peer: p,
            status: ok ? 'OK' : 'FAILED',
            kind: 'event',
            test: `${f.source} ${f.count.text} ${f.filter}`,
            result: `received ${f.received}, expected ${f.count.text}`,
            comment: f.lastEvent,
          }),
        );
      }
    }
    return out;
  }

  /** Every filter's count is within its expectation. */
  filtersSatisfied(): boolean {
    for (const f of this.filters.values()) if (!countSatisfied(f.count, f.received)) return false;
    return true;
  }

  /**
   * Resolves once the lines are done and every filter is satisfied and stays so for `quietMs`
   * (late duplicates would break an exact count), or `maxMs` after the call at the latest.
   * Event driven: it re-checks on every counted event.
   */
  whenSettled(maxMs: number, quietMs = 100): Promise<void> {
    return new Promise((resolve) => {
      let quiet: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(quiet);
        clearTimeout(limit);
        this.off('event', check);
        this.off('lines-done', check);
        resolve();
      };
      const limit = setTimeout(finish, maxMs);
      const check = () => {
        clearTimeout(quiet);
        quiet = undefined;
        if (this.done && this.filtersSatisfied()) quiet = setTimeout(finish, quietMs);
      };
      this.on('event', check);
      this.on('lines-done', check);
      check();
    });
  }

  // ---- peers' long-poll ----------------------------------------------------------------------

  /**
   * The next thing for `peer`: a pending control line, else the current line if it is this
   * peer's and newer than `after`. Waits up to `waitMs`; 'end' once the run is over.
   */
  next(
    peer: string,
    after: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<Dispatch | 'end' | 'none'> {
    this.peerConnected(peer);
    const now = this.offer(peer, after);
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        peer,
        after,
        resolve: (d) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.waiters.delete(waiter);
          resolve(d);
        },
      };
      const onAbort = () => waiter.resolve('none');
      const timer = setTimeout(() => waiter.resolve('none'), waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  private offer(peer: string, after: number): Dispatch | 'end' | undefined {
    if (this.closed) return 'end';
    for (const c of this.controls.values()) {
      if (c.peer === peer && !c.delivered) {
        c.delivered = true;
        return this.dispatch('control', c.id, peer, c.command, 0);
      }
    }
    const cur = this.current;
    if (cur && cur.kind === 'peer' && cur.peer === peer && cur.seq > after) {
      return this.dispatch('line', cur.seq, peer, cur.command, cur.lineNo);
    }
    return this.done ? 'end' : undefined;
  }

  private dispatch(
    type: Dispatch['type'],
    seq: number,
    peer: string,
    command: string,
    line: number,
  ): Dispatch {
    const until = type === 'line' ? this.deadlineAt : Date.now() + this.lineDeadlineMs;
    const remainingMs = Math.max(1, until - Date.now());
    const deadlineMs = this.lineDeadlineMs;
    return {
      type,
      id: this.id,
      name: this.name,
      seq,
      peer,
      command,
      line,
      deadlineMs,
      remainingMs,
    };
  }

  private pump(): void {
    for (const w of [...this.waiters]) {
      const d = this.offer(w.peer, w.after);
      if (d) w.resolve(d);
    }
  }

  // ---- completing lines ----------------------------------------------------------------------

  complete(c: Completion): void {
    if (c.id !== this.id) throw new ConflictError(`run ${c.id} is not the current run`);
    if (c.type === 'control') {
      const ctl = this.controls.get(c.seq);
      if (!ctl || ctl.peer !== c.peer)
        throw new ConflictError(`no pending control ${c.seq} for ${c.peer}`);
      this.controls.delete(c.seq);
      clearTimeout(ctl.timer);
      ctl.resolve({ status: c.status, ...(c.error ? { error: c.error } : {}) });
      return;
    }
    const cur = this.current;
    if (!cur || cur.seq !== c.seq || cur.peer !== c.peer) {
      throw new ConflictError(
        `line ${c.seq} of ${c.peer} is not the current line (deadline passed?)`,
      );
    }
    this.finish(cur, c.status, c.error);
  }

  /** Ends a runner line; the runner calls this when its action is done. */
  completeRunnerLine(seq: number, status: Status, comment?: string): void {
    const cur = this.current;
    if (cur && cur.seq === seq && cur.kind === 'runner') this.finish(cur, status, comment);
  }

  /** `/putresult` of the original: remembered for the current line until `/removecommand`. */
  legacyPutResult(peer: string, status: Status): void {
    const cur = this.current;
    if (!cur || cur.peer !== peer) {
      throw new ConflictError(`the current line does not belong to ${peer}`);
    }
    this.legacyStatus = status;
  }

  /** `/removecommand` of the original: ends the current line if it belongs to `peer`. */
  legacyRemoveCommand(peer: string): void {
    const cur = this.current;
    if (cur && cur.peer === peer) this.finish(cur, this.legacyStatus ?? 'OK');
  }

  private finish(rec: LineRecord, status: Status, comment?: string): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.legacyStatus = undefined;
    rec.status = status;
    rec.endedAt = Date.now();
    if (comment) rec.comment = comment;
    this.cursor++;
    this.emit('line-end', rec);
    this.startCurrent();
  }

  private startCurrent(): void {
    if (this.closed) return;
    const rec = this.current;
    if (!rec) {
      this.endedAt = Date.now();
      this.emit('lines-done');
      this.pump();
      return;
    }
    rec.startedAt = Date.now();
    const starting = rec.kind === 'peer' && !this.peerStates.has(rec.peer);
    this.armDeadline(rec, this.lineDeadlineMs + (starting ? this.peerStartupMs : 0), starting);
    this.emit('line-start', rec);
    if (rec.kind === 'peer' && this.peerStates.get(rec.peer) === 'gone') {
      this.finish(rec, 'FAILED', `${rec.peer} is not running (${this.goneWhy.get(rec.peer)})`);
      return;
    }
    if (rec.kind === 'runner') {
      if (this.listenerCount('runner-line') === 0) {
        this.finish(rec, 'FAILED', 'no runner attached (runner lines need `isopeer test`)');
        return;
      }
      const line = this.script.lines[rec.seq - 1] as RunnerLine;
      this.emit('runner-line', rec, line);
      return;
    }
    this.pump();
  }

  private armDeadline(rec: LineRecord, ms: number, awaitingPeer: boolean): void {
    clearTimeout(this.timer);
    this.awaitingPeer = awaitingPeer;
    this.deadlineAt = Date.now() + ms;
    this.timer = setTimeout(() => {
      const why = this.awaitingPeer
        ? `${rec.peer} never connected (start-up ${formatDuration(this.peerStartupMs)} + line deadline ${formatDuration(this.lineDeadlineMs)})`
        : `no result within the line deadline of ${formatDuration(this.lineDeadlineMs)}`;
      this.finish(rec, 'FAILED', why);
    }, ms);
  }

  /** A peer polled: if its line was waiting for it to start, the line's deadline begins now. */
  private peerConnected(peer: string): void {
    if (this.peerStates.get(peer) === 'connected') return;
    this.peerStates.set(peer, 'connected');
    if (!this.closed)
      this.putLog({ peer, kind: 'connected', text: `${peer} asked for its first line` });
    const cur = this.current;
    if (this.awaitingPeer && cur && cur.peer === peer && !this.closed) {
      this.armDeadline(cur, this.lineDeadlineMs, false);
    }
  }

  /**
   * The runner tells the run about peer processes: `starting` (its lines get the start-up
   * allowance until it polls) or `gone` (exited: its pending line and its lines until it is
   * started again fail at once, saying why).
   */
  setPeerState(peer: string, state: 'starting' | 'gone', why = 'its process exited'): void {
    if (state === 'starting') {
      this.peerStates.delete(peer);
      this.goneWhy.delete(peer);
      return;
    }
    this.peerStates.set(peer, 'gone');
    this.goneWhy.set(peer, why);
    // Its pending line can never complete: fail it now rather than at the deadline.
    const cur = this.current;
    if (cur && cur.kind === 'peer' && cur.peer === peer && !this.closed) {
      this.finish(cur, 'FAILED', `${peer} is not running (${why})`);
    }
  }

  // ---- runner control lines ------------------------------------------------------------------

  /** Hands `command` to `peer` out of band (e.g. `testpartition bob on`) and awaits its result. */
  control(
    peer: string,
    command: string,
    timeoutMs: number,
  ): Promise<{ status: Status; error?: string }> {
    return new Promise((resolve) => {
      const id = this.nextControlId++;
      const timer = setTimeout(() => {
        this.controls.delete(id);
        resolve({
          status: 'FAILED',
          error: `${peer} did not answer within ${formatDuration(timeoutMs)}`,
        });
      }, timeoutMs);
      this.controls.set(id, { id, peer, command, delivered: false, resolve, timer });
      this.pump();
    });
  }

  // ---- events and logs -----------------------------------------------------------------------

  putEvent(doc: EventFilterDocument): FilterRecord {
    if (doc.id && doc.id !== this.id)
      throw new ConflictError(`run ${doc.id} is not the current run`);
    const peer = doc.peer!;
    const source = doc.source!;
    const filter = doc.filter!;
    const key = `${peer}\0${source}\0${filter}`;
    let rec = this.filters.get(key);
    // Refused before anything changes, so a refusal leaves the counts as they were.
    this.budget.charge(rec ? 0 : 1, doc.event ? 1 : 0, [rec ? '' : key, doc.event]);
    if (!rec) {
      const count = doc.expected
        ? parseCount(doc.expected)
        : parseCount(String(doc.num_expected_events ?? 0));
      rec = { peer, source, filter, count, received: 0, registeredAt: Date.now() };
      this.filters.set(key, rec);
    }
    let ev: EventRecord | undefined;
    if (doc.event) {
      rec.received++;
      rec.lastEvent = doc.event;
      ev = { peer, source, filter, text: doc.event, ts: Date.now() };
      this.events.push(ev);
    }
    this.emit('event', rec, ev);
    return rec;
  }

  /**
   * A log entry from a client (`/putlog`): counted against the run's limits first (throws
   * `RunLimitError`); the runner's own entries (`putLog`) are bounded by the script.
   */
  putClientLog(entry: LogEntry): LogRecord {
    this.budget.charge(0, 1, [entry.text]);
    return this.putLog(entry);
  }

  putLog(entry: LogEntry): LogRecord {
    if (entry.id && entry.id !== this.id)
      throw new ConflictError(`run ${entry.id} is not the current run`);
    const rec: LogRecord = {
      peer: entry.peer,
      kind: entry.kind,
      text: entry.text,
      ts: entry.ts ?? Date.now(),
      ...(entry.fault ? { fault: entry.fault } : {}),
    };
    this.logs.push(rec);
    this.emit('log', rec);
    return rec;
  }

  /** Stops timers and releases every waiting peer; the run's data stays readable. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    for (const c of this.controls.values()) {
      clearTimeout(c.timer);
      c.resolve({ status: 'FAILED', error: 'run closed' });
    }
    this.controls.clear();
    this.pump();
  }
}
