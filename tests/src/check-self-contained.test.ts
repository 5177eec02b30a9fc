// scripts/check-self-contained.mjs: the repository passes, and a tracked file naming the shelf
// beside the clone (in any of its spellings) fails it with the file and line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '../support/paths.js';

const script = join(repoRoot, 'scripts', 'check-self-contained.mjs');
const run = (root: string) =>
  spawnSync(process.execPath, [script, '--root', root], { encoding: 'utf8' });

/** A git repository holding `files`, all tracked. */
function repo(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'check-self-contained-'));
  for (const [path, text] of Object.entries(files)) writeFileSync(join(root, path), text);
  const git = (...a: string[]) => spawnSync('git', a, { cwd: root, encoding: 'utf8' });
  git('init', '-q');
  git('add', '-A');
  return root;
}

const shelf = 'shared'; // in pieces, so this file passes the check itself

describe('check-self-contained', () => {
  test('the repository names no path outside itself', () => {
    const r = run(repoRoot);
    assert.equal(r.status, 0, r.stderr);
  });

  for (const ref of [`../${shelf}/x.md`, `${shelf}/vectors/a.json`, `${shelf}/docs/b.md`]) {
    test(`a tracked file naming ${ref} fails it`, () => {
      const root = repo({ 'ok.ts': 'export const a = 1;\n', 'bad.ts': `// see\n// ${ref}\n` });
      try {
        const r = run(root);
        assert.equal(r.status, 1);
        assert.match(r.stderr, /^bad\.ts:2: names /m);
        assert.doesNotMatch(r.stderr, /ok\.ts/);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }

  test('an untracked file is not the repository’s business', () => {
    const root = repo({ 'ok.ts': 'export const a = 1;\n' });
    try {
      writeFileSync(join(root, 'scratch.txt'), `../${shelf}/notes\n`);
      assert.equal(run(root).status, 0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
