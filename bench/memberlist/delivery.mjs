#!/usr/bin/env node
// Issue 17, part 1: how many application broadcasts arrive. N nodes (default 5), one process
// each, joined in a chain (node i joins node i-1). Once all see each other, every node queues
// one broadcast per round, a round every 150 ms, for 10 rounds; every receiver re-broadcasts
// once (node line protocol). 4 s after the last round the deliveries are counted: each
// broadcast should reach the N-1 others, so 200 is everything at N = 5. Go (bench/go-peer, Go
// memberlist 0.2.2) and TS (`isopeer node`) alternate run by run; `mixed` alternates go and ts
// nodes in one cluster.
//
//   npx tsc -b packages/isopeer tests
//   node bench/memberlist/delivery.mjs [--runs 10] [--impls go,ts,mixed] [--nodes 5]
//        [--rounds 10] [--round-ms 150] [--after-ms 4000] [--payload 20]
//
// Writes results/delivery-latest.json (+ a timestamped copy): per run the delivered count, the
// broadcasts that missed a node, and each node's `stats` (drops by reason, packets).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goPeerBinary } from '../../tests/dist/support/go-peer.js';
import { closeAll, LineNode, waitForStates } from '../../tests/dist/support/line-node.js';
import { options } from '../lib/options.mjs';
import { describeRun } from '../lib/run-meta.mjs';
import { runHarness, saveRecord, startRecord } from './harness.mjs';
import { summarize } from './stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const opt = options(process.argv.slice(2));
const runs = Number(opt('runs', '10'));
const impls = opt('impls', 'go,ts').split(',').filter(Boolean);
const nodes = Number(opt('nodes', '5'));
const rounds = Number(opt('rounds', '10'));
const roundMs = Number(opt('round-ms', '150'));
const afterMs = Number(opt('after-ms', '4000'));
const payload = Number(opt('payload', '20'));
for (const impl of impls) {
  if (!['go', 'ts', 'mixed'].includes(impl))
    throw new Error(`--impls takes go, ts, mixed: ${impl}`);
}
const env = { GO_PEER_QUIET: '1' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms)); // the broadcast schedule itself
const t0 = Date.now();
const progress = (m) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${m}\n`);

async function deliveryRun(kind, run) {
  const cluster = [];
  try {
    for (let i = 0; i < nodes; i++) {
      const impl = kind === 'mixed' ? (i % 2 === 0 ? 'go' : 'ts') : kind;
      cluster.push(
        await LineNode.start({
          impl,
          name: `d${run}-${impl}${i}`,
          env,
          join: i > 0 ? [cluster[i - 1].address()] : undefined,
        }),
      );
    }
    const names = cluster.map((n) => n.name);
    await waitForStates(cluster, names, 'alive', 60_000);
    const texts = [];
    for (let r = 0; r < rounds; r++) {
      for (const [i, n] of cluster.entries()) {
        const text = `r${r}n${i}-`.padEnd(payload, 'x');
        texts.push({ text, from: n.name });
        n.send(`broadcast ${text}`);
      }
      await sleep(roundMs);
    }
    await sleep(afterMs);
    const got = new Set();
    for (const n of cluster) {
      for (const e of n.find('msg', { kind: 'broadcast' }))
        got.add(`${e.self}|${e.from}|${e.data}`);
    }
    const missed = [];
    let delivered = 0;
    for (const t of texts) {
      const lacking = names.filter((s) => s !== t.from && !got.has(`${s}|${t.from}|${t.text}`));
      delivered += nodes - 1 - lacking.length;
      if (lacking.length > 0) missed.push({ from: t.from, text: t.text, lacking });
    }
    const stats = [];
    for (const n of cluster) {
      const s = await n.request('stats', 'stats').catch(() => null);
      stats.push(
        s && {
          self: s.self,
          impl: n.opts.impl,
          broadcastsIn: s.broadcastsIn,
          queued: s.queued,
          dropped: s.memberlist?.dropped ?? null,
          packets: s.memberlist?.packets ?? null,
        },
      );
    }
    return { delivered, possible: texts.length * (nodes - 1), missed, stats };
  } finally {
    await Promise.all(cluster.map((n) => n.close()));
  }
}

async function main() {
  const record = startRecord('delivery');
  record.params = { runs, impls, nodes, rounds, roundMs, afterMs, payload };
  record.results = Object.fromEntries(impls.map((k) => [k, { runs: [] }]));
  if (impls.some((k) => k !== 'ts')) await goPeerBinary();
  for (let run = 0; run < runs; run++) {
    for (const kind of impls) {
      let r;
      try {
        r = await deliveryRun(kind, run);
      } catch (err) {
        await closeAll();
        r = { delivered: null, error: String(err.message ?? err).split('\n')[0] };
      }
      record.results[kind].runs.push(r);
      progress(`${kind} run ${run + 1}/${runs}: ${r.delivered ?? r.error} of ${r.possible ?? '?'}`);
    }
    saveRecord(join(here, 'results'), record);
  }
  for (const kind of impls) {
    record.results[kind].summary = summarize(record.results[kind].runs.map((r) => r.delivered));
  }
  const file = saveRecord(join(here, 'results'), record);
  const lines = impls.map((k) => {
    const s = record.results[k].summary;
    return `${k}: delivered of ${record.results[k].runs[0]?.possible ?? '?'}: min ${s.min}, median ${s.median}, max ${s.max} (${s.runs} runs, ${s.missing} failed)`;
  });
  process.stdout.write(`${lines.join('\n')}\n${describeRun(record.meta)}\n${file}\n`);
}

runHarness('delivery bench', main, closeAll);
