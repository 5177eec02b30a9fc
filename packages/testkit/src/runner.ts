import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startBootstrapServer } from '@isopeer/bootstrap/server';
import { formatDuration } from './duration.js';
import { PeerProcess, type PeerSpawnSpec } from './peer-process.js';
import type { LogKind, Status } from './protocol.js';
import {
  buildScriptReport,
  buildTestReport,
  type ScriptReport,
  type TestReport,
} from './report/model.js';
import type { EventRecord, FilterRecord, LineRecord, LogRecord, TestRun } from './run.js';
import { parseScript, type RunnerLine, type Script, scriptNameFromPath } from './script.js';
import { createTestServer, type RunningTestServer } from './server.js';

/** What the runner needs to start one peer. */
export interface PeerLaunch {
  peer: string;
  scriptName: string;
  testServerUrl: string;
  bootstrapUrl: string;
  /** This run's directory (`<outDir>/<run id>`): a place for the peer's own state. */
  runDir: string;
}

export interface RunnerOptions {
  /** Script files, run one after the other, each with fresh peers and a fresh bootstrap service. */
  scripts: string[];
  /** The command line of one peer, e.g. `isopeer chat <peer> --test ... --test-server ...`. */
  peerCommand(launch: PeerLaunch): PeerSpawnSpec;
  /** Run files (`<run id>/`) and peer logs go here; default a new temporary directory. */
  outDir?: string;
  /** Line deadline unless a script sets `@deadline`; default 30 s. */
  lineDeadlineMs?: number;
  /** Longest wait after the last line for expected events, unless `@settle`; default 5 s. */
  settleMs?: number;
  /** How long a peer may take to exit after SIGTERM before SIGKILL; default 2 s. */
  stopGraceMs?: number;
  /** Extra time for a peer process to start before its first line's deadline runs; 10 s. */
  peerStartupMs?: number;
  /** How long a peer may take to apply `testpartition`; default 5 s. */
  controlTimeoutMs?: number;
  /** Aborting stops the current script: remaining lines are reported as not reached. */
  signal?: AbortSignal;
}

export interface LoadedScript {
  file: string;
  script: Script;
}

export interface RunnerEvents {
  'script-start': [
    LoadedScript,
    TestRun,
    { testServerUrl: string; bootstrapUrl: string; runDir: string },
  ];
  'line-start': [LoadedScript, LineRecord];
  'line-end': [LoadedScript, LineRecord];
  event: [LoadedScript, FilterRecord, EventRecord];
  log: [LoadedScript, LogRecord];
  'peer-exit': [
    LoadedScript,
    string,
    { code: number | null; signal: NodeJS.Signals | null; expected: boolean },
  ];
  'script-end': [ScriptReport];
}

/** Reads and parses every script first, so a typo fails before any process starts. */
export async function loadScripts(files: string[]): Promise<LoadedScript[]> {
  const out: LoadedScript[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    out.push({ file, script: parseScript(text, scriptNameFromPath(file), file) });
  }
  return out;
}

/**
 * Runs test scripts end to end: an embedded test server and bootstrap service, one peer process
 * per peer of a script, runner lines (`@kill`, `@stop`, `@cont`, `@start`, `@partition`, `@heal`)
 * executed here, reports built from the run. Emits progress; never prints.
 */
export class TestRunner extends EventEmitter<RunnerEvents> {
  private readonly opts: RunnerOptions;
  outDir = '';

  constructor(opts: RunnerOptions) {
    super();
    this.opts = opts;
  }

  async run(): Promise<TestReport> {
    const started = Date.now();
    const scripts = await loadScripts(this.opts.scripts);
    this.outDir = this.opts.outDir
      ? resolve(this.opts.outDir)
      : await mkdtemp(join(tmpdir(), 'isopeer-test-'));
    await mkdir(this.outDir, { recursive: true });
    const server = await createTestServer({
      dir: this.outDir,
      port: 0,
      lineDeadlineMs: this.opts.lineDeadlineMs,
      peerStartupMs: this.opts.peerStartupMs,
    });
    const reports: ScriptReport[] = [];
    try {
      for (const loaded of scripts) {
        if (this.opts.signal?.aborted) break;
        const r = await this.runScript(server, loaded);
        reports.push(r);
        this.emit('script-end', r);
      }
    } finally {
      await server.close();
    }
    return buildTestReport(reports, started);
  }

