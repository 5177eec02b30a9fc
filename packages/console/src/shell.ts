import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { ConsoleError } from './errors.js';

export interface RunProgramOptions {
  /** Kill the program after this many milliseconds; 0 or undefined = no limit. */
  timeoutMs?: number;
  signal?: AbortSignal;
  cwd?: string;
  onStdout(line: string): void;
  onStderr(line: string): void;
  /** Time between SIGTERM and SIGKILL when the program must stop; default 2000 ms. */
  killGraceMs?: number;
}

export interface ProgramResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
}

/** Longest line passed on whole; longer runs without a newline are split. */
const MAX_LINE = 64 * 1024;

/**
 * Runs `program` with `args` directly (no shell, so arguments are never re-interpreted), streams
 * its output line by line, and kills it — with everything it started — on timeout or abort.
 */
export function runProgram(
  program: string,
  args: string[],
  opts: RunProgramOptions,
): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      resolve({ code: null, signal: null, timedOut: false, aborted: true });
      return;
    }
    // A process group of its own lets a timeout kill grandchildren too (e.g. `sh -c "sleep 99"`),
    // which would otherwise keep the output pipes open.
    const child = spawn(program, args, {
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    let timedOut = false;
    let aborted = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stopGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, sig);
        else child.kill(sig);
      } catch {
        // Already gone.
      }
    };
    const stop = () => {
      stopGroup('SIGTERM');
      killTimer ??= setTimeout(() => stopGroup('SIGKILL'), opts.killGraceMs ?? 2000);
    };
    const timer =
      opts.timeoutMs && opts.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            stop();
          }, opts.timeoutMs)
        : undefined;
    const onAbort = () => {
      aborted = true;
      stop();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const out = lineSplitter(opts.onStdout);
    const err = lineSplitter(opts.onStderr);
    child.stdout.on('data', out.push);
    child.stderr.on('data', err.push);
    const finish = () => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      finish();
      const why =
        e.code === 'ENOENT'
          ? 'program not found'
          : e.code === 'EACCES'
            ? 'permission denied'
            : e.message;
      reject(new ConsoleError('CONSOLE_SHELL', `cannot run ${program}: ${why}`));
    });
    child.once('close', (code, sig) => {
      if (settled) return;
      settled = true;
      finish();
      out.end();
      err.end();
      resolve({ code, signal: sig, timedOut, aborted });
    });
  });
}

function lineSplitter(emit: (line: string) => void): {
  push: (b: Buffer) => void;
  end: () => void;
} {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const drain = (final: boolean) => {
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      emit(pending.slice(0, nl).replace(/\r$/, ''));
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
    while (pending.length > MAX_LINE) {
      emit(pending.slice(0, MAX_LINE));
      pending = pending.slice(MAX_LINE);
    }
    if (final && pending.length > 0) {
      emit(pending.replace(/\r$/, ''));
      pending = '';
    }
  };
  return {
    push: (b) => {
      pending += decoder.write(b);
      drain(false);
    },
    end: () => {
      pending += decoder.end();
      drain(true);
    },
  };
}
