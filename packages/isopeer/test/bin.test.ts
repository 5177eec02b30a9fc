// The `isopeer` bin as npm installs it: the committed shim (bin/isopeer.js) in a copy of the
// package outside the repository, first without a build, then with a bundle made from the
// current tsc output by the same script `npm run build` runs (so this never tests a stale one).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

// This file runs from packages/isopeer/dist/test/.
const pkgDir = fileURLToPath(new URL('../../', import.meta.url));
const repoRoot = join(pkgDir, '..', '..');
const version = (
  JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }
).version;
const TIMEOUT_MS = 60_000;

/** A copy of the package as an install lays it out: package.json, bin/, node_modules. */
function installedCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'isopeer-bin-'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(pkgDir, 'package.json'), join(dir, 'package.json'));
  copyFileSync(join(pkgDir, 'bin', 'isopeer.js'), join(dir, 'bin', 'isopeer.js'));
  // npm dependencies (commander, ...) stay outside the bundle; an install puts them here.
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function run(dir: string, args: string[]) {
  return spawnSync(process.execPath, [join(dir, 'bin', 'isopeer.js'), ...args], {
    encoding: 'utf8',
    input: '',
    timeout: TIMEOUT_MS,
  });
}

describe('isopeer bin before a build', () => {
  let dir: string;
  before(() => {
    dir = installedCopy();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const args of [['--version'], ['node', '--name', 'x'], []]) {
    test(`\`isopeer ${args.join(' ')}\` says to run npm run build and exits 1`, () => {
      const r = run(dir, args);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(
        r.stderr,
        /^isopeer: the command is not built yet \(.*dist\/bundle\/cli\.js is missing\)\./,
      );
      assert.match(r.stderr, /Run `npm run build`/);
      assert.doesNotMatch(r.stderr, /at .*\(|ERR_MODULE_NOT_FOUND/, 'no stack trace');
      assert.equal(r.stderr.trim().split('\n').length, 2);
    });
  }
});

describe('isopeer bin after a build', () => {
  let dir: string;
  before(() => {
    dir = installedCopy();
    const outdir = join(dir, 'dist', 'bundle');
    const b = spawnSync(
      process.execPath,
      [join(repoRoot, 'scripts', 'bundle-cli.mjs'), '--outdir', outdir],
      { encoding: 'utf8', timeout: TIMEOUT_MS },
    );
    assert.equal(b.status, 0, `bundle-cli failed: ${b.stderr}`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const flag of ['--version', '-V']) {
    test(`\`isopeer ${flag}\` prints the package version`, () => {
      const r = run(dir, [flag]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${version}\n`);
      assert.equal(r.stderr, '');
    });
  }

  test('the unbundled build prints the same version', () => {
    const cli = join(pkgDir, 'dist', 'src', 'cli.js');
    const r = spawnSync(process.execPath, [cli, '-V'], { encoding: 'utf8', timeout: TIMEOUT_MS });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
  });

  test('`isopeer node` from the bundle reaches ready and shuts down on command', async () => {
    const child = spawn(process.execPath, [join(dir, 'bin', 'isopeer.js'), 'node', '--name', 'b'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const events: string[] = [];
    const deadline = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    try {
      for await (const line of createInterface({ input: child.stdout })) {
        const ev = JSON.parse(line) as { event: string };
        events.push(ev.event);
        if (ev.event === 'ready') child.stdin.end('shutdown\n');
      }
      assert.equal(await exited, 0, stderr);
    } finally {
      clearTimeout(deadline);
    }
    assert.ok(events.includes('ready'), `no ready event in ${events.join(', ')}: ${stderr}`);
  });

  test('`isopeer test` from the bundle starts its peers through the bundled command', () => {
    // The runner spawns each peer with the CLI path it computes from its own location, which
    // the bundle keeps (scripts/bundle-cli.mjs); a peer that cannot start fails `init`.
    const script = join(dir, 'one-peer.cmd');
    writeFileSync(script, 'alice init\n');
    const r = spawnSync(
      process.execPath,
      [join(dir, 'bin', 'isopeer.js'), 'test', script, '--out', join(dir, 'run')],
      { encoding: 'utf8', timeout: 120_000 },
    );
    // Exit 0 only when every line of the script passed (the output format is not this test's).
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /PASSED/);
  });
});
