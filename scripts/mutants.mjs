#!/usr/bin/env node
// Mutation check: applies each mutant of scripts/mutant-catalog.mjs to a temporary copy of the
// repository, builds it, runs the mutant's test files N times, and reports how often they
// caught it. A mutant counts as caught in a run when that run fails; it is only tried when the
// same test files pass on the unmutated copy first.
//
//   node scripts/mutants.mjs [--runs N] [--only name,name] [--list] [--keep]
//
// --runs N  runs per mutant (default 10); --only picks mutants by name; --list prints the
// catalogue; --keep leaves the copy in place (its path is printed). Build the repository first
// (`npm run build`): the copy takes the working tree, uncommitted changes included, with its
// compiled output, so the build after each mutation is incremental. Test runs use CI=1, so a
// skipped test fails the baseline instead of letting a mutant pass unseen.
// Exit code 0 only when every selected mutant was caught in every run.
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { MUTANTS } from './mutant-catalog.mjs';

const root = resolve(new URL('..', import.meta.url).pathname);
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(opt('runs') ?? 10);
const only = opt('only')?.split(',');
if (!(Number.isInteger(runs) && runs > 0)) {
  console.error('mutants: --runs takes a positive integer');
  process.exit(2);
}
if (args.includes('--list')) {
  for (const m of MUTANTS) {
    console.log(`${m.name}\n  ${m.file}: ${m.why}\n  tests: ${m.tests.join(' ')}`);
  }
  process.exit(0);
}
const unknown = (only ?? []).filter((n) => !MUTANTS.some((m) => m.name === n));
const selected = MUTANTS.filter((m) => !only || only.includes(m.name));
if (unknown.length > 0 || selected.length === 0) {
  console.error(`mutants: unknown mutant(s) ${unknown.join(', ')}; see --list`);
  process.exit(2);
}

const log = (msg) => process.stderr.write(`mutants: ${msg}\n`);

/** A copy of the working tree (tracked and untracked-but-not-ignored files) and its build. */
function makeCopy() {
  const base = mkdtempSync(join(tmpdir(), 'isopeer-mutants-'));
  const copy = join(base, 'repo');
  const ls = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (ls.status !== 0) throw new Error(`git ls-files failed: ${ls.stderr}`);
  for (const f of ls.stdout.split('\0')) {
    // node_modules is linked below, never copied (a tracked node_modules symlink would make the
    // links land in the original's).
    if (f === '' || f.split('/')[0] === 'node_modules' || !existsSync(join(root, f))) continue;
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    cpSync(join(root, f), join(copy, f), { preserveTimestamps: true });
  }
  // Compiled output and build info, so that tsc -b rebuilds only what a mutant touches.
  const projects = [...readdirSync(join(root, 'packages')).map((p) => `packages/${p}`), 'tests'];
  for (const p of projects) {
    if (!existsSync(join(root, p, 'dist'))) continue;
    cpSync(join(root, p, 'dist'), join(copy, p, 'dist'), {
      recursive: true,
      preserveTimestamps: true,
    });
  }
  // Dependencies are shared by symlink. The workspace links are relative (../../packages/x), so
  // recreated as they are they point at the copy's own packages, mutated ones included.
  const modules = join(root, 'node_modules');
  mkdirSync(join(copy, 'node_modules', '@isopeer'), { recursive: true });
  for (const name of readdirSync(modules)) {
    if (name !== '@isopeer') symlinkSync(join(modules, name), join(copy, 'node_modules', name));
  }
  for (const name of readdirSync(join(modules, '@isopeer'))) {
    const link = join(modules, '@isopeer', name);
    if (lstatSync(link).isSymbolicLink()) {
      symlinkSync(readlinkSync(link), join(copy, 'node_modules', '@isopeer', name));
    }
  }
  return { base, copy };
}

