import { EventEmitter } from 'node:events';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadRequestError, ConflictError, TestkitError } from './errors.js';
import type { RunLimits } from './limits.js';
import type { SummaryEntry } from './protocol.js';
import { TestRun } from './run.js';
import { parseScript, RUNNER_PEER, SCRIPT_NAME, type Script } from './script.js';

/** A script named by /init does not exist in the test directory. */
export class ScriptNotFoundError extends TestkitError {
  constructor(name: string, dir: string) {
    super('SCRIPT_NOT_FOUND', `no test script ${name}.cmd in ${dir}`);
  }
}

export interface CoordinatorOptions {
  /** Where `NAME.cmd` scripts are read from and `<run id>/` result folders written to. */
  dir: string;
  /** Deadline of a line unless the script sets `@deadline`; default 30 s. */
  lineDeadlineMs?: number;
  /** Extra time a peer that has not polled yet gets before its line's deadline starts; 10 s. */
  peerStartupMs?: number;
  /** What one run may store of what clients send; see `DEFAULT_RUN_LIMITS`. */
  limits?: Partial<RunLimits>;
}

export const DEFAULT_LINE_DEADLINE_MS = 30_000;

/**
 * Emits `run` with each new run before it starts.
 *
 * Holds the test server's one current run (the original had exactly one) and the summaries
 * prepared for it, and writes the run files of the original under `<dir>/<run id>/`.
 */
export class TestCoordinator extends EventEmitter<{ run: [TestRun] }> {
  readonly dir: string;
  readonly lineDeadlineMs: number;
  readonly peerStartupMs: number | undefined;
  readonly limits: Partial<RunLimits>;
  private current: TestRun | undefined;
  private summaries = new Map<string, SummaryEntry[]>();
  private writing: Promise<unknown> = Promise.resolve();
  /** Set by `close()`: no run file is written after it, so the caller may remove the directory. */
  private closed = false;

  constructor(opts: CoordinatorOptions) {
    super();
    this.dir = opts.dir;
    this.lineDeadlineMs = opts.lineDeadlineMs ?? DEFAULT_LINE_DEADLINE_MS;
    this.peerStartupMs = opts.peerStartupMs;
    this.limits = opts.limits ?? {};
  }

  get run(): TestRun | undefined {
    return this.current;
  }

  requireRun(): TestRun {
    if (!this.current) throw new ConflictError('no test run: call /init NAME first');
    return this.current;
  }

  /**
   * `/init NAME` (or `NAME.cmd`): the first call loads `<dir>/NAME.cmd` into a new run; later
   * calls for the same name answer that run. Another name replaces a finished run but not an active one.
   */
  async init(given: string): Promise<TestRun> {
    // `cli-chat -testfile=NAME.cmd` names the file; the test is the same one.
    const name = given.endsWith('.cmd') ? given.slice(0, -'.cmd'.length) : given;
    // A malformed name (`../x`, `a/b`) is a bad request whatever the run's state.
    if (!SCRIPT_NAME.test(name)) {
      throw new BadRequestError(
        `bad test name ${JSON.stringify(name)}: use letters, digits, _ . -`,
      );
    }
    const cur = this.current;
    if (cur && cur.name === name) return cur;
    if (cur && !cur.done) {
      throw new ConflictError(`run ${cur.name} is still active; /resetrun first`);
    }
    const file = join(this.dir, `${name}.cmd`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new ScriptNotFoundError(name, this.dir);
      throw err;
    }
    // Another /init may have won the race while the file was read.
    if (this.current && this.current.name === name) return this.current;
    const run = this.createRun(parseScript(text, name, file));
    run.start();
    return run;
  }

  /** Makes a new current run without starting it, so that listeners attach first. */
  createRun(script: Script): TestRun {
    this.current?.close();
    this.summaries = new Map();
    this.current = new TestRun(script, this.lineDeadlineMs, this.peerStartupMs, this.limits);
    this.emit('run', this.current);
    return this.current;
  }

  resetRun(): void {
    this.current?.close();
    this.current = undefined;
    this.summaries = new Map();
  }

  /** Builds the evaluations of `peer` (all peers when absent) and writes the run files. */
  async prepareSummary(peer?: string): Promise<SummaryEntry[]> {
    const run = this.requireRun();
    const known = [...run.peers, RUNNER_PEER];
    // Only the run's own peers: a summary per made-up name would grow without bound.
    if (peer && !known.includes(peer)) {
      throw new ConflictError(`${peer} is not a peer of run ${run.name}`);
    }
    const peers = peer ? [peer] : known;
    for (const p of peers) this.summaries.set(p, run.summary(p));
    await this.writeRunFiles(run);
    return peers.flatMap((p) => this.summaries.get(p) ?? []);
  }

  /** Everything prepared so far, in script order of the peers. */
  summary(): SummaryEntry[] {
    const run = this.current;
    if (!run) return [];
    return [...run.peers, RUNNER_PEER].flatMap((p) => this.summaries.get(p) ?? []);
  }

  /** `testRun.json`, `testEventFilters.json`, `testSummary.json` (original) and `timeline.json`. */
  writeRunFiles(run: TestRun): Promise<string> {
    // A peer's late /preparesummary must not write into a directory its owner is removing.
    if (this.closed) return Promise.reject(new ConflictError('the test server is closing'));
    // One write at a time: peers and the runner prepare summaries at the same moment, and the
    // files must end up with the last summary, never with a half-renamed mix.
    const written = this.writing.then(() => this.writeRunFilesNow(run));
    this.writing = written.catch(() => {});
    return written;
  }

  private async writeRunFilesNow(run: TestRun): Promise<string> {
    const dir = join(this.dir, run.id);
    await mkdir(dir, { recursive: true });
    const files: Record<string, unknown> = {
      'testRun.json': run.document(),
      'testEventFilters.json': run.eventFilters(),
      'testSummary.json': this.summary(),
      'timeline.json': run.timeline(),
    };
    for (const [name, doc] of Object.entries(files)) {
      // Write then rename, so a reader never sees half a file.
      const tmp = join(dir, `.${name}.tmp`);
      await writeFile(tmp, `${JSON.stringify(doc, null, 2)}\n`);
      await rename(tmp, join(dir, name));
    }
    return dir;
  }

  /** Ends the current run and refuses further run files. */
  close(): void {
    this.closed = true;
    this.current?.close();
  }

  /** Resolves once every run-file write requested so far has finished. */
  async idle(): Promise<void> {
    await this.writing;
  }
}