  private async runScript(server: RunningTestServer, loaded: LoadedScript): Promise<ScriptReport> {
    const bootstrap = await startBootstrapServer({ port: 0, store: 'memory' });
    try {
      return await this.runWithBootstrap(server, bootstrap.url, loaded);
    } finally {
      await bootstrap.close();
    }
  }

  private async runWithBootstrap(
    server: RunningTestServer,
    bootstrapUrl: string,
    loaded: LoadedScript,
  ): Promise<ScriptReport> {
    const { script } = loaded;
    const run = server.coordinator.createRun(script);
    const runDir = join(this.outDir, run.id);
    await mkdir(runDir, { recursive: true });
    const peers = new Map(script.peers.map((p) => [p, new PeerProcess(p)]));
    const log = (peer: string, kind: LogKind, text: string) => run.putLog({ peer, kind, text });
    const launch = (peer: string) => {
      const spec = this.opts.peerCommand({
        peer,
        scriptName: script.name,
        testServerUrl: server.url,
        bootstrapUrl,
        runDir,
      });
      run.setPeerState(peer, 'starting');
      const proc = peers.get(peer)!;
      proc.start(spec, join(runDir, `${peer}.log`));
      log(
        peer,
        'started',
        `process ${proc.pid ?? '?'} started${proc.starts > 1 ? ` (start ${proc.starts})` : ''}`,
      );
    };
    for (const [name, proc] of peers) {
      proc.on('exit', (info) => {
        const why = info.signal
          ? `its process ended: killed by ${info.signal}`
          : info.code === null
            ? 'it could not be started'
            : `its process ended: exit code ${info.code}`;
        run.setPeerState(name, 'gone', why);
        if (!info.expected) {
          log(name, 'exited', `exited on its own (code ${info.code}, signal ${info.signal})`);
        }
        this.emit('peer-exit', loaded, name, info);
      });
    }
    run.on('line-start', (l) => this.emit('line-start', loaded, l));
    run.on('line-end', (l) => this.emit('line-end', loaded, l));
    run.on('event', (f, e) => {
      if (e) this.emit('event', loaded, f, e);
    });
    run.on('log', (l) => this.emit('log', loaded, l));
    run.on('runner-line', (rec, line) => {
      this.runnerLine(run, line, peers, launch, log).then(
        ({ status, comment }) => run.completeRunnerLine(rec.seq, status, comment),
        (err: Error) => run.completeRunnerLine(rec.seq, 'FAILED', err.message),
      );
    });
    const aborted = new Promise<void>((resolve) => {
      if (this.opts.signal?.aborted) resolve();
      // Closing the run at once (synchronously, inside abort()) hands out no further line: with
      // `--bail` the line after the failed one must not start.
      this.opts.signal?.addEventListener(
        'abort',
        () => {
          run.close();
          resolve();
        },
        { once: true },
      );
    });
    const linesDone = new Promise<void>((resolve) => run.once('lines-done', resolve));
    let report: ScriptReport;
    try {
      this.emit('script-start', loaded, run, { testServerUrl: server.url, bootstrapUrl, runDir });
      for (const p of script.peers) if (!script.lateStart.includes(p)) launch(p);
      run.start();
      await Promise.race([linesDone, aborted]);
      if (!this.opts.signal?.aborted) {
        await Promise.race([
          run.whenSettled(script.settleMs ?? this.opts.settleMs ?? 5000),
          aborted,
        ]);
      }
      await server.coordinator.prepareSummary();
      report = buildScriptReport(run.timeline(), loaded.file);
    } finally {
      run.close();
      const grace = this.opts.stopGraceMs ?? 2000;
      await Promise.all([...peers.values()].map((p) => p.stop(grace)));
      await Promise.all([...peers.values()].map((p) => p.closeLog()));
    }
    report.peerLogs = await readLogTails(runDir, script.peers);
    return report;
  }

