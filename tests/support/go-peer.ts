// Builds the Go reference peer (bench/go-peer) once per source version into <repo>/.cache, with
// Debian's Go toolchain and memberlist sources in GOPATH mode (no network, no module proxy).
// Parallel test files share one build: the first takes a lock directory, the rest wait for the
// binary, and the binary only ever appears by an atomic rename.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { partMissing, runToEnd } from '@isopeer/test-support';
import { repoRoot } from './paths.js';

export const GO_MEMBERLIST_SRC = '/usr/share/gocode/src/github.com/hashicorp/memberlist';
const GOPATH_SYSTEM = '/usr/share/gocode';
const SOURCE_DIR = join(repoRoot, 'bench', 'go-peer');
const CACHE = join(repoRoot, '.cache');
const BUILD_TIMEOUT_MS = 180_000;
/** A lock older than this belongs to a crashed builder and may be taken over. */
const STALE_LOCK_MS = 240_000;

export class GoPeerUnavailableError extends Error {
  readonly code = 'GO_PEER_UNAVAILABLE';
}

function sourceHash(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(SOURCE_DIR)
    .filter((n) => n.endsWith('.go'))
    .sort()) {
    h.update(f)
      .update('\0')
      .update(readFileSync(join(SOURCE_DIR, f)));
  }
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  h.update(go.stdout ?? '');
  return h.digest('hex').slice(0, 16);
}

/** Why the Go peer cannot be built here, or null when the toolchain and sources are present. */
export function goPeerMissing(): string | null {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    return `the Go toolchain is not installed (\`go version\` failed: ${go.error?.message ?? go.stderr}); install Debian's golang-go`;
  }
  if (!existsSync(join(GO_MEMBERLIST_SRC, 'memberlist.go'))) {
    return `HashiCorp memberlist sources are missing at ${GO_MEMBERLIST_SRC}; install Debian's golang-github-hashicorp-memberlist-dev`;
  }
  return null;
}

async function runBuild(out: string): Promise<void> {
  const env = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: `${join(CACHE, 'gopath')}:${GOPATH_SYSTEM}`,
    GOCACHE: join(CACHE, 'go-build'),
    GOFLAGS: '',
    GOPROXY: 'off',
    CGO_ENABLED: '0',
  };
  const r = await runToEnd('go', ['build', '-o', out, '.'], {
    cwd: SOURCE_DIR,
    env,
    timeoutMs: BUILD_TIMEOUT_MS,
  });
  if (r.code !== 0) {
    throw new Error(
      `go build of bench/go-peer failed (${r.signal ?? `exit ${r.code}`}):\n${r.stderr}`,
    );
  }
}

function lockAge(lock: string): number {
  try {
    return Date.now() - statSync(lock).mtimeMs;
  } catch {
    return 0;
  }
}

let building: Promise<string> | undefined;

/**
 * Path of a built Go peer binary for the current sources. Throws GoPeerUnavailableError when
 * the toolchain or memberlist sources are missing.
 */
export function goPeerBinary(): Promise<string> {
  building ??= buildOnce();
  return building;
}

async function buildOnce(): Promise<string> {
  const missing = goPeerMissing();
  if (missing) throw new GoPeerUnavailableError(missing);
  const dir = join(CACHE, 'go-peer', sourceHash());
  const bin = join(dir, 'go-peer');
  const lock = join(dir, 'build.lock');
  mkdirSync(dir, { recursive: true });
  const deadline = Date.now() + BUILD_TIMEOUT_MS + 30_000;
  while (!existsSync(bin)) {
    try {
      mkdirSync(lock);
    } catch {
      if (lockAge(lock) > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline)
        throw new Error(`timed out waiting for another build (${lock})`);
      else await new Promise((r) => setTimeout(r, 200)); // polling another process's build
      continue;
    }
    try {
      if (!existsSync(bin)) {
        const tmp = `${bin}.${process.pid}.tmp`;
        await runBuild(tmp);
        renameSync(tmp, bin);
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return bin;
}

/**
 * For a test file's top level: false when the Go peer is available (and built), else a skip
 * reason. Under CI (`isCI` of @isopeer/test-support) a missing Go peer is an error, never a skip.
 */
export async function goPeerSkip(): Promise<false | string> {
  try {
    await goPeerBinary();
    return false;
  } catch (e) {
    if (!(e instanceof GoPeerUnavailableError)) throw e;
    return partMissing(`Go reference peer unavailable: ${e.message}`);
  }
}
