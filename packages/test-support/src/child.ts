import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Written to the child's standard input, which is then closed; without it stdin is empty. */
  stdin?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The child is killed (SIGKILL) if it runs longer; default 20 s. */
  timeoutMs?: number;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Both streams in the order their chunks arrived. */
  output: string;
  /** The child was killed for outliving `timeoutMs`. */
  timedOut: boolean;
}

/**
 * Runs a command to its end and collects what it printed. Resolves however the child ended
 * (exit code, signal, or killed at the time limit: `timedOut`); rejects only when it could not be
 * started at all.
 */
export function runToEnd(cmd: string, args: string[], opts: RunOptions = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d;
      output += d;
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d;
      output += d;
    });
    if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 20_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, output, timedOut });
    });
  });
}
