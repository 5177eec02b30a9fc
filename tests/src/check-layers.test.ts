// scripts/check-layers.mjs on small repository trees: it passes the real one and names every
// kind of import against docs/architecture.md in a tree built to break each rule.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '../support/paths.js';

const script = join(repoRoot, 'scripts', 'check-layers.mjs');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [script, ...args], { cwd: repoRoot, encoding: 'utf8' });

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'check-layers-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const layers = `# Architecture
<!-- layers: begin -->
| package | may import |
|---|---|
| \`@isopeer/low\` | (nothing) |
| \`@isopeer/high\` | \`@isopeer/low\` |
| \`@isopeer/aid\` | (nothing); test files only |
<!-- layers: end -->
`;
const pkg = (name: string) =>
  JSON.stringify({
    name,
    exports: { '.': './dist/src/index.js', './internal': './dist/src/internal.js' },
  });

describe('check-layers', () => {
  test("the repository's own imports follow its architecture", () => {
    const r = run();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /every import follows docs\/architecture\.md/);
  });

  test('imports against the table, undeclared entry points, internals and deep paths fail', (t) => {
    const root = tree({
      'docs/architecture.md': layers,
      'packages/low/package.json': pkg('@isopeer/low'),
      'packages/high/package.json': pkg('@isopeer/high'),
      'packages/aid/package.json': pkg('@isopeer/aid'),
      'packages/low/test/aid.test.ts': "import { help } from '@isopeer/aid';\n",
      'packages/low/src/index.ts': "import { x } from '@isopeer/high';\nexport const y = x;\n",
      'packages/high/src/index.ts': [
        "import { a } from '@isopeer/low';",
        "import { b } from '@isopeer/low/internal';",
        "import { c } from '@isopeer/low/dist/src/codec.js';",
        "import { d } from '../../low/src/index.js';",
        "export const e = await import('@isopeer/nowhere');",
        "import { help } from '@isopeer/aid';",
        '',
      ].join('\n'),
      'packages/high/test/ok.test.ts': "import { b } from '@isopeer/low/internal';\n",
      'tests/src/ok.test.ts':
        "import { x } from '@isopeer/high';\nimport '@isopeer/low/internal';\n",
    });
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const r = run('--root', root);
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    const expected = [
      /^packages\/high\/src\/index\.ts:2: import '@isopeer\/low\/internal' is for tests and tools only/,
      /^packages\/high\/src\/index\.ts:3: import '@isopeer\/low\/dist\/src\/codec\.js' is not an entry point of @isopeer\/low/,
      /^packages\/high\/src\/index\.ts:4: import '\.\.\/\.\.\/low\/src\/index\.js' leaves packages\/high/,
      /^packages\/high\/src\/index\.ts:5: import '@isopeer\/nowhere' names no package/,
      /^packages\/low\/src\/index\.ts:1: import '@isopeer\/high' goes against the layers: @isopeer\/low may import no other package/,
      /^packages\/high\/src\/index\.ts:6: import '@isopeer\/aid' is for test files only/,
      /^check-layers: 6 import\(s\) against docs\/architecture\.md$/,
    ];
    assert.equal(lines.length, expected.length, r.stderr);
    for (const re of expected) {
      assert.ok(
        lines.some((l) => re.test(l)),
        `${re} in:\n${r.stderr}`,
      );
    }
  });
});
