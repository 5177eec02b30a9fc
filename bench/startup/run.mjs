#!/usr/bin/env node
// Start-up time of one peer process: spawn to its `ready` event on stdout, for `isopeer node`
// (the bin, which loads the bundle), the same command unbundled (tsc's dist/src/cli.js), the Go
// memberlist harness (bench/go-peer) and Node's own floor (`node -e 0`, spawn to exit, and a
// `node -e` that only writes a ready line). Variants
// take turns (one spawn of each per round), so a change of machine load hits all of them alike.
//
//   node bench/startup/run.mjs [--runs 20] [--testkit 0]
//
// Build first: `npm run build` (the bundle, and tests/dist for the Go peer build helper). Each
// peer is SIGKILLed once ready and waited for before the next spawn. On Linux the CPU time the
// process had used when it was seen ready (all threads, /proc/<pid>/task/*/schedstat) and the
// time its threads spent waiting for a CPU are recorded too: under load the wall time is
// mostly that waiting, the CPU time much less so. --testkit N adds N runs of `isopeer test
// examples/tests/default.cmd` through the bin and unbundled (spawn to exit).
// Writes bench/startup/results/startup-<iso>.json: the run's record (bench/lib/run-meta.mjs:
// commit, versions, /proc/loadavg before and after), the exact commands, every sample and the
// summaries.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { goPeerBinary } from '../../tests/dist/support/go-peer.js';
import { describeRun, finishRun, startRun } from '../lib/run-meta.mjs';

const root = new URL('../../', import.meta.url).pathname;
const { values } = parseArgs({
  options: { runs: { type: 'string', default: '20' }, testkit: { type: 'string', default: '0' } },
});
const runs = Number(values.runs);
const testkitRuns = Number(values.testkit);

const node = process.execPath;
const bin = join(root, 'packages/isopeer/bin/isopeer.js');
const unbundled = join(root, 'packages/isopeer/dist/src/cli.js');
const goPeer = await goPeerBinary();
const peerArgs = (name) => ['node', '--name', name, '--bind', '127.0.0.1', '--port', '0'];

/** until: 'ready' = first stdout line with "event":"ready"; 'exit' = the process exits (code 0). */
const variants = [
  { name: 'isopeer', until: 'ready', cmd: (i) => [node, bin, ...peerArgs(`s${i}`)] },
  { name: 'go', until: 'ready', cmd: (i) => [goPeer, ...peerArgs(`g${i}`).slice(1)] },
  {
    name: 'isopeer-unbundled',
    until: 'ready',
    cmd: (i) => [node, unbundled, ...peerArgs(`u${i}`)],
  },
  { name: 'node-e-0', until: 'exit', cmd: () => [node, '-e', '0'] },
  // Node's floor measured like a peer: start, write one ready line to stdout (a pipe).
  {
    name: 'node-ready-line',
    until: 'ready',
    cmd: () => [node, '-e', 'process.stdout.write(\'{"event":"ready"}\\n\')'],
  },
];
const testkitVariants = ['bin', 'unbundled'].map((how) => ({
  name: `testkit-default-${how}`,
  until: 'exit',
  cmd: (i) => [
    node,
    how === 'bin' ? bin : unbundled,
    'test',
    'examples/tests/default.cmd',
    '--out',
    join(tmpdir(), `bench-startup-testkit-${process.pid}-${how}-${i}`),
  ],
}));

/** CPU time used and time spent runnable but waiting, summed over the process's threads (ms). */
function schedstat(pid) {
  let cpu = 0;
  let wait = 0;
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const [run, queued] = readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ');
      cpu += Number(run);
      wait += Number(queued);
    }
  } catch {
    return { cpuMs: null, runqueueMs: null }; // not Linux, or the process is already gone
  }
  return { cpuMs: cpu / 1e6, runqueueMs: wait / 1e6 };
}

function once(variant, i) {
  const [cmd, ...args] = variant.cmd(i);
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let sample;
    child.stdout.on('data', (d) => {
      out += d;
      if (!sample && variant.until === 'ready' && out.includes('"event":"ready"')) {
        const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
        sample = { wallMs, ...schedstat(child.pid) };
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (variant.until === 'exit' && code === 0) {
        sample = { wallMs: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: null };
      }
      if (sample) resolve(sample);
      else
        reject(
          new Error(`${variant.name} ended (${signal ?? code}) before ${variant.until}:\n${err}`),
        );
    });
  });
}

function summary(samples, key) {
  const xs = samples
    .map((s) => s[key])
    .filter((x) => x !== null)
    .sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const round = (x) => Math.round(x * 10) / 10;
  return {
    min: round(xs[0]),
    median: round(xs[Math.floor(xs.length / 2)]),
    max: round(xs.at(-1)),
  };
}

async function measure(list, n) {
  for (const v of list) await once(v, 'warm'); // file cache and Go binary page-in, not counted
  const samples = Object.fromEntries(list.map((v) => [v.name, []]));
  for (let i = 0; i < n; i++) {
    for (const v of list) samples[v.name].push(await once(v, i));
  }
  return samples;
}

const meta = startRun('startup');
const samples = await measure(variants, runs);
const testkitSamples = testkitRuns > 0 ? await measure(testkitVariants, testkitRuns) : {};
finishRun(meta);
for (const f of readdirSync(tmpdir()).filter((f) =>
  f.startsWith(`bench-startup-testkit-${process.pid}-`),
))
  rmSync(join(tmpdir(), f), { recursive: true, force: true });

const all = { ...samples, ...testkitSamples };
const summaries = Object.fromEntries(
  Object.entries(all).map(([name, s]) => [
    name,
    {
      wallMs: summary(s, 'wallMs'),
      cpuMs: summary(s, 'cpuMs'),
      runqueueMs: summary(s, 'runqueueMs'),
    },
  ]),
);
const ratio = (a, b) =>
  Math.round((summaries[a].wallMs.median / summaries[b].wallMs.median) * 100) / 100;
const result = {
  what: 'spawn to the ready event of one peer process (node -e 0 and testkit runs: spawn to exit)',
  meta,
  date: meta.startedAt,
  runs,
  testkitRuns,
  commands: Object.fromEntries(
    [...variants, ...(testkitRuns > 0 ? testkitVariants : [])].map((v) => [
      v.name,
      v.cmd('<i>').map((a) => (a.startsWith(root) ? relative(root, a) : a)),
    ]),
  ),
  medianRatioIsopeerToGo: ratio('isopeer', 'go'),
  medianRatioUnbundledToGo: ratio('isopeer-unbundled', 'go'),
  summaries,
  samples: all,
};

const fmt = (s) => (s ? `${s.median} / ${s.max}` : '-');
process.stdout.write(`${describeRun(meta)}\n`);
process.stdout.write(`${'variant'.padEnd(28)}wall median / max ms   cpu median / max ms\n`);
for (const [name, s] of Object.entries(summaries)) {
  process.stdout.write(`${name.padEnd(28)}${fmt(s.wallMs).padEnd(23)}${fmt(s.cpuMs)}\n`);
}
process.stdout.write(
  `median isopeer / go: ${result.medianRatioIsopeerToGo} (unbundled: ${result.medianRatioUnbundledToGo})\n`,
);
const dir = join(root, 'bench/startup/results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `startup-${result.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`raw: ${relative(root, file)}\n`);
