// scripts/api-report.mjs with the repository's own API Extractor settings (api/api-extractor.json)
// on a one-package tree: a report is written and checked, a changed API fails the check, and a
// type used in the public API but not exported (ae-forgotten-export) fails both the check and
// the update, naming the symbol.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '../support/paths.js';

const script = join(repoRoot, 'scripts', 'api-report.mjs');

/**
 * A tree with one package `@isopeer/demo` whose declarations are `dts`. It lives under the
 * repository's `.cache/` so that the compiler finds `@types/node` in the repository's
 * node_modules, as it does for the real packages.
 */
function tree(dts: string): string {
  const cache = join(repoRoot, '.cache');
  mkdirSync(cache, { recursive: true });
  const root = mkdtempSync(join(cache, 'api-report-test-'));
  mkdirSync(join(root, 'api'));
  copyFileSync(
    join(repoRoot, 'api', 'api-extractor.json'),
    join(root, 'api', 'api-extractor.json'),
  );
  const pkg = join(root, 'packages', 'demo');
  mkdirSync(join(pkg, 'dist', 'src'), { recursive: true });
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: '@isopeer/demo',
      version: '0.0.0',
      type: 'module',
      exports: { '.': { types: './dist/src/index.d.ts', default: './dist/src/index.js' } },
    }),
  );
  writeDts(root, dts);
  return root;
}

function writeDts(root: string, dts: string): void {
  writeFileSync(join(root, 'packages', 'demo', 'dist', 'src', 'index.d.ts'), dts);
}

const run = (root: string, ...args: string[]) =>
  spawnSync(process.execPath, [script, '--root', root, ...args], { encoding: 'utf8' });

describe('api-report', () => {
  test('writes a report, accepts it unchanged, fails when the API changed', (t) => {
    const root = tree(
      'export interface Shown {\n    a: number;\n}\nexport declare function make(): Shown;\n',
    );
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const update = run(root, '--update');
    assert.equal(update.status, 0, update.stderr);
    assert.ok(existsSync(join(root, 'api', 'demo.api.md')));
    const check = run(root);
    assert.equal(check.status, 0, check.stderr);
    writeDts(
      root,
      'export interface Shown {\n    a: number;\n}\nexport declare function make(): Shown;\nexport declare function more(): void;\n',
    );
    const changed = run(root);
    assert.equal(changed.status, 1);
    assert.match(changed.stderr, /api\/demo\.api\.md is out of date/);
  });

  test('a type in a public signature that the entry point does not export fails', (t) => {
    // As tsc writes it: the type is declared in another module and only imported by the entry.
    const root = tree(
      "import type { Hidden } from './hidden.js';\nexport declare function make(): Hidden;\n",
    );
    writeFileSync(
      join(root, 'packages', 'demo', 'dist', 'src', 'hidden.d.ts'),
      'export interface Hidden {\n    a: number;\n}\n',
    );
    t.after(() => rmSync(root, { recursive: true, force: true }));
    for (const args of [['--update'], []]) {
      const r = run(root, ...args);
      assert.equal(r.status, 1, `${args.join(' ') || 'check'} must fail:\n${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /api\/demo\.api\.md: .*"Hidden" needs to be exported/);
      assert.match(r.stderr, /1 type\(s\) used in public signatures but not exported/);
    }
  });
});
