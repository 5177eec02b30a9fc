// Runs `isopeer test ...` as a child process, collecting its output, for the end-to-end tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { isopeerCli, repoRoot } from './paths.js';

export interface Ran {
  code: number | null;
  out: string;
  ms: number;
}

export interface StartedTest {
  child: ChildProcess;
  /** Resolves with the output so far once `pattern` appeared in it; rejects if it exits first. */
  seen(pattern: RegExp): Promise<string>;
  /** The exit; the runner is killed (and this rejects) if it runs longer than `limitMs`. */
  done: Promise<Ran>;
}

export interface IsopeerTestOptions {
  limitMs?: number;
  /** Extra environment for the runner. */
  env?: Record<string, string>;
}

export function startIsopeerTest(args: string[], opts: IsopeerTestOptions = {}): StartedTest {
  const t0 = Date.now();
  const limitMs = opts.limitMs ?? 150_000;
  const child = spawn(process.execPath, [isopeerCli, 'test', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
  });
  let out = '';
  const waiters = new Set<() => void>();
  const collect = (d: Buffer) => {
    out += d;
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, limitMs);
  const done = once(child, 'exit').then(([code]) => {
    clearTimeout(timer);
    if (timedOut) throw new Error(`isopeer test did not finish within ${limitMs} ms:\n${out}`);
    return { code: code as number | null, out, ms: Date.now() - t0 };
  });
  const seen = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(out)) return;
        waiters.delete(check);
        resolve(out);
      };
      waiters.add(check);
      done.then(
        () => reject(new Error(`exited before ${pattern}:\n${out}`)),
        (err: Error) => reject(err),
      );
      check();
    });
  return { child, seen, done };
}

/** Runs `isopeer test ...`; it must exit on its own well within `limitMs`. */
export function isopeerTest(args: string[], opts: IsopeerTestOptions = {}): Promise<Ran> {
  return startIsopeerTest(args, opts).done;
}
