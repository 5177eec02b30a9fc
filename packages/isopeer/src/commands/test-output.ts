import { open } from 'node:fs/promises';
import { join } from 'node:path';
import {
  countSatisfied,
  describeFilterFailure,
  type FilterRecord,
  formatDuration,
  type LoadedScript,
  type ReportCase,
  RUNNER_PEER,
  type ScriptReport,
  type TestReport,
  type TestRun,
  type TestRunner,
} from '@isopeer/testkit';

/*
 * What `isopeer test` prints, built from runner events: live progress while scripts run (one
 * line per finished line, a note for slow lines, progress while waiting for expected events),
 * and at the end, as node:test and vitest do, one line per script, the failures again with
 * what was expected and what the peer showed instead, and the totals.
 */

export interface ProgressOptions {
  out(line: string): void;
  /** ANSI colours for OK/FAILED. */
  color?: boolean;
  /** A line running longer than this gets one `...` note; default 2 s. */
  slowLineMs?: number;
  /** Progress every this often while waiting for expected events; default 1 s. */
  settleTickMs?: number;
  /** Longest settle wait unless a script sets `@settle` (the runner's `settleMs`); default 5 s. */
  settleMs?: number;
  /** Once aborted, no settle progress is shown (the runner does not wait). */
  signal?: AbortSignal;
}

const who = (peer: string) => (peer === RUNNER_PEER ? 'runner' : peer);
const lineNo = (n: number | undefined) => (n === undefined ? '     ' : `L${String(n).padEnd(4)}`);

function paint(color: boolean | undefined, status: string, s: string): string {
  if (!color) return s;
  const code = status === 'OK' || status === 'PASSED' ? 32 : status === 'CANCELLED' ? 33 : 31;
  return `\x1b[${code}m${s}\x1b[0m`;
}

/** Prints live progress of `runner` through `opts.out`. */
export function showProgress(runner: TestRunner, opts: ProgressOptions): void {
  const { out } = opts;
  const slowMs = opts.slowLineMs ?? 2000;
  const slow = new Map<number, NodeJS.Timeout>();
  let stopSettle: (() => void) | undefined;
  runner.on('script-start', ({ file, script }, run, urls) => {
    out(
      `▶ ${script.name} (${file}): peers ${script.peers.join(', ')}; ${script.lines.length} lines, deadline ${formatDuration(run.lineDeadlineMs)}; test server ${urls.testServerUrl}, bootstrap ${urls.bootstrapUrl}`,
    );
    run.once('lines-done', () => {
      if (opts.signal?.aborted) return;
      stopSettle = settleProgress(run, script.settleMs ?? opts.settleMs ?? 5000, opts);
    });
  });
  // A line that takes a while gets one note, so a long wait never looks like a hang.
  runner.on('line-start', (_s, l) => {
    const note = setTimeout(() => {
      out(
        `  ...    ${lineNo(l.lineNo)} ${who(l.peer).padEnd(10)} ${l.command}  (still running after ${formatDuration(slowMs)})`,
      );
    }, slowMs);
    note.unref();
    slow.set(l.seq, note);
  });
  runner.on('line-end', (_s, l) => {
    clearTimeout(slow.get(l.seq));
    slow.delete(l.seq);
    const took = formatDuration((l.endedAt ?? 0) - (l.startedAt ?? 0));
    const status = paint(opts.color, l.status ?? '', (l.status ?? '').padEnd(6));
    out(
      `  ${status} ${lineNo(l.lineNo)} ${who(l.peer).padEnd(10)} ${l.command}  (${took})${l.comment ? `  - ${l.comment}` : ''}`,
    );
  });
  runner.on('peer-exit', (_s, peer, info) => {
    if (info.expected) return;
    // A peer that quits (`quit`, `exit`) ends with code 0; anything else is worth a warning.
    if (info.code === 0) out(`  · ${peer} exited (code 0)`);
    else out(`  ! ${peer} exited on its own (code ${info.code}, signal ${info.signal})`);
  });
  runner.on('script-end', () => {
    for (const t of slow.values()) clearTimeout(t);
    slow.clear();
    stopSettle?.();
    stopSettle = undefined;
  });
}

