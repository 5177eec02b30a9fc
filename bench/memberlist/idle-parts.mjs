#!/usr/bin/env node
// Issue 17, part 4: where an idle process's CPU goes, in three measurements of this process
// (`process.cpuUsage` over a window, after a settle period):
//   wake     a bare `setInterval` of 20, 50 and 100 ms: what a wake-up costs before any work;
//   clock    200 no-op timers of 100 ms on a CoalescingClock with a 20, 50 and 100 ms grid;
//   cluster  20 `createMemberlist` nodes on real UDP/TCP (local preset), broadcasting through a
//            `getBroadcasts` delegate or a `createBroadcastQueue()` queue, and (delegate) with
//            each loop switched off in turn, on the 20 and 50 ms grid (`--grids`).
// Cases alternate within each round, so drift of the machine hits them alike.
//
//   npx tsc -b packages/memberlist
//   node bench/memberlist/idle-parts.mjs [--rounds 2] [--window-seconds 20] [--only wake,clock,cluster]
//        [--grids 20,50] [--cases all,no probes]
//
// Writes results/idle-parts-latest.json (+ a timestamped copy) with the run's record.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CoalescingClock,
  createMemberlist,
  defaultLocalConfig,
} from '../../packages/memberlist/dist/src/index.js';
import { options } from '../lib/options.mjs';
import { describeRun } from '../lib/run-meta.mjs';
import { saveRecord, startRecord } from './harness.mjs';
import { summarize } from './stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const opt = options();
const rounds = Number(opt('rounds', '2'));
const windowS = Number(opt('window-seconds', '20'));
const only = new Set(opt('only', 'wake,clock,cluster').split(','));
const grids = opt('grids', '20,50').split(',').filter(Boolean).map(Number);
// Only the cluster cases whose name contains one of these (comma-separated), e.g. `all`.
const caseFilter = opt('cases', '').split(',').filter(Boolean);
const t0 = Date.now();
const progress = (m) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${m}\n`);
// Settle periods and windows are measurement intervals, not synchronisation waits.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds per minute of this process over the window, after `settleMs`. */
async function cpuPerMinute(settleMs) {
  await sleep(settleMs);
  const u0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(windowS * 1000);
  const u = process.cpuUsage(u0);
  return ((u.user + u.system) / 1e6 / ((performance.now() - w0) / 1000)) * 60;
}

async function wake(ms) {
  const t = setInterval(() => {}, ms);
  try {
    return await cpuPerMinute(2000);
  } finally {
    clearInterval(t);
  }
}

async function clock(slackMs) {
  const c = new CoalescingClock(slackMs);
  let stop = false;
  for (let i = 0; i < 200; i++) {
    // Each timer keeps a 100 ms cadence at its own random phase, as the gossip loops do.
    let due = c.now() + Math.random() * 100;
    const tick = () => {
      if (stop) return;
      const now = c.now();
      due = Math.max(due + 100, now);
      c.setTimeout(tick, due - now);
    };
    c.setTimeout(tick, due - c.now());
  }
  try {
    return await cpuPerMinute(2000);
  } finally {
    stop = true;
  }
}

const OFF = 1e9; // an interval no window reaches: the loop never runs
// How the application broadcasts: through a `getBroadcasts` delegate (asked every gossip
// round), or on a queue from `createBroadcastQueue()` (as `isopeer node` does since the gossip
// loop parks while every queue is empty).
const clusterCases = {
  'all, getBroadcasts delegate': { cfg: {}, delegateQueue: true },
  'all, createBroadcastQueue': { cfg: {}, delegateQueue: false },
  'no probes': { cfg: { probeIntervalMs: OFF }, delegateQueue: true },
  'no gossip rounds': { cfg: { gossipIntervalMs: OFF }, delegateQueue: true },
  'no push/pull': { cfg: { pushPullIntervalMs: OFF }, delegateQueue: true },
};

async function cluster(slackMs, { cfg, delegateQueue }) {
  const clk = new CoalescingClock(slackMs);
  const nodes = [];
  try {
    for (let i = 0; i < 20; i++) {
      let queue = null;
      const ml = await createMemberlist(
        {
          ...defaultLocalConfig(),
          name: `p${i}`,
          bindAddr: '127.0.0.1',
          bindPort: 0,
          ...cfg,
        },
        {
          clock: clk,
          delegate: {
            nodeMeta: () => new Uint8Array(0),
            notifyMsg: () => {},
            ...(delegateQueue && {
              getBroadcasts: (overhead, limit) => queue?.getBroadcasts(overhead, limit) ?? [],
            }),
            localState: () => new Uint8Array(0),
            mergeRemoteState: () => {},
          },
        },
      );
      queue = ml.createBroadcastQueue();
      nodes.push(ml);
    }
    const seed = nodes[0].localNode();
    for (const ml of nodes.slice(1)) await ml.join([`${seed.addr}:${seed.port}`]);
    const deadline = Date.now() + 30_000;
    while (nodes.some((m) => m.members().length < nodes.length)) {
      if (Date.now() > deadline) throw new Error('20 nodes did not converge within 30 s');
      await sleep(100);
    }
    return await cpuPerMinute(5000);
  } finally {
    await Promise.all(nodes.map((m) => m.shutdown()));
  }
}

const cases = [];
if (only.has('wake')) for (const ms of [20, 50, 100]) cases.push([`wake ${ms} ms`, () => wake(ms)]);
if (only.has('clock')) {
  for (const s of [20, 50, 100]) cases.push([`clock 200 timers, ${s} ms grid`, () => clock(s)]);
}
if (only.has('cluster')) {
  for (const s of grids) {
    for (const [name, c] of Object.entries(clusterCases)) {
      if (caseFilter.length > 0 && !caseFilter.some((f) => name.includes(f))) continue;
      cases.push([`cluster 20 nodes, ${s} ms grid, ${name}`, () => cluster(s, c)]);
    }
  }
}

const record = startRecord('idle-parts');
record.params = { rounds, windowS, only: [...only], grids, cases: caseFilter };
record.results = Object.fromEntries(cases.map(([name]) => [name, { runs: [] }]));
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of cases) {
    const v = await fn();
    record.results[name].runs.push(v);
    progress(`round ${r + 1}/${rounds} ${name}: ${v.toFixed(3)} CPU s/min`);
  }
}
const lines = [];
for (const [name, v] of Object.entries(record.results)) {
  v.summary = summarize(v.runs);
  lines.push(
    `${name}: median ${v.summary.median.toFixed(3)}, max ${v.summary.max.toFixed(3)} CPU s/min`,
  );
}
const file = saveRecord(join(here, 'results'), record);
process.stdout.write(`${lines.join('\n')}\n${describeRun(record.meta)}\n${file}\n`);
process.exit(0);
