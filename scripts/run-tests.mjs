#!/usr/bin/env node
// Runs every compiled test file (packages/*/dist/test/**/*.test.js and tests/dist/**/*.test.js)
// with Node's built-in test runner. Arguments narrow the run to paths containing any of them,
// e.g. `node scripts/run-tests.mjs bootstrap memberlist/dist/test/codec`; an argument naming an
// existing file is run as given (the runner's own tests use that for fixtures).
// Build first (`npm run build`); `npm test` does lint + build + this.
//
// Skips: every skipped or todo test is listed at the end. Under CI (`CI` set to anything but
// empty, `0` or `false`) any skipped or todo test fails the run: a green CI run means every
// test ran.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

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

const support = join(root, 'packages', 'test-support', 'dist', 'src', 'index.js');
if (!existsSync(support)) {
  console.error(`run-tests: ${relative(root, support)} is missing; did you run npm run build?`);
  process.exit(1);
}
const { isCI } = await import(support);

const args = process.argv.slice(2);
const isFile = (a) => existsSync(resolve(root, a)) && statSync(resolve(root, a)).isFile();
const given = args.filter(isFile).map((a) => relative(root, resolve(root, a)));
const filters = args.filter((a) => !isFile(a));
const found =
  filters.length === 0 && given.length > 0
    ? []
    : roots
        .flatMap((r) => walk(r, []))
        .map((f) => relative(root, f))
        .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
const files = [...new Set([...given, ...found])].sort();

if (files.length === 0) {
  console.error(
    `run-tests: no compiled test files matched ${args.join(' ') || '(all)'}; did you run npm run build?`,
  );
  process.exit(1);
}

// Test files run in parallel processes; timing-sensitive suites wait on conditions with deadlines,
// so a busy machine makes them slower, not red.
const concurrency = Number(process.env.TEST_CONCURRENCY ?? Math.max(2, availableParallelism()));
const scratch = mkdtempSync(join(tmpdir(), 'isopeer-run-tests-'));
const skipLog = join(scratch, 'skips.jsonl');
const r = spawnSync(
  process.execPath,
  [
    '--enable-source-maps',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=300000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts', 'skip-reporter.mjs')}`,
    `--test-reporter-destination=${skipLog}`,
    ...files,
  ],
  { cwd: root, stdio: 'inherit' },
);
const skips = existsSync(skipLog)
  ? readFileSync(skipLog, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l))
  : [];
rmSync(scratch, { recursive: true, force: true });

let status = r.status ?? 1;
if (skips.length > 0) {
  const ci = isCI();
  const mark = ci ? '✖' : '﹣';
  console.log(`\nrun-tests: ${skips.length} skipped or todo test(s):`);
  for (const s of skips) {
    const where = s.file ? relative(root, s.file) : '?';
    console.log(`  ${mark} ${s.kind} ${where} › ${s.name}${s.reason ? `: ${s.reason}` : ''}`);
  }
  if (ci) {
    console.log(`run-tests: CI=${process.env.CI}: a skipped or todo test fails the run.`);
    if (status === 0) status = 1;
  }
}
process.exit(status);
