// scripts/run-tests.mjs and the skip contract: every skipped or todo test is listed, and under
// CI (any CI value but empty, 0 or false) a skip fails the run, including the skips that a
// missing Go or tmux would cause.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { repoRoot } from '../support/paths.js';

const fixture = 'tests/fixtures/run-tests/skips.mjs';
// A PATH holding nothing: go, tmux and curl are all missing (run-tests starts node by its path).
const emptyPath = mkdtempSync(join(tmpdir(), 'run-tests-empty-path-'));
after(() => rmSync(emptyPath, { recursive: true, force: true }));

function runTests(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ status: number | null; out: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  // Inside `node --test` this variable makes a nested runner talk to us instead of reporting.
  delete childEnv.NODE_TEST_CONTEXT;
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  const child = spawn(process.execPath, [join(repoRoot, 'scripts', 'run-tests.mjs'), ...args], {
    cwd: repoRoot,
    env: childEnv,
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, out }));
  });
}

const listed = [
  /skip tests\/fixtures\/run-tests\/skips\.mjs › fixture: skipped test: fixture reason one/,
  /todo tests\/fixtures\/run-tests\/skips\.mjs › fixture: todo test: fixture reason two/,
  /skip tests\/fixtures\/run-tests\/skips\.mjs › fixture: skipped suite: fixture reason three/,
];

test('off CI every skipped and todo test is listed and the run passes', async () => {
  for (const ci of [undefined, '', '0', 'false']) {
    const r = await runTests([fixture], { CI: ci });
    assert.equal(r.status, 0, `CI=${ci}\n${r.out}`);
    assert.match(r.out, /run-tests: 3 skipped or todo test\(s\):/);
    for (const line of listed) assert.match(r.out, line);
    assert.doesNotMatch(r.out, /fails the run/);
  }
});

test('under CI (true, 1, yes) any skipped or todo test fails the run', async () => {
  for (const ci of ['true', '1', 'yes']) {
    const r = await runTests([fixture], { CI: ci });
    assert.equal(r.status, 1, `CI=${ci}\n${r.out}`);
    for (const line of listed) assert.match(r.out, line);
    assert.match(r.out, new RegExp(`CI=${ci}: a skipped or todo test fails the run`));
  }
});

// A part missing from PATH: under CI its tests fail the run; without CI they are skipped.
const parts = [
  {
    part: 'go',
    file: 'packages/bootstrap/dist/test/codec-go.test.js',
    reason: 'go is not installed',
  },
  {
    part: 'tmux',
    file: 'packages/console/dist/test/ui-tty.test.js',
    reason: 'tmux is not installed',
  },
];
for (const { part, file, reason } of parts) {
  test(`CI=1 without ${part} on PATH fails the run; without CI its tests skip`, async () => {
    const [ci, local] = await Promise.all([
      runTests([file], { CI: '1', PATH: emptyPath }),
      runTests([file], { CI: undefined, PATH: emptyPath }),
    ]);
    assert.equal(ci.status, 1, ci.out);
    assert.match(ci.out, new RegExp(`${reason}.*CI is set, so this is a failure`));
    assert.equal(local.status, 0, local.out);
    // Skips are listed by source file (the runner maps compiled files back through source maps).
    const source = file.replace('/dist/test/', '/test/').replace(/\.js$/, '.ts');
    assert.ok(local.out.includes(`skip ${source} › `), local.out);
    assert.match(local.out, new RegExp(`skip .*: SKIPPED: ${reason}`));
  });
}