const filterText = (f: FilterRecord) => `${f.peer} ${f.source} ${f.count.text} ${f.filter}`;

/**
 * After the last line the runner waits (at most `maxMs`) for expected events. Says what it is
 * waiting for, each event that arrives meanwhile, and every `settleTickMs` what is still short.
 * Returns a function that ends the display (called at script end).
 */
function settleProgress(run: TestRun, maxMs: number, opts: ProgressOptions): () => void {
  const { out } = opts;
  const t0 = Date.now();
  const short = () => run.timeline().filters.filter((f) => !countSatisfied(f.count, f.received));
  const list = (fs: FilterRecord[]) =>
    fs
      .slice(0, 3)
      .map((f) => `${filterText(f)} (${f.received}/${f.count.text})`)
      .join('; ') + (fs.length > 3 ? `; and ${fs.length - 3} more` : '');
  const first = short();
  if (first.length === 0) return () => {};
  out(
    `  ...    waiting up to ${formatDuration(maxMs)} for expected events: ${first.length} short: ${list(first)}`,
  );
  let done = false;
  const onEvent = (f: FilterRecord, e?: { text: string }) => {
    if (!e || done) return;
    out(`  ·      ${f.peer} saw ${JSON.stringify(e.text)} (${f.received}/${f.count.text})`);
    if (short().length === 0) {
      out(`  ...    every expected event seen after ${formatDuration(Date.now() - t0)}`);
      stop();
    }
  };
  const tick = setInterval(() => {
    // The wait is about to end: its end says how it went.
    if (Date.now() - t0 >= maxMs) return;
    const now = short();
    out(
      `  ...    still waiting (${formatDuration(Date.now() - t0)} of ${formatDuration(maxMs)}): ${now.length} short: ${list(now)}`,
    );
  }, opts.settleTickMs ?? 1000);
  tick.unref();
  run.on('event', onEvent);
  const stop = () => {
    if (done) return;
    done = true;
    clearInterval(tick);
    run.off('event', onEvent);
  };
  return () => {
    if (done) return;
    const left = short().length;
    if (left > 0 && !opts.signal?.aborted) {
      out(
        `  ...    settle wait over after ${formatDuration(Date.now() - t0)}: ${left} expected event${left === 1 ? '' : 's'} short`,
      );
    }
    stop();
  };
}

/** Stops the run at the first failed line or failed script (`--bail`). */
export function bailOnFailure(runner: TestRunner, bail: (why: string) => void): void {
  let bailed = false;
  const once = (why: string) => {
    if (bailed) return;
    bailed = true;
    bail(why);
  };
  runner.on('line-end', ({ script }, l) => {
    if (l.status === 'FAILED') once(`${script.name} line ${l.lineNo} failed`);
  });
  runner.on('script-end', (r) => {
    if (r.failures > 0) once(`${r.name} failed`);
  });
}

/** Lines of a peer's log read for near misses, from its end. */
const LOG_TAIL_BYTES = 1 << 20;

async function readTail(file: string): Promise<string[] | undefined> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(file, 'r');
    const { size } = await fh.stat();
    const start = Math.max(0, size - LOG_TAIL_BYTES);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    // The runner's own `--- start`/`--- exit` lines are not the peer's output.
    return buf
      .toString('utf8')
      .split('\n')
      .filter((l) => !l.startsWith('--- '));
  } catch {
    return undefined;
  } finally {
    await fh?.close();
  }
}

/**
 * Failed (and cancelled) expected events explained from the run's files (`<outDir>/<run id>/<peer>.log`): what
 * was expected, what was seen, and the closest lines the peer showed.
 */
