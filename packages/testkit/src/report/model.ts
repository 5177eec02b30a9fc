import { countSatisfied } from '../filter.js';
import type { Status } from '../protocol.js';
import type { Timeline } from '../run.js';

/**
 * What a network fault line did, on each log entry the runner writes for it (kinds
 * `partitioned`, `isolated`, `lossy`, `throttled`, `healed`), so the report can draw its kind:
 * a one-way partition as an arrow from `from` to `to`, a loss with its percentage.
 */
export interface FaultDetail {
  kind: 'partition' | 'isolate' | 'loss' | 'rate' | 'heal';
  /** The link, for faults on one: traffic from `from` to `to` (and back unless `oneWay`). */
  from?: string;
  to?: string;
  /** `@partition a -> b`, `@loss a -> b 5%`, `@heal a -> b`: one direction only. */
  oneWay?: boolean;
  /** `@isolate a`, `@loss a 20%`, `@rate a 1mbit`, `@heal a`: the peer concerned. */
  peer?: string;
  /** `@loss`: percentage of packets dropped. */
  percent?: number;
  /** `@rate`: the limit as written, e.g. `1mbit`. */
  rate?: string;
}

/**
 * A case's outcome. CANCELLED: the run was stopped (Ctrl-C, `--bail`) before the case could
 * pass or fail: a line never reached or cut off, an expected event still short.
 */
export type CaseStatus = Status | 'CANCELLED';

/** One test case: a script line (command) or an expected event, as JUnit, JSON and HTML show it. */
export interface ReportCase {
  peer: string;
  kind: 'command' | 'event';
  /** The command line, or `<source> <count> <filter>` for an event. */
  test: string;
  status: CaseStatus;
  result: string;
  comment?: string;
  /** Script line number (commands). */
  line?: number;
  /** Start relative to the run's start, and duration, in ms (commands). */
  startMs?: number;
  durationMs?: number;
}

export interface ScriptReport {
  name: string;
  /** Script file, when the runner read one. */
  file?: string;
  runId: string;
  ok: boolean;
  startedAt: number;
  durationMs: number;
  /**
   * When the wait for expected events after the last line ended (ms since the epoch): the
   * report is built then. Absent when the lines never all ended (the run was stopped).
   */
  settledAt?: number;
  lineDeadlineMs: number;
  cases: ReportCase[];
  passed: number;
  failures: number;
  cancelled: number;
  timeline: Timeline;
  /** The end of each peer's output (stdout and stderr), when the runner started the peers. */
  peerLogs?: Record<string, string>;
}

export interface TestReport {
  ok: boolean;
  startedAt: number;
  durationMs: number;
  cases: number;
  passed: number;
  failures: number;
  cancelled: number;
  scripts: ScriptReport[];
}

/**
 * The cases of one run: every line in script order, then every event filter. The JUnit, JSON
 * and HTML reports all render this one list. A run whose lines all ended was not stopped; in a
 * stopped one, lines not reached or cut off and filters still short are CANCELLED, not FAILED.
 */
export function buildScriptReport(tl: Timeline, file?: string, endedAt = Date.now()): ScriptReport {
  const cases: ReportCase[] = [];
  const end = tl.endedAt ?? endedAt;
  const stopped = tl.lines.some((l) => l.status === undefined);
  for (const l of tl.lines) {
    const ran = l.startedAt !== undefined;
    const took = ran ? (l.endedAt ?? end) - l.startedAt! : 0;
    cases.push({
      peer: l.peer,
      kind: 'command',
      test: l.command,
      status: l.status ?? 'CANCELLED',
      result: !ran
        ? 'not reached'
        : l.status === undefined
          ? 'did not finish'
          : l.status === 'OK'
            ? 'completed'
            : 'failed',
      ...(l.comment ? { comment: l.comment } : {}),
      line: l.lineNo,
      ...(ran ? { startMs: l.startedAt! - tl.startedAt, durationMs: took } : {}),
    });
  }
  for (const f of tl.filters) {
    const ok = countSatisfied(f.count, f.received);
    // Too few events may only mean the run was stopped before they came; too many is a failure.
    const short = f.received < f.count.min;
    cases.push({
      peer: f.peer,
      kind: 'event',
      test: `${f.source} ${f.count.text} ${f.filter}`,
      status: ok ? 'OK' : stopped && short ? 'CANCELLED' : 'FAILED',
      result: `received ${f.received}, expected ${f.count.text}`,
      ...(f.lastEvent ? { comment: `last: ${f.lastEvent}` } : {}),
    });
  }
  const count = (st: CaseStatus) => cases.filter((c) => c.status === st).length;
  const failures = count('FAILED');
  const cancelled = count('CANCELLED');
  return {
    name: tl.name,
    ...(file ? { file } : {}),
    runId: tl.id,
    ok: failures === 0 && cancelled === 0,
    startedAt: tl.startedAt,
    durationMs: end - tl.startedAt,
    ...(tl.endedAt !== undefined ? { settledAt: Math.max(endedAt, tl.endedAt) } : {}),
    lineDeadlineMs: tl.lineDeadlineMs,
    cases,
    passed: count('OK'),
    failures,
    cancelled,
    timeline: tl,
  };
}

export function buildTestReport(
  scripts: ScriptReport[],
  startedAt: number,
  endedAt = Date.now(),
): TestReport {
  const sum = (f: (s: ScriptReport) => number) => scripts.reduce((n, s) => n + f(s), 0);
  return {
    ok: scripts.length > 0 && scripts.every((s) => s.ok),
    startedAt,
    durationMs: endedAt - startedAt,
    cases: sum((s) => s.cases.length),
    passed: sum((s) => s.passed),
    failures: sum((s) => s.failures),
    cancelled: sum((s) => s.cancelled),
    scripts,
  };
}

/** The JSON report: the same cases as the JUnit file, plus timings; timelines are left out. */
export function toJsonReport(report: TestReport): string {
  const doc = {
    ...report,
    scripts: report.scripts.map(({ timeline: _t, ...rest }) => rest),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