  private async runnerLine(
    run: TestRun,
    line: RunnerLine,
    peers: Map<string, PeerProcess>,
    launch: (peer: string) => void,
    log: (peer: string, kind: LogKind, text: string) => void,
  ): Promise<{ status: Status; comment?: string }> {
    const [a, b] = line.peers;
    const proc = peers.get(a)!;
    const notRunning = () => ({ status: 'FAILED' as const, comment: `${a} is not running` });
    switch (line.action) {
      case 'kill':
        if (proc.state === 'exited') return notRunning();
        await proc.kill();
        log(a, 'killed', `${line.text}: SIGKILL`);
        return { status: 'OK' };
      case 'stop':
        if (proc.state !== 'running') return notRunning();
        proc.pause();
        log(a, 'stopped', `${line.text}: SIGSTOP`);
        return { status: 'OK' };
      case 'cont':
        if (proc.state !== 'stopped') return { status: 'FAILED', comment: `${a} is not stopped` };
        proc.resume();
        log(a, 'continued', `${line.text}: SIGCONT`);
        return { status: 'OK' };
      case 'start':
        if (proc.state !== 'exited')
          return { status: 'FAILED', comment: `${a} is already running` };
        launch(a);
        return { status: 'OK' };
      case 'partition':
      case 'heal': {
        const onOff = line.action === 'partition' ? 'on' : 'off';
        const timeout = this.opts.controlTimeoutMs ?? 5000;
        const results = await Promise.all([
          run.control(a, `testpartition ${b} ${onOff}`, timeout),
          run.control(b, `testpartition ${a} ${onOff}`, timeout),
        ]);
        const kind: LogKind = line.action === 'partition' ? 'partitioned' : 'healed';
        log(a, kind, `${line.text}: link ${a}–${b} ${onOff === 'on' ? 'cut' : 'restored'}`);
        log(b, kind, `${line.text}: link ${a}–${b} ${onOff === 'on' ? 'cut' : 'restored'}`);
        const failed = results
          .map((r, i) => (r.status === 'OK' ? '' : `${[a, b][i]}: ${r.error ?? 'failed'}`))
          .filter(Boolean);
        return failed.length ? { status: 'FAILED', comment: failed.join('; ') } : { status: 'OK' };
      }
    }
  }
}

/** Lines of a peer's log kept in the report (JUnit system-out, HTML), from its end. */
export const LOG_TAIL_LINES = 40;

async function readLogTails(runDir: string, peers: string[]): Promise<Record<string, string>> {
  const tails: Record<string, string> = {};
  for (const peer of peers) {
    try {
      const lines = (await readFile(join(runDir, `${peer}.log`), 'utf8')).trimEnd().split('\n');
      tails[peer] = lines.slice(-LOG_TAIL_LINES).join('\n');
    } catch {
      // A peer that was never started has no log.
    }
  }
  return tails;
}

/** Plain-text summary table of a report, for terminals and CI logs. */
export function formatSummaryTable(report: TestReport): string {
  const out: string[] = [];
  for (const s of report.scripts) {
    out.push(
      `${s.ok ? 'PASSED' : 'FAILED'}  ${s.name} (${s.file ?? ''})  ${s.cases.length} cases, ${s.failures} failed, ${formatDuration(s.durationMs)}`,
    );
    const peerW = Math.max(4, ...s.cases.map((c) => c.peer.length));
    for (const c of s.cases) {
      const where = c.line === undefined ? '     ' : `L${String(c.line).padEnd(4)}`;
      const took = c.durationMs === undefined ? '' : ` (${formatDuration(c.durationMs)})`;
      const why = c.status === 'OK' ? '' : `  — ${c.result}${c.comment ? `: ${c.comment}` : ''}`;
      out.push(
        `  ${c.status.padEnd(6)} ${where} ${c.peer.padEnd(peerW)} ${c.kind.padEnd(7)} ${c.test}${took}${why}`,
      );
    }
  }
  out.push(
    `${report.ok ? 'PASSED' : 'FAILED'}: ${report.scripts.length} script(s), ${report.cases} cases, ${report.failures} failed, ${formatDuration(report.durationMs)}`,
  );
  return out.join('\n');
}
