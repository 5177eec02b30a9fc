// BENCHMARKS.md is generated (scripts/assemble-benchmarks.mjs): it must be the assembly of
// bench/SUMMARY.md and bench/*/*RESULTS.md as committed, and every headline must name the
// commit it measured. A result edited in one place and not the other fails here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/paths.js';

test('BENCHMARKS.md is up to date with its sources, and every headline names a commit', () => {
  const r = spawnSync(
    process.execPath,
    [join(repoRoot, 'scripts', 'assemble-benchmarks.mjs'), '--check'],
    {
      cwd: repoRoot,
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /BENCHMARKS\.md is up to date/);
});
