#!/usr/bin/env node
// Issue 17, part 2: `leave 500` right after a join. Two nodes, one process each: a peer, and a
// leaver that joins it and, as soon as its join answered, sends `leave 500` (in the `busy`
// variant after queueing 5 broadcasts of 200 bytes first). Measured per run: whether `left`
// answered ok, the time from sending `leave` to that answer, and the time until the peer
// reports the leaver `left` (both from the nodes' event time stamps, so pipe latency counts).
// Every pairing of Go (bench/go-peer, memberlist 0.2.2) and TS (`isopeer node`) as leaver and
// peer, run by run in turn.
//
//   npx tsc -b packages/isopeer tests
//   node bench/memberlist/leave.mjs [--runs 10] [--pairs ts:ts,ts:go,go:ts,go:go] [--busy both]
//
// --busy takes no, yes or both. Writes results/leave-latest.json (+ a timestamped copy).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goPeerBinary } from '../../tests/dist/support/go-peer.js';
import { closeAll, LineNode } from '../../tests/dist/support/line-node.js';
import { options } from '../lib/options.mjs';
import { describeRun } from '../lib/run-meta.mjs';
import { runHarness, saveRecord, startRecord } from './harness.mjs';
import { summarize } from './stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const opt = options(process.argv.slice(2));
const runs = Number(opt('runs', '10'));
const pairs = opt('pairs', 'ts:ts,ts:go,go:ts,go:go')
  .split(',')
  .filter(Boolean)
  .map((p) => {
    const [leaver, peer] = p.split(':');
    for (const impl of [leaver, peer]) {
      if (impl !== 'go' && impl !== 'ts')
        throw new Error(`--pairs takes LEAVER:PEER of go/ts: ${p}`);
    }
    return { leaver, peer };
  });
const busyOpt = opt('busy', 'both');
const busyModes = { no: [false], yes: [true], both: [false, true] }[busyOpt];
if (!busyModes) throw new Error(`--busy takes no, yes or both: ${busyOpt}`);
const env = { GO_PEER_QUIET: '1' };
const t0 = Date.now();
const progress = (m) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${m}\n`);

async function leaveRun({ leaver: leaverImpl, peer: peerImpl }, busy, run) {
  const tag = `lv${run}-${leaverImpl}${peerImpl}${busy ? 'b' : ''}`;
  const peer = await LineNode.start({ impl: peerImpl, name: `${tag}-peer`, env });
  const leaver = await LineNode.start({
    impl: leaverImpl,
    name: `${tag}-leaver`,
    join: [peer.address()],
    env,
  });
  try {
    const joined = await leaver.waitFor((e) => e.event === 'joined', 10_000, 'joined');
    if (joined.ok !== true) return { error: `join failed: ${JSON.stringify(joined)}` };
    if (busy) for (let i = 0; i < 5; i++) leaver.send(`broadcast busy-${i}-${'x'.repeat(200)}`);
    const sentAt = Date.now();
    const left = await leaver.request('leave 500', 'left', 10_000);
    const seen = await peer
      .waitFor(
        (e) => e.event === 'leave' && e.name === leaver.name && e.state === 'left',
        5_000,
        'peer sees left',
      )
      .catch(() => null);
    return {
      ok: left.ok === true,
      error: left.error,
      leaveMs: left.ts - sentAt,
      seenMs: seen ? seen.ts - sentAt : null,
    };
  } finally {
    await Promise.all([leaver.close(), peer.close()]);
  }
}

async function main() {
  const record = startRecord('leave');
  record.params = { runs, pairs, busy: busyOpt };
  const cases = pairs.flatMap((p) => busyModes.map((busy) => ({ ...p, busy })));
  const key = (c) => `${c.leaver}>${c.peer}${c.busy ? ' busy' : ''}`;
  record.results = Object.fromEntries(cases.map((c) => [key(c), { runs: [] }]));
  if (pairs.some((p) => p.leaver === 'go' || p.peer === 'go')) await goPeerBinary();
  for (let run = 0; run < runs; run++) {
    for (const c of cases) {
      let r;
      try {
        r = await leaveRun(c, c.busy, run);
      } catch (err) {
        await closeAll();
        r = { error: String(err.message ?? err).split('\n')[0] };
      }
      record.results[key(c)].runs.push(r);
      progress(
        `${key(c)} run ${run + 1}/${runs}: ${r.ok ? 'ok' : `not ok (${r.error})`}, left after ${r.leaveMs?.toFixed(0) ?? '?'} ms, peer saw it after ${r.seenMs?.toFixed(0) ?? '?'} ms`,
      );
    }
    saveRecord(join(here, 'results'), record);
  }
  const lines = [];
  for (const [k, v] of Object.entries(record.results)) {
    v.ok = v.runs.filter((r) => r.ok).length;
    v.leaveMs = summarize(v.runs.map((r) => r.leaveMs ?? null));
    v.seenMs = summarize(v.runs.map((r) => r.seenMs ?? null));
    lines.push(
      `${k}: ok ${v.ok} of ${v.runs.length}; left after median ${v.leaveMs.median?.toFixed(0)} ms (max ${v.leaveMs.max?.toFixed(0)}); peer saw it after median ${v.seenMs.median?.toFixed(0)} ms (max ${v.seenMs.max?.toFixed(0)})`,
    );
  }
  const file = saveRecord(join(here, 'results'), record);
  process.stdout.write(`${lines.join('\n')}\n${describeRun(record.meta)}\n${file}\n`);
}

runHarness('leave bench', main, closeAll);
