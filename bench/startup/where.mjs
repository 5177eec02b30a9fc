#!/usr/bin/env node
// Where the start-up time of `isopeer node` goes: runs it K times under V8's CPU profiler
// (--cpu-prof), each run ending the moment it prints `ready`, and sorts every sample into one
// category by the innermost frame on its stack that names one:
//   built-in modules   Node compiling and running its own modules on first use (node:net, ...)
//   module loader      resolving, reading, compiling and linking our files and npm packages
//   our code           the isopeer code itself: module top levels, commander setup, start-up
//   commander          the argument parser's own code
//   node runtime       everything else in Node (bootstrap, streams, stdout, sockets)
//   gc / idle          garbage collection / waiting (the event loop had nothing to run)
// It also counts the distinct ES modules and CommonJS files each variant loads. The preload that
// ends the run at `ready` is itself one CommonJS file; its cost is in every variant alike.
//   node bench/startup/where.mjs [--runs 10]
// Build first (`npm run build`). The profiler starts after Node has deserialised its own start-up
// snapshot, so the totals are below the spawn-to-ready times of run.mjs; the shares are the
// point. Writes bench/startup/results/where-<iso>.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { describeRun, finishRun, startRun } from '../lib/run-meta.mjs';

const root = new URL('../../', import.meta.url).pathname;
const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
const peer = ['node', '--name', 'w', '--bind', '127.0.0.1', '--port', '0'];
const variants = {
  bundled: [join(root, 'packages/isopeer/bin/isopeer.js'), ...peer],
  unbundled: [join(root, 'packages/isopeer/dist/src/cli.js'), ...peer],
};

// Preloaded into each profiled run (CommonJS, so it is in place before any ES module loads):
// exits as soon as the ready line is written, which ends the profile there; and, when asked,
// counts the files the two module systems load.
const preload = `
const Module = require('node:module');
const files = new Set();
if (process.env.WHERE_COUNT) {
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    try { files.add('cjs ' + Module._resolveFilename(request, parent, isMain)); } catch {}
    return load.apply(this, arguments);
  };
  Module.register('data:text/javascript,' + encodeURIComponent(
    'export async function resolve(s, c, next) { const r = await next(s, c);' +
    ' process.stderr.write("WHERE-ESM " + r.url + "\\\\n"); return r; }'));
}
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  const r = write(chunk, ...rest);
  if (String(chunk).includes('"event":"ready"')) {
    for (const f of files) if (!/^cjs (node:)?[a-z_/]+$/.test(f)) process.stderr.write('WHERE-CJS ' + f.slice(4) + '\\n');
    process.exit(0);
  }
  return r;
};
`;

const dir = mkdtempSync(join(tmpdir(), 'bench-startup-where-'));
const preloadFile = join(dir, 'preload.cjs');
writeFileSync(preloadFile, preload);

function categoryOf(frame) {
  const { functionName: fn, url } = frame.callFrame;
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(idle)') return 'idle';
  if (
    url.startsWith('node:internal/bootstrap/realm') &&
    /^(requireBuiltin|compileForPublicLoader|compileForInternalLoader)$/.test(fn)
  )
    return 'built-in modules';
  if (url.includes('/node_modules/commander/')) return 'commander';
  if (url.includes('/packages/')) return 'our code';
  if (url.startsWith('node:internal/modules/')) return 'module loader';
  return null;
}

/** ms per category for one profile: each sample goes to its innermost categorised frame. */
function categorise(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map();
  const categoryOfNode = (id) => {
    if (memo.has(id)) return memo.get(id);
    const own = categoryOf(byId.get(id));
    const up = parent.get(id);
    const c = own ?? (up === undefined ? 'node runtime' : categoryOfNode(up));
    memo.set(id, c);
    return c;
  };
  const out = {};
  profile.samples.forEach((id, i) => {
    const c = categoryOfNode(id);
    out[c] = (out[c] ?? 0) + profile.timeDeltas[i] / 1000;
  });
  return out;
}

function run(name, args, extra) {
  const r = spawnSync(process.execPath, [...extra, '-r', preloadFile, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...(extra.length === 0 ? { WHERE_COUNT: '1' } : {}) },
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`${name} failed (${r.status}): ${r.stderr}`);
  return r;
}

const result = {
  meta: startRun('startup-where'),
  runs,
  variants: {},
};
for (const [name, args] of Object.entries(variants)) {
  const counted = run(name, args, []).stderr.split('\n');
  const distinct = (prefix) => new Set(counted.filter((l) => l.startsWith(prefix))).size;
  const esm = distinct('WHERE-ESM file:');
  const cjs = distinct('WHERE-CJS ');
  const totals = {};
  for (let i = 0; i < runs; i++) {
    const prof = join(dir, `${name}-${i}.cpuprofile`);
    run(name, args, [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
      `--cpu-prof-name=${name}-${i}.cpuprofile`,
    ]);
    for (const [c, ms] of Object.entries(categorise(JSON.parse(readFileSync(prof, 'utf8'))))) {
      totals[c] = (totals[c] ?? 0) + ms;
    }
  }
  const perRun = Object.fromEntries(
    Object.entries(totals)
      .sort((a, b) => b[1] - a[1])
      .map(([c, ms]) => [c, Math.round((ms / runs) * 10) / 10]),
  );
  result.variants[name] = {
    command: ['node', ...args.map((a) => relative(root, a) || a)],
    esModules: esm,
    commonJsFiles: cjs,
    profiledMsPerRun: perRun,
  };
}
finishRun(result.meta);
rmSync(dir, { recursive: true, force: true });

for (const [name, v] of Object.entries(result.variants)) {
  const total = Object.values(v.profiledMsPerRun).reduce((a, b) => a + b, 0);
  process.stdout.write(
    `${name}: ${v.esModules} ES modules, ${v.commonJsFiles} CommonJS files; profiled ${total.toFixed(1)} ms per run\n`,
  );
  for (const [c, ms] of Object.entries(v.profiledMsPerRun)) {
    process.stdout.write(
      `  ${c.padEnd(18)} ${ms.toFixed(1).padStart(6)} ms  ${((ms / total) * 100).toFixed(0)}%\n`,
    );
  }
}
process.stdout.write(`${describeRun(result.meta)}\n`);
const out = join(root, 'bench/startup/results');
mkdirSync(out, { recursive: true });
const file = join(out, `where-${result.meta.startedAt.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`raw: ${relative(root, file)}\n`);