export async function explainFailures(
  report: TestReport,
  outDir: string,
): Promise<Map<ReportCase, string>> {
  const why = new Map<ReportCase, string>();
  for (const s of report.scripts) {
    const logs = new Map<string, string[] | undefined>();
    for (const c of s.cases) {
      if (c.kind !== 'event' || c.status === 'OK') continue;
      const f = s.timeline.filters.find(
        (x) => x.peer === c.peer && `${x.source} ${x.count.text} ${x.filter}` === c.test,
      );
      if (!f) continue;
      if (c.status === 'FAILED' && !logs.has(c.peer)) {
        logs.set(c.peer, await readTail(join(outDir, s.runId, `${c.peer}.log`)));
      }
      // A cancelled expectation may only have lacked time: no near misses for it.
      why.set(
        c,
        c.status === 'CANCELLED'
          ? `${describeFilterFailure(f)} before the run was stopped`
          : describeFilterFailure(f, logs.get(c.peer)),
      );
    }
  }
  return why;
}

function scriptTitle(s: { name: string; file?: string }): string {
  return `${s.name}${s.file ? ` (${s.file})` : ''}`;
}

function counts(x: { passed: number; failures: number; cancelled: number }): string {
  const parts = [`${x.passed} passed`];
  if (x.failures) parts.push(`${x.failures} failed`);
  if (x.cancelled) parts.push(`${x.cancelled} cancelled`);
  return parts.join(', ');
}

function caseLine(c: ReportCase, explained: string | undefined): string {
  if (c.kind === 'event')
    return `${c.status.padEnd(9)} ${explained ?? `${c.peer} ${c.test}: ${c.result}`}`;
  const took = c.durationMs === undefined ? '' : `  (${formatDuration(c.durationMs)})`;
  const detail = c.comment ? `  - ${c.comment}` : c.status === 'CANCELLED' ? `  - ${c.result}` : '';
  return `${c.status.padEnd(9)} ${lineNo(c.line)} ${who(c.peer).padEnd(10)} ${c.test}${took}${detail}`;
}

export interface FinalOptions {
  color?: boolean;
  /** Explanations of failed expected events (from `explainFailures`). */
  explained?: Map<ReportCase, string>;
  /** Scripts that were selected but never started (Ctrl-C, `--bail`): their lines count as cancelled. */
  notRun?: LoadedScript[];
}

/**
 * The end of the output: one line per script; then, only if something failed or was cancelled,
 * those cases again grouped by script; then the totals (passed, failed, cancelled).
 */
export function formatFinal(report: TestReport, opts: FinalOptions = {}): string[] {
  const out: string[] = [];
  const notRun = opts.notRun ?? [];
  const status = (s: ScriptReport) => (s.ok ? 'PASSED' : s.failures ? 'FAILED' : 'CANCELLED');
  for (const s of report.scripts) {
    const st = status(s);
    out.push(
      `${paint(opts.color, st, st.padEnd(9))} ${scriptTitle(s)}  ${counts(s)}  ${formatDuration(s.durationMs)}`,
    );
  }
  for (const l of notRun) {
    out.push(
      `${paint(opts.color, 'CANCELLED', 'CANCELLED')} ${scriptTitle({ name: l.script.name, file: l.file })}  not started (${l.script.lines.length} lines)`,
    );
  }
  const bad = report.scripts.filter((s) => !s.ok);
  if (bad.length) {
    out.push('', report.failures ? 'Failures:' : 'Cancelled:');
    for (const s of bad) {
      out.push('', scriptTitle(s));
      for (const c of s.cases) {
        if (c.status === 'OK') continue;
        out.push(`  ${paint(opts.color, c.status, caseLine(c, opts.explained?.get(c)))}`);
      }
    }
  }
  const cancelled = report.cancelled + notRun.reduce((n, l) => n + l.script.lines.length, 0);
  const scripts = report.scripts.length + notRun.length;
  const ok = report.ok && notRun.length === 0;
  const st = ok ? 'PASSED' : report.failures ? 'FAILED' : 'CANCELLED';
  out.push(
    '',
    paint(
      opts.color,
      st,
      `${st}: ${scripts} script${scripts === 1 ? '' : 's'}, ${report.passed} passed, ${report.failures} failed, ${cancelled} cancelled, ${formatDuration(report.durationMs)}`,
    ),
  );
  return out;
}
