import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { startBootstrapServer } from '@isopeer/bootstrap/server';
import { NetFaults } from './faults.js';
import {
  faultLogText,
  type NetMode,
  type NetworkInfo,
  openNetwork,
  type PeerNetwork,
} from './network.js';
import { expandPeerTemplate, PeerCommandError, type PeerTemplates } from './peer-command.js';
import { PeerProcess, type PeerSpawnSpec } from './peer-process.js';
import type { LogKind, Status } from './protocol.js';
import {
  buildScriptReport,
  buildTestReport,
  type ScriptReport,
  type TestReport,
} from './report/model.js';
import type { EventRecord, FilterRecord, LineRecord, LogRecord, TestRun } from './run.js';
import {
  needsKernel,
  parseScript,
  type RunnerLine,
  type Script,
  scriptNameFromPath,
} from './script.js';
import { createTestServer, type RunningTestServer } from './server.js';

/** What the runner needs to start one peer. */
export interface PeerLaunch {
  peer: string;
  scriptName: string;
  testServerUrl: string;
  bootstrapUrl: string;
  /** This run's directory (`<outDir>/<run id>`): a place for the peer's own state. */
  runDir: string;
  /** The peer's IP address: its own in a namespace, 127.0.0.1 on loopback. */
  address: string;
}

export interface RunnerOptions {
  /** Script files, run one after the other, each with fresh peers and a fresh bootstrap service. */
  scripts: string[];
  /**
   * Peer command templates (`--peer-cmd`): per peer (`NAME=...`, ahead of the script's `@peer`
   * lines) and a default (behind them). See peer-command.ts for the placeholders.
   */
  peerTemplates?: PeerTemplates;
  /** Names a template's first word may use for a program, e.g. `isopeer` → [node, cli.js]. */
  programs?: Record<string, string[]>;
  /** How to start a peer no template covers. */
  peerCommand?(launch: PeerLaunch): PeerSpawnSpec;
  /** Network of the peers; default `loopback` (the CLI asks for `auto`). */
  net?: NetMode;
  /** Address range for `netns`; default 198.18.0.0/15. */
  netRange?: string;
  /** Where runners keep their claims on address blocks; default /run/isopeer/netns. */
  netStateDir?: string;
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
  /** How long a peer may take to apply `testpartition` (loopback mode); default 5 s. */
  controlTimeoutMs?: number;
  /** Aborting stops the current script: remaining lines are reported as not reached. */
  signal?: AbortSignal;
}

export interface LoadedScript {
  file: string;
  script: Script;
}

