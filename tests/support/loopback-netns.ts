// Attack tests send packets with forged addresses in them. They run inside a fresh network
// namespace that holds nothing but loopback, so a forged address can never make a node send a
// packet off this machine: the test file re-executes itself under `unshare -n`.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { runToEnd } from '@isopeer/test-support';

/** Set in the re-executed child; its value is the reason it was set, for anyone reading env. */
export const LOOPBACK_NETNS_ENV = 'ISOPEER_LOOPBACK_NETNS';

/** Why a loopback-only namespace cannot be made here (not root, no unshare/ip), or null. */
export function loopbackNetnsMissing(): string | null {
  const r = spawnSync('unshare', ['-n', '--', 'ip', 'link', 'set', 'lo', 'up'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (r.error) return `unshare is not available (${r.error.message}); install util-linux`;
  if (r.status !== 0) {
    return `cannot create a network namespace (unshare -n: ${r.stderr.trim() || `exit ${r.status}`}); run as root or in CI`;
  }
  return null;
}

/** True when this process was re-executed inside the namespace. */
export function insideLoopbackNetns(): boolean {
  return process.env[LOOPBACK_NETNS_ENV] !== undefined;
}

/** Throws unless the only network interface is loopback (so nothing can leave the machine). */
export function assertOnlyLoopback(): void {
  // /proc/self/net follows this process's namespace (a /sys mounted outside it does not).
  const links = readFileSync('/proc/self/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0].trim())
    .filter((l) => l !== '');
  if (links.length !== 1 || links[0] !== 'lo') {
    throw new Error(
      `refusing to send forged packets: interfaces ${links.join(', ')} (only lo expected); ${LOOPBACK_NETNS_ENV} must only be set by runInLoopbackNetns`,
    );
  }
}

/** Our environment, marked, and without the parent test runner's channel (its child reports
 * in the runner's binary format when NODE_TEST_CONTEXT is inherited). */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [LOOPBACK_NETNS_ENV]: 'attack tests: loopback only',
  };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

export interface NetnsRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/**
 * Runs `node <file>` (a test file: node:test runs its tests and exits non-zero on failure)
 * in a new network namespace with loopback up, killing it after `timeoutMs`.
 */
export async function runInLoopbackNetns(file: string, timeoutMs: number): Promise<NetnsRun> {
  const r = await runToEnd(
    'unshare',
    [
      '-n',
      '--',
      'sh',
      '-c',
      'ip link set lo up && exec "$0" "$@"',
      process.execPath,
      '--test-reporter=tap',
      file,
    ],
    { env: childEnv(), timeoutMs },
  );
  return { code: r.code, signal: r.signal, output: r.output };
}
