#!/usr/bin/env node
// Runs every compiled test file (packages/*/dist/test/**/*.test.js and tests/dist/**/*.test.js)
// with Node's built-in test runner. Arguments narrow the run to paths containing any of them,
// e.g. `node scripts/run-tests.mjs bootstrap memberlist/dist/test/codec`.
// Build first (`npm run build`); `npm test` does lint + build + this.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const roots = [
  ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'dist', 'test')),
  join(root, 'tests', 'dist', 'src'),
];

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (name.endsWith('.test.js')) out.push(full);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = roots
  .flatMap((r) => walk(r, []))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

if (files.length === 0) {
  console.error(
    `run-tests: no compiled test files matched ${filters.join(' ') || '(all)'}; did you run npm run build?`,
  );
  process.exit(1);
}

// Test files run in parallel processes; timing-sensitive suites wait on conditions with deadlines,
// so a busy machine makes them slower, not red.
const concurrency = Number(process.env.TEST_CONCURRENCY ?? Math.max(2, availableParallelism()));
const args = [
  '--enable-source-maps',
  '--test',
  `--test-concurrency=${concurrency}`,
  '--test-timeout=300000',
  ...files,
];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
