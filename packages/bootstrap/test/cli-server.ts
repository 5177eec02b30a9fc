/*
 * Starts `isopeer bootstrap-server` as a real child process on a loopback port chosen by the
 * kernel, and waits for its first stdout line `listening on http://HOST:PORT (...)`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** packages/isopeer/dist/src/cli.js, from packages/bootstrap/dist/test/. */
export const CLI = fileURLToPath(new URL('../../../isopeer/dist/src/cli.js', import.meta.url));

export interface CliServer {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the server wrote to stdout so far, line by line. */
  lines: string[];
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** Resolves when a stdout line matches, or rejects at the deadline. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
}

export async function startCliServer(args: string[], timeoutMs = 15000): Promise<CliServer> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build packages/isopeer first`);
  const child = spawn(process.execPath, [CLI, 'bootstrap-server', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: withoutAdminToken(),
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let pending = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      for (const w of waiters) w();
      resolve(code);
    });
  });

  const waitForLine = (re: RegExp, ms = timeoutMs) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const hit = lines.find((l) => re.test(l));
        if (hit !== undefined) return done(() => resolve(hit));
        if (child.exitCode !== null || child.signalCode !== null) {
          done(() =>
            reject(new Error(`server exited (${child.exitCode ?? child.signalCode}): ${stderr}`)),
          );
        }
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`no line matching ${re} within ${ms} ms: ${stderr}`))),
        ms,
      );
      const done = (f: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        f();
      };
      waiters.add(check);
      check();
    });

  let first: string;
  try {
    first = await waitForLine(/^listening on /);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const url = /^listening on (http:\/\/\S+)/.exec(first)![1];
  return {
    url,
    port: Number(new URL(url).port),
    child,
    lines,
    waitForLine,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs the CLI to completion (for bad-option tests). */
export function runCli(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: withoutAdminToken(),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The test's environment minus an admin token that would change the server under test. */
function withoutAdminToken(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.BOOTSTRAP_ADMIN_TOKEN;
  return env;
}
