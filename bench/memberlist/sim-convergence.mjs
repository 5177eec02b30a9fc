#!/usr/bin/env node
// In-memory convergence and failure-detection benchmark for @isopeer/memberlist on a virtual
// clock (no real waiting; results are virtual milliseconds, deterministic per seed).
//
//   node bench/memberlist/sim-convergence.mjs [--sizes 5,20,50,100] [--runs 20] [--loss 0]
//          [--stagger 300] [--no-catchup] [--go-scheduling] [--fail] [--no-compression]
//          [--cfg '{"field": value}']   (config overrides, applied last)
//
// --no-catchup turns off only the catch-up push/pulls; --go-scheduling turns off every
// wire-neutral isopeer extension (catch-up, broadcast floor, out-of-turn suspect probes, early
// probe failure, reconnect, probe slots), leaving Go 0.2.2's timing rules.
//
// Each run: N nodes with DefaultLocalConfig; node i > 0 joins node 0 at a random instant in
// [0, stagger) ms (a burst of process starts). Convergence = every node lists N alive members.
// With --fail, after convergence one random non-seed node stops answering (its transport is
// closed, like SIGKILL) and we measure until every other node has marked it dead.
import {
  createMemberlist,
  defaultLocalConfig,
  MemoryNetwork,
  seededRandom,
  VirtualClock,
} from '../../packages/memberlist/dist/src/index.js';
import { options } from '../lib/options.mjs';
import { finishRun, startRun } from '../lib/run-meta.mjs';

const args = process.argv.slice(2);
const opt = options(args);
const sizes = opt('sizes', '5,20,50,100').split(',').map(Number);
const runs = Number(opt('runs', '20'));
const loss = Number(opt('loss', '0'));
const stagger = Number(opt('stagger', '300'));
const goScheduling = args.includes('--go-scheduling');
const catchUp = !args.includes('--no-catchup') && !goScheduling;
const compression = !args.includes('--no-compression');
const overrides = JSON.parse(opt('cfg', '{}'));
const fail = args.includes('--fail');

function quantiles(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { min: s[0], p50: q(0.5), p90: q(0.9), max: s[s.length - 1] };
}

async function run(n, seed) {
  const clock = new VirtualClock();
  const net = new MemoryNetwork({ clock, seed, defaultFault: { dropRate: loss } });
  const rand = seededRandom(seed * 31 + 7);
  const nodes = [];
  // Alive counts per node kept from events, so checking convergence costs O(n), not O(n²).
  const aliveCount = new Map();
  for (let i = 0; i < n; i++) {
    const cfg = { ...defaultLocalConfig(), name: `n${i}` };
    if (!catchUp) cfg.catchUpPushPullMs = 0;
    if (!compression) cfg.enableCompression = false;
    if (goScheduling) {
      Object.assign(cfg, {
        gossipMinTransmits: 0,
        prioritizeSuspectProbes: false,
        earlyProbeFailure: false,
        probeSlots: false,
        reconnectIntervalMs: 0,
      });
    }
    Object.assign(cfg, overrides);
    nodes.push(
      await createMemberlist(cfg, {
        transport: net.createTransport(),
        clock,
        random: seededRandom(seed * 1000 + i),
        events: {
          join: () => aliveCount.set(i, (aliveCount.get(i) ?? 0) + 1),
          leave: () => aliveCount.set(i, (aliveCount.get(i) ?? 0) - 1),
        },
      }),
    );
  }
  const seedAddr = nodes[0].advertiseAddress;
  for (const m of nodes.slice(1)) {
    clock.setTimeout(() => void m.join([seedAddr]).catch(() => {}), rand() * stagger);
  }
  const ok = await clock.runUntil(() => nodes.every((_, i) => aliveCount.get(i) === n), 120_000, 5);
  const convergedAt = clock.now();
  let detectMs = null;
  if (ok && fail) {
    const victim = nodes[1 + Math.floor(rand() * (n - 1))];
    const name = victim.localNode().name;
    const t0 = clock.now();
    await victim.shutdown();
    const others = nodes.filter((m) => m !== victim);
    const dead = () => others.every((m) => !m.members().some((x) => x.name === name));
    if (await clock.runUntil(dead, 120_000, 10)) detectMs = clock.now() - t0;
  }
  const pushPulls = nodes.reduce((s, m) => s + m.metrics().pushPulls.initiated, 0);
  await Promise.all(nodes.map((m) => m.shutdown()));
  return { ok, convergedAt, detectMs, pushPulls };
}

// Results are in virtual milliseconds (load does not change them); the record still ties them
// to a commit and a command. It is a `#` line, which readers of the JSON lines skip.
const meta = startRun('memberlist-sim-convergence');
console.log(
  `# in-memory sim: runs=${runs} loss=${loss} stagger=${stagger}ms catchUp=${catchUp} goScheduling=${goScheduling} compression=${compression} fail=${fail} cfg=${JSON.stringify(overrides)}`,
);
for (const n of sizes) {
  const conv = [];
  const det = [];
  let failures = 0;
  let pp = 0;
  const t = performance.now();
  for (let r = 0; r < runs; r++) {
    const res = await run(n, r + 1);
    if (!res.ok) failures++;
    else conv.push(res.convergedAt);
    if (res.detectMs !== null) det.push(res.detectMs);
    pp += res.pushPulls;
  }
  const cq = conv.length ? quantiles(conv) : null;
  const dq = det.length ? quantiles(det) : null;
  console.log(
    JSON.stringify({
      n,
      runs,
      notConverged: failures,
      convergeMs: cq,
      convergeAll: conv.map((x) => Math.round(x)),
      detectMs: dq,
      detectAll: det.map((x) => Math.round(x)),
      pushPullsPerRun: Math.round(pp / runs),
      wallMsPerRun: Math.round((performance.now() - t) / runs),
    }),
  );
}
console.log(`# run ${JSON.stringify(finishRun(meta))}`);