export interface RunnerEvents {
  /** The peers' network, once it is set up (before the first script). */
  network: [NetworkInfo];
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
 * per peer of a script (in its own network namespace in `netns` mode), runner lines (`@kill`,
 * `@stop`, `@cont`, `@start` and the network faults) executed here, reports built from the run.
 * Emits progress; never prints. Everything it creates is removed when `run()` settles.
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
    const network = await openNetwork(
      {
        mode: this.opts.net ?? 'loopback',
        range: this.opts.netRange,
        stateDir: this.opts.netStateDir,
      },
      this.opts.controlTimeoutMs ?? 5000,
    );
    const reports: ScriptReport[] = [];
    try {
      this.emit('network', network.info);
      const server = await createTestServer({
        dir: this.outDir,
        host: network.hostAddress,
        port: 0,
        lineDeadlineMs: this.opts.lineDeadlineMs,
        peerStartupMs: this.opts.peerStartupMs,
      });
      try {
        for (const loaded of scripts) {
          if (this.opts.signal?.aborted) break;
          const r = await this.runScript(server, network, loaded);
          reports.push(r);
          this.emit('script-end', r);
        }
      } finally {
        await server.close();
      }
    } finally {
      await network.close();
    }
    return buildTestReport(reports, started);
  }

  private async runScript(
    server: RunningTestServer,
    network: PeerNetwork,
    loaded: LoadedScript,
  ): Promise<ScriptReport> {
    const { script } = loaded;
    const kernel = script.lines.find((l) => l.kind === 'runner' && needsKernel(l));
    if (kernel && network.info.mode === 'loopback') {
      const why = network.info.reason ? `: ${network.info.reason}` : '';
      return this.refuse(
        server,
        loaded,
        kernel.lineNo,
        `${kernel.text} needs the kernel (--net netns), but peers run on loopback${why}`,
      );
    }
    try {
      await network.addPeers(script.peers);
    } catch (err) {
      await network.removePeers().catch(() => {});
      return this.refuse(
        server,
        loaded,
        script.lines[0].lineNo,
        `the peers' namespaces could not be set up: ${(err as Error).message}`,
      );
    }
    try {
      const bootstrap = await startBootstrapServer({
        host: network.hostAddress,
        port: 0,
        store: 'memory',
      });
      try {
        return await this.runWithBootstrap(server, network, bootstrap.url, loaded);
      } finally {
        await bootstrap.close();
      }
    } finally {
      await network.removePeers();
    }
  }

  /**
   * A script that cannot run here (network faults only the kernel can apply, on loopback; no
   * namespaces for its peers) fails at once without starting a peer: line `lineNo` is FAILED
   * with `why`, the others are not reached.
   */
  private refuse(
    server: RunningTestServer,
    loaded: LoadedScript,
    lineNo: number,
    why: string,
  ): ScriptReport {
    const run = server.coordinator.createRun(loaded.script);
    run.close();
    const tl = run.timeline();
    const line = tl.lines.find((l) => l.lineNo === lineNo)!;
    line.startedAt = line.endedAt = Date.now();
    line.status = 'FAILED';
    line.comment = why;
    this.emit('script-start', loaded, run, {
      testServerUrl: server.url,
      bootstrapUrl: '-',
      runDir: join(this.outDir, run.id),
    });
    this.emit('line-end', loaded, line);
    return buildScriptReport(tl, loaded.file);
  }

  private async runWithBootstrap(
    server: RunningTestServer,
    network: PeerNetwork,
    bootstrapUrl: string,
    loaded: LoadedScript,
  ): Promise<ScriptReport> {
    const { script } = loaded;
    const run = server.coordinator.createRun(script);
    const runDir = join(this.outDir, run.id);
    await mkdir(runDir, { recursive: true });
    const peers = new Map(script.peers.map((p) => [p, new PeerProcess(p)]));
    const faults = new NetFaults(script.peers);
    const log = (peer: string, kind: LogKind, text: string) => run.putLog({ peer, kind, text });
    const launch = (peer: string) => {
      const proc = peers.get(peer)!;
      let spec: PeerSpawnSpec;
      try {
        spec = this.peerSpec(loaded, {
          peer,
          scriptName: script.name,
          testServerUrl: server.url,
          bootstrapUrl,
          runDir,
          address: network.address(peer),
        });
      } catch (err) {
        // The peer cannot start; its lines fail at once, saying why.
        run.setPeerState(peer, 'gone', (err as Error).message);
        return;
      }
      run.setPeerState(peer, 'starting');
      proc.start(network.wrap(peer, spec), join(runDir, `${peer}.log`));
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
      const done =
        line.action in NETWORK_ACTIONS
          ? this.networkFault(run, line, faults, network)
          : this.runnerLine(line, peers, launch, log);
      done.then(
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

  /** The command that starts `launch.peer`, with the environment every peer gets. */
  private peerSpec({ file, script }: LoadedScript, launch: PeerLaunch): PeerSpawnSpec {
    const { peer } = launch;
    const template =
      this.opts.peerTemplates?.peers?.[peer] ??
      script.peerCommands[peer] ??
      this.opts.peerTemplates?.default;
    let spec: PeerSpawnSpec;
    if (template !== undefined) {
      const words = expandPeerTemplate(template, {
        name: peer,
        test: launch.scriptName,
        test_server: launch.testServerUrl,
        bootstrap: launch.bootstrapUrl,
        addr: launch.address,
        state_dir: join(launch.runDir, `${peer}.state`),
      });
      const alias = Object.hasOwn(this.opts.programs ?? {}, words[0])
        ? this.opts.programs![words[0]]
        : undefined;
      spec = alias
        ? { command: alias[0], args: [...alias.slice(1), ...words.slice(1)] }
        : { command: words[0], args: words.slice(1) };
    } else if (this.opts.peerCommand) {
      spec = this.opts.peerCommand(launch);
    } else {
      throw new PeerCommandError(`no command to start ${peer}: give --peer-cmd or a @peer line`);
    }
    return {
      ...spec,
      // What the original clients read, set for every peer whatever starts it.
      env: {
        ...(spec.env ?? process.env),
        TEST_SIDECAR_SERVER: launch.testServerUrl,
        BOOTSTRAP_DATA_SERVER: launch.bootstrapUrl,
        TEST_DIR: resolve(dirname(file)),
        ISOPEER_PEER_ADDR: launch.address,
      },
    };
  }

  private async networkFault(
    run: TestRun,
    line: RunnerLine,
    faults: NetFaults,
    network: PeerNetwork,
  ): Promise<{ status: Status; comment?: string }> {
    const change = faults.apply(line);
    const result = await network.applyFaults(faults, change, run);
    for (const l of change.logs) {
      run.putLog({ peer: l.peer, kind: l.kind, text: faultLogText(line.text, l), fault: l.fault });
    }
    return result;
  }

  private async runnerLine(
    line: RunnerLine,
    peers: Map<string, PeerProcess>,
    launch: (peer: string) => void,
    log: (peer: string, kind: LogKind, text: string) => void,
  ): Promise<{ status: Status; comment?: string }> {
    const [a] = line.peers;
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
        return proc.state === 'exited'
          ? { status: 'FAILED', comment: `${a} could not be started` }
          : { status: 'OK' };
      default:
        throw new Error(`@${line.action} is not a process action`);
    }
  }
}

/** Runner actions that change the network rather than a process. */
const NETWORK_ACTIONS = { partition: 1, heal: 1, isolate: 1, loss: 1, rate: 1 };

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
