import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';

export interface PeerSpawnSpec {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export type PeerState = 'running' | 'stopped' | 'exited';

export interface PeerProcessEvents {
  /** The process ended; `expected` when the runner ended it (kill, stop at the end). */
  exit: [{ code: number | null; signal: NodeJS.Signals | null; expected: boolean }];
}

/**
 * One peer process the runner owns: started with pipes (no TTY, so the peer runs in line mode),
 * stdout and stderr appended to a log file, stdin kept open so that the peer does not read EOF.
 */
export class PeerProcess extends EventEmitter<PeerProcessEvents> {
  readonly name: string;
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private exited: Promise<void> = Promise.resolve();
  private expectExit = false;
  state: PeerState = 'exited';
  /** Times started, so the log file tells restarts apart. */
  starts = 0;

  constructor(name: string) {
    super();
    this.name = name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(spec: PeerSpawnSpec, logFile: string): void {
    if (this.state !== 'exited') throw new Error(`${this.name} is already running`);
    this.starts++;
    this.expectExit = false;
    this.log ??= createWriteStream(logFile, { flags: 'a' });
    this.log.write(`--- start ${this.starts}: ${spec.command} ${spec.args.join(' ')}\n`);
    const child = spawn(spec.command, spec.args, {
      env: spec.env,
      cwd: spec.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    this.state = 'running';
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    // A peer that exits while we write to it must not take the runner down.
    child.stdin?.on('error', () => {});
    this.exited = new Promise((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (done) return;
        done = true;
        this.state = 'exited';
        this.log?.write(`--- exit: code ${code} signal ${signal}\n`);
        this.emit('exit', { code, signal, expected: this.expectExit });
        resolve();
      };
      child.once('exit', finish);
      child.once('error', (err) => {
        this.log?.write(`--- could not start: ${err.message}\n`);
        finish(null, null);
      });
    });
  }

  /** SIGKILL, resolved once the process is gone. */
  async kill(): Promise<void> {
    if (this.state === 'exited') return;
    this.expectExit = true;
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  pause(): void {
    if (this.state !== 'running') throw new Error(`${this.name} is not running`);
    this.child?.kill('SIGSTOP');
    this.state = 'stopped';
  }

  resume(): void {
    if (this.state !== 'stopped') throw new Error(`${this.name} is not stopped`);
    this.child?.kill('SIGCONT');
    this.state = 'running';
  }

  /** SIGTERM (a stopped process is killed outright), then SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.state === 'exited') return;
    this.expectExit = true;
    if (this.state === 'stopped') {
      await this.kill();
      return;
    }
    this.child?.stdin?.end();
    this.child?.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.child?.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, forced]);
    clearTimeout(timer);
    await this.exited;
  }

  async closeLog(): Promise<void> {
    const log = this.log;
    this.log = undefined;
    if (log) await new Promise<void>((resolve) => log.end(resolve));
  }
}