function build(copy) {
  const tsc = join(copy, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-b'], { cwd: copy, encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

let running; // the test run in progress, ended if this script is interrupted

/** One run of scripts/run-tests.mjs in the copy: passed or not, and the failing test names. */
function runTests(copy, fragments) {
  const env = { ...process.env, CI: '1' };
  // Set when this script itself runs under node --test; it would redirect the nested runner.
  delete env.NODE_TEST_CONTEXT;
  // Its own process group, so an interrupt can end the runner and every test process under it.
  const child = spawn(process.execPath, [join(copy, 'scripts', 'run-tests.mjs'), ...fragments], {
    cwd: copy,
    env,
    detached: true,
  });
  running = child;
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  return new Promise((resolvePromise) => {
    child.on('close', (status) => {
      const failed = [
        ...new Set(
          out
            .split('\n')
            .filter((l) => /^\s*✖ /.test(l) && !/failing tests:/.test(l))
            .map((l) =>
              l
                .trim()
                .replace(/^✖ /, '')
                .replace(/ \([\d.]+m?s\)$/, ''),
            ),
        ),
      ];
      resolvePromise({ passed: status === 0, failed, out });
    });
  });
}

/** Applies a mutant's edits to `text`; returns the mutated text or why it cannot be applied. */
function mutate(text, m) {
  let out = text;
  for (const e of m.edits) {
    const n = out.split(e.search).length - 1;
    if (n !== 1)
      return { stale: `search text found ${n} times (expected once): ${JSON.stringify(e.search)}` };
    out = out.replace(e.search, () => e.replace);
  }
  return { text: out };
}

const { base, copy } = makeCopy();
log(`copy of ${root} in ${copy}`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (running?.exitCode === null) process.kill(-running.pid, 'SIGKILL');
    rmSync(base, { recursive: true, force: true });
    process.exit(130);
  });
}
const results = [];
try {
  const first = build(copy);
  if (!first.ok) throw new Error(`the unmutated copy does not build:\n${first.out}`);
  const baseline = new Map();
  for (const m of selected) {
    const key = m.tests.join(' ');
    if (baseline.has(key)) continue;
    log(`baseline: ${key}`);
    baseline.set(key, await runTests(copy, m.tests));
  }
  for (const m of selected) {
    const r = { name: m.name, file: m.file, tests: m.tests, runs, caught: 0, status: '', by: [] };
    results.push(r);
    const base0 = baseline.get(m.tests.join(' '));
    if (!base0.passed) {
      r.status = `baseline fails: ${base0.failed.slice(0, 3).join('; ') || base0.out.slice(-500)}`;
      continue;
    }
    const path = join(copy, m.file);
    const original = readFileSync(path, 'utf8');
    const mutated = mutate(original, m);
    if (mutated.stale) {
      r.status = `stale: ${mutated.stale}`;
      continue;
    }
    writeFileSync(path, mutated.text);
    try {
      const b = build(copy);
      if (!b.ok) {
        r.status = `does not compile (not a useful mutant):\n${b.out}`;
        continue;
      }
      for (let i = 1; i <= runs; i++) {
        const t = await runTests(copy, m.tests);
        if (!t.passed) {
          r.caught++;
          for (const f of t.failed) if (!r.by.includes(f)) r.by.push(f);
        }
        log(`${m.name}: run ${i}/${runs} ${t.passed ? 'SURVIVED' : 'caught'}`);
      }
      r.status = r.caught === runs ? 'caught every run' : `survived ${runs - r.caught} of ${runs}`;
    } finally {
      writeFileSync(path, original);
    }
  }
  // Leave the copy built as it was, for --keep.
  build(copy);
} finally {
  if (args.includes('--keep')) log(`kept ${copy}`);
  else rmSync(base, { recursive: true, force: true });
}

console.log(`\nmutants: ${runs} run(s) each\n`);
for (const r of results) {
  console.log(
    `${r.caught === r.runs ? '✔' : '✖'} ${r.name}: caught ${r.caught}/${r.runs} — ${r.status}`,
  );
  console.log(`    ${r.file}; tests: ${r.tests.join(' ')}`);
  if (r.by.length > 0) console.log(`    failing: ${r.by.slice(0, 4).join(' | ')}`);
}
process.exit(results.every((r) => r.caught === r.runs) ? 0 : 1);
