#!/usr/bin/env node
// Issue 17, part 4: what idle nodes cost. N nodes in one process (`--count N`), Go
// (bench/go-peer, memberlist 0.2.2) and TS (`isopeer node`) alternating run by run. After
// convergence and a settle period, CPU (utime + stime from /proc) is measured over an idle
// window, then RSS (VmRSS) and peak RSS (VmHWM). Per implementation: CPU seconds per minute per
// node at each N, and the RSS slope per added node between the smallest and largest N.
//
// Both implementations get `--join-stagger-ms MS` (default 50): node i starts its join to node 0
// i × MS after start. All 199 joins at once are a join storm in which Go memberlist 0.2.2 did not
// converge within 240 s at N=200, which left nothing idle to compare; 0 restores that. The wait
// for all-converged is capped at --cap-seconds plus the stagger, N × MS.
//
//   npx tsc -b packages/isopeer tests
//   node bench/memberlist/idle.mjs [--sizes 20,200] [--runs 3] [--impls go,ts]
//        [--settle-seconds 10] [--idle-seconds 60] [--cap-seconds 240] [--join-stagger-ms 50]
//
// Writes results/idle-latest.json (+ a timestamped copy) with every run, the commit, `uptime`
// before and after, and the command.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goPeerBinary } from '../../tests/dist/support/go-peer.js';
import { closeAll, LineNode } from '../../tests/dist/support/line-node.js';
import { options } from '../lib/options.mjs';
import { describeRun } from '../lib/run-meta.mjs';
import { procCpuSeconds, procMemMiB, runHarness, saveRecord, startRecord } from './harness.mjs';
import { summarize } from './stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const opt = options(process.argv.slice(2));
const sizes = opt('sizes', '20,200').split(',').filter(Boolean).map(Number);
const runs = Number(opt('runs', '3'));
const impls = opt('impls', 'go,ts').split(',').filter(Boolean);
const settleSeconds = Number(opt('settle-seconds', '10'));
const idleSeconds = Number(opt('idle-seconds', '60'));
const capSeconds = Number(opt('cap-seconds', '240'));
const joinStaggerMs = Number(opt('join-stagger-ms', '50'));
if (!Number.isInteger(joinStaggerMs) || joinStaggerMs < 0) {
  throw new Error(`--join-stagger-ms takes a whole number of ms >= 0, got ${joinStaggerMs}`);
}
for (const impl of impls) {
  if (impl !== 'go' && impl !== 'ts') throw new Error(`--impls takes go and/or ts, got ${impl}`);
}
const env = { GO_PEER_QUIET: '1' };
const t0 = Date.now();
const progress = (m) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${m}\n`);
// The settle period and the idle window are measurement intervals, not synchronisation waits.
const sleep = (s) => new Promise((r) => setTimeout(r, s * 1000));

async function idleRun(impl, n, run) {
  const node = await LineNode.start({
    impl,
    name: `idle${n}${impl}${run}`,
    count: n,
    extraArgs: ['--join-stagger-ms', String(joinStaggerMs)],
    env,
    readyTimeoutMs: capSeconds * 1000,
  });
  try {
    // The last join starts (n - 1) × stagger after start: the cap covers the stagger.
    const convergeCapMs = capSeconds * 1000 + n * joinStaggerMs;
    const allConverged = await node
      .waitFor((e) => e.event === 'all-converged', convergeCapMs, 'all-converged')
      .catch(() => undefined);
    const started = Math.max(...node.find('ready').map((e) => e.ts));
    await sleep(settleSeconds);
    const cpu0 = procCpuSeconds(node.pid);
    const w0 = Date.now();
    await sleep(idleSeconds);
    const cpu = procCpuSeconds(node.pid) - cpu0;
    const minutes = (Date.now() - w0) / 60_000;
    const leaves = node.find('leave').length;
    return {
      converged: allConverged !== undefined,
      // From the last `ready` (all nodes started, joins begin) to `all-converged`.
      convergeSeconds: allConverged ? (allConverged.ts - started) / 1000 : null,
      cpuSecondsPerMinute: cpu / minutes,
      cpuSecondsPerMinutePerNode: cpu / minutes / n,
      rssMiB: procMemMiB(node.pid, 'VmRSS'),
      peakRssMiB: procMemMiB(node.pid, 'VmHWM'),
      // A node that saw others leave while idle was starved or flapping: the run is suspect.
      leaveEvents: leaves,
    };
  } finally {
    await node.close();
  }
}

async function main() {
  const record = startRecord('idle');
  record.params = { sizes, runs, impls, settleSeconds, idleSeconds, capSeconds, joinStaggerMs };
  record.results = {};
  if (impls.includes('go')) await goPeerBinary();
  for (const n of sizes) {
    for (const impl of impls) record.results[`${impl}-${n}`] = { runs: [] };
    for (let run = 0; run < runs; run++) {
      for (const impl of impls) {
        let r;
        try {
          r = await idleRun(impl, n, run);
        } catch (err) {
          await closeAll();
          r = { error: String(err.message ?? err).split('\n')[0] };
        }
        record.results[`${impl}-${n}`].runs.push(r);
        progress(
          `N=${n} ${impl} run ${run + 1}/${runs}: ${r.error ?? `${r.cpuSecondsPerMinute.toFixed(2)} CPU s/min, RSS ${r.rssMiB?.toFixed(1)} MiB, converged ${r.converged}${r.converged ? ` after ${r.convergeSeconds.toFixed(1)} s` : ''}, leave events ${r.leaveEvents}`}`,
        );
        saveRecord(join(here, 'results'), record);
      }
    }
  }
  const lines = [];
  for (const impl of impls) {
    const med = {};
    for (const n of sizes) {
      const ok = record.results[`${impl}-${n}`].runs.filter((r) => !r.error);
      const c = record.results[`${impl}-${n}`];
      c.cpuPerNode = summarize(ok.map((r) => r.cpuSecondsPerMinutePerNode));
      c.rssMiB = summarize(ok.map((r) => r.rssMiB));
      med[n] = c;
      lines.push(
        `${impl} N=${n}: CPU s/min per node median ${c.cpuPerNode.median?.toFixed(4)} (max ${c.cpuPerNode.max?.toFixed(4)}), RSS median ${c.rssMiB.median?.toFixed(1)} MiB`,
      );
    }
    const lo = sizes[0];
    const hi = sizes.at(-1);
    if (hi !== lo && med[lo].rssMiB.median !== null && med[hi].rssMiB.median !== null) {
      const slope = (med[hi].rssMiB.median - med[lo].rssMiB.median) / (hi - lo);
      record.results[`${impl}-rssSlopeMiBPerNode`] = slope;
      lines.push(`${impl}: RSS per added node (N=${lo}→${hi}, medians) ${slope.toFixed(3)} MiB`);
    }
  }
  const file = saveRecord(join(here, 'results'), record);
  process.stdout.write(`${lines.join('\n')}\n${describeRun(record.meta)}\n${file}\n`);
}

runHarness('idle bench', main, closeAll);
