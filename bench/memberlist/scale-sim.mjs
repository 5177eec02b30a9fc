#!/usr/bin/env node
// 1,000 nodes in one process on the in-memory transport with a virtual clock (issue 7): the same
// scenario as packages/memberlist/test/scale-inmemory.test.ts at full size. Per run: joins spread
// over --join-window ms; virtual time to full convergence (every node lists N alive); then
// --rounds probe rounds with --loss packet loss on every link, counting nodes declared dead.
// Measures wall time, CPU seconds (process.cpuUsage) and peak RSS of this process.
//
//   npx tsc -b packages/memberlist
//   node bench/memberlist/scale-sim.mjs [--n 1000] [--runs 1] [--loss 0.05] [--rounds 50]
//        [--join-window 500]
//
// Writes scale-results/scale-sim-latest.json (+ timestamped copy) and scale-sim.svg; progress on stderr.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createMemberlist,
  defaultLocalConfig,
  MemoryNetwork,
  seededRandom,
  VirtualClock,
} from '../../packages/memberlist/dist/src/index.js';
import { options } from '../lib/options.mjs';
import { finishRun, startRun } from '../lib/run-meta.mjs';
import { simCurveSvg } from './scale-svg.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = options(args);
const n = Number(opt('n', '1000'));
const runs = Number(opt('runs', '1'));
const loss = Number(opt('loss', '0.05'));
const rounds = Number(opt('rounds', '50'));
const joinWindow = Number(opt('join-window', '500'));

const started = performance.now();
const progress = (msg) => {
  const t = ((performance.now() - started) / 1000).toFixed(0).padStart(5);
  process.stderr.write(`[${t} s] ${msg}\n`);
};
const cpuS = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function run(seed) {
  const clock = new VirtualClock();
  const net = new MemoryNetwork({ clock, seed });
  const alive = new Int32Array(n);
  const leaves = [];
  const nodes = [];
  const cpu0 = cpuS();
  const wall0 = performance.now();
  for (let i = 0; i < n; i++) {
    const name = `n${i}`;
    nodes.push(
      await createMemberlist(
        { ...defaultLocalConfig(), name },
        {
          transport: net.createTransport(),
          clock,
          random: seededRandom(seed * 10_007 + i),
          events: {
            join: () => alive[i]++,
            leave: (x) => {
              alive[i]--;
              leaves.push({ by: name, node: x.name, state: x.state, at: clock.now() });
            },
          },
        },
      ),
    );
  }
  const rand = seededRandom(seed);
  let joinFailures = 0;
  const seedAddr = nodes[0].advertiseAddress;
  for (const m of nodes.slice(1)) {
    clock.setTimeout(
      () => void m.join([seedAddr]).catch(() => joinFailures++),
      rand() * joinWindow,
    );
  }
  // Convergence curve: how many nodes see all N alive, sampled every 100 virtual ms.
  const curve = [];
  let done = 0;
  let lastReport = performance.now();
  const ok = await clock.runUntil(
    () => {
      done = 0;
      for (let i = 0; i < n; i++) if (alive[i] === n) done++;
      curve.push([clock.now(), done]);
      if (performance.now() - lastReport > 2000) {
        lastReport = performance.now();
        progress(`run seed ${seed}: ${clock.now()} virtual ms, ${done}/${n} converged`);
      }
      return done === n;
    },
    120_000,
    100,
  );
  const convergeVirtualMs = ok ? clock.now() : null;
  const convergeWallS = (performance.now() - wall0) / 1000;
  const convergeCpuS = cpuS() - cpu0;
  progress(
    `run seed ${seed}: ${ok ? `converged at ${convergeVirtualMs} virtual ms` : 'NOT converged'} ` +
      `(${convergeWallS.toFixed(1)} s wall, ${convergeCpuS.toFixed(1)} s CPU); ${rounds} rounds at ${loss * 100}% loss`,
  );

  net.setDefaultFault({ dropRate: loss });
  const dropped0 = net.stats.dropped;
  const sent0 = net.stats.sent;
  const leaves0 = leaves.length;
  const cpu1 = cpuS();
  const wall1 = performance.now();
  const interval = nodes[0].config.probeIntervalMs;
  for (let r = 0; r < rounds; r += 10) {
    await clock.advance(Math.min(10, rounds - r) * interval);
    progress(
      `run seed ${seed}: loss round ${Math.min(rounds, r + 10)}/${rounds}, ${leaves.length - leaves0} deaths`,
    );
  }
  const snaps = nodes.map((m) => m.metrics());
  const sum = (f) => snaps.reduce((s, x) => s + f(x), 0);
  const res = {
    seed,
    n,
    joinFailures,
    converged: ok,
    convergeVirtualMs,
    convergeWallS,
    convergeCpuS,
    loss,
    rounds,
    lossWallS: (performance.now() - wall1) / 1000,
    lossCpuS: cpuS() - cpu1,
    packetsSent: net.stats.sent - sent0,
    packetsDropped: net.stats.dropped - dropped0,
    deathsUnderLoss: leaves.slice(leaves0),
    stillConverged: alive.every((k) => k === n),
    probes: sum((x) => x.probes.sent),
    indirectProbes: sum((x) => x.probes.indirect),
    failedProbes: sum((x) => x.probes.failed),
    suspicionsRaised: sum((x) => x.suspicions.raised),
    suspicionsRefuted: sum((x) => x.suspicions.refuted),
    rssMiB: process.memoryUsage().rss / 2 ** 20,
    curve,
  };
  await Promise.all(nodes.map((m) => m.shutdown()));
  progress(
    `run seed ${seed}: ${res.deathsUnderLoss.length} deaths, ${res.packetsDropped} packets dropped, ` +
      `${res.suspicionsRaised} suspicions raised; loss phase ${res.lossWallS.toFixed(1)} s wall, ${res.lossCpuS.toFixed(1)} s CPU`,
  );
  return res;
}

const meta = startRun('memberlist-scale-sim');
const results = [];
for (let r = 0; r < runs; r++) results.push(await run(r + 1));
const out = {
  meta: finishRun(meta),
  when: new Date().toISOString(),
  n,
  runs,
  loss,
  rounds,
  joinWindow,
  peakRssMiB: process.resourceUsage().maxRSS / 1024,
  load: loadavg(),
  results,
};
const dir = join(here, 'scale-results');
mkdirSync(dir, { recursive: true });
const body = `${JSON.stringify(out, null, 2)}\n`;
writeFileSync(join(dir, `scale-sim-${out.when.replace(/[:.]/g, '-')}.json`), body);
writeFileSync(join(dir, 'scale-sim-latest.json'), body);
writeFileSync(
  join(here, 'scale-sim.svg'),
  simCurveSvg({
    title: `${n} in-memory nodes (DefaultLocalConfig, virtual clock): convergence after a ${joinWindow} ms join burst`,
    runs: results.map((r) => ({ n, curve: r.curve })),
  }),
);
console.log(
  JSON.stringify(
    {
      ...out,
      results: results.map(({ curve: _c, deathsUnderLoss: d, ...r }) => ({
        ...r,
        deaths: d.length,
      })),
    },
    null,
    2,
  ),
);
