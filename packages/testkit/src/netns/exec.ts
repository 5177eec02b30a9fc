import { spawn } from 'node:child_process';
import { TestkitError } from '../errors.js';

/** A kernel network operation (`ip`, `nft`, `tc`) failed or could not be started. */
export class NetnsError extends TestkitError {
  constructor(message: string) {
    super('NETNS', message);
  }
}

export interface ExecOptions {
  /** Text written to the command's stdin (`ip -batch -`, `nft -f -`). */
  input?: string;
  /** Killed after this long; default 10 s. */
  timeoutMs?: number;
  /** Resolve instead of throwing when the exit code is not 0. */
  allowFailure?: boolean;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;

/** Runs one system command without a shell; throws NetnsError with its stderr when it fails. */
export function exec(command: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const shown = `${command} ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    // The command may exit before reading its input (a bad option); that is reported by its code.
    child.stdin.on('error', () => {});
    const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new NetnsError(`${command}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 || opts.allowFailure) {
        resolve({ code, stdout, stderr });
        return;
      }
      const why = signal ? `killed by ${signal} after ${timeoutMs} ms` : `exit code ${code}`;
      const detail = stderr.trim().split('\n').slice(0, 3).join(' | ');
      reject(new NetnsError(`${shown.slice(0, 200)}: ${why}${detail ? `: ${detail}` : ''}`));
    });
    child.stdin.end(opts.input ?? '');
  });
}
