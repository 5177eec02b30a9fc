#!/usr/bin/env node
// Chat benchmark: N real `isopeer chat` processes (line mode) and one `isopeer bootstrap-server`
// on loopback. One clock (this process) stamps every line written to a sender's stdin and every
// line read from a receiver's stdout, so "send-to-display latency" is the time from a message
// entering the sender to it being printed by a receiver (pipes included on both ends).
//
//   phase "paced":  one message every PACE ms, senders in turn; latency without queueing.
//   phase "burst":  every peer writes BURST messages at once; deliveries per second under load,
//                   latency including queueing.
//
// Usage: npm run build && node bench/chat/chat-bench.mjs [--peers 3,10] [--paced 200] [--burst 100]
//        [--pace 20] [--json out.json]
// Prints progress to stderr and a summary table (markdown) to stdout; writes the raw results with
// the run's record (commit, command, load before and after; bench/lib/run-meta.mjs) to
// bench/chat/results/<time>.json and results/latest.json (and to --json's file if given).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BootstrapProc, ChatProc, cleanEnv } from '../../tests/dist/src/chat-procs.js';
import { describeRun, finishRun, startRun, writeRaw } from '../lib/run-meta.mjs';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const peerCounts = arg('peers', '3,10').split(',').map(Number);
const pacedCount = Number(arg('paced', '200'));
const burstPerPeer = Number(arg('burst', '100'));
const paceMs = Number(arg('pace', '20'));
const jsonOut = arg('json', undefined);

const log = (s) => process.stderr.write(`${s}\n`);
const pct = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function withGroup(n, fn) {
  const scratch = mkdtempSync(join(tmpdir(), 'chat-bench-'));
  const server = await BootstrapProc.start(cleanEnv({}));
  const peers = [];
  try {
    for (let i = 0; i < n; i++) {
      const p = new ChatProc(
        `p${i}`,
        ['--bootstrap', server.url, '--state-dir', join(scratch, `p${i}`)],
        cleanEnv({}),
      );
      peers.push(p);
      await p.ready(60_000);
    }
    // Everyone must know everyone before measuring.
    const deadline = Date.now() + 60_000;
    for (const p of peers) {
      for (;;) {
        const out = await p.command('/chatmembers');
        if (out[0] === `${n} chat member(s)`) break;
        if (Date.now() > deadline) throw new Error(`${p.name} knows only ${out[0]} after 60 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return await fn(peers);
  } finally {
    await Promise.all([...peers.map((p) => p.stop()), server.stop()]);
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Sends messages (already stamped in `sent`) and waits until every receiver printed each. */
function collect(peers, sent, expected, timeoutMs) {
  const latencies = [];
  let got = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`only ${got} of ${expected} deliveries within ${timeoutMs} ms`));
    }, timeoutMs);
    const listeners = peers.map((p) => {
      const onLine = (line) => {
        const m = /^<p\d+> bench (\S+)$/.exec(line.text);
        if (!m) return;
        const at = sent.get(m[1]);
        if (at === undefined) return;
        latencies.push(line.at - at);
        if (++got === expected) {
          cleanup();
          resolve({ latencies, last: line.at });
        }
      };
      p.on('line', onLine);
      return [p, onLine];
    });
    const cleanup = () => {
      clearTimeout(timer);
      for (const [p, l] of listeners) p.off('line', l);
    };
  });
}

function summarize(latencies) {
  const s = [...latencies].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p99: pct(s, 99), max: s[s.length - 1] };
}

async function paced(peers) {
  const sent = new Map();
  const expected = pacedCount * (peers.length - 1);
  const done = collect(peers, sent, expected, 60_000 + pacedCount * paceMs * 2);
  for (let i = 0; i < pacedCount; i++) {
    const id = `paced-${i}`;
    const p = peers[i % peers.length];
    sent.set(id, performance.now());
    p.send(`bench ${id}`);
    await new Promise((r) => setTimeout(r, paceMs));
  }
  const { latencies } = await done;
  return summarize(latencies);
}

async function burst(peers) {
  const sent = new Map();
  const expected = burstPerPeer * peers.length * (peers.length - 1);
  const done = collect(peers, sent, expected, 300_000);
  const start = performance.now();
  for (let i = 0; i < burstPerPeer; i++) {
    for (const p of peers) {
      const id = `burst-${p.name}-${i}`;
      sent.set(id, performance.now());
      p.send(`bench ${id}`);
    }
  }
  const { latencies, last } = await done;
  const seconds = (last - start) / 1000;
  return {
    ...summarize(latencies),
    deliveriesPerSec: expected / seconds,
    messagesPerSec: (burstPerPeer * peers.length) / seconds,
    seconds,
  };
}

const meta = startRun('chat');
const results = [];
for (const n of peerCounts) {
  log(`== ${n} peers: starting (load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs)`);
  const loadBefore = loadavg()[0];
  const r = await withGroup(n, async (peers) => {
    log(`   paced: ${pacedCount} messages, one every ${paceMs} ms`);
    const p = await paced(peers);
    log(`   burst: ${burstPerPeer} messages per peer at once`);
    const b = await burst(peers);
    return {
      peers: n,
      paceMs,
      paced: p,
      burst: b,
      loadBefore,
      loadAfter: loadavg()[0],
      cpus: cpus().length,
    };
  });
  log(
    `   done: paced p50 ${r.paced.p50.toFixed(2)} ms, burst ${r.burst.deliveriesPerSec.toFixed(0)} deliveries/s`,
  );
  results.push(r);
}

const f = (x) => x.toFixed(1);
console.log(
  '| peers | pace (ms) | paced p50 (ms) | paced p99 (ms) | burst msgs/s sent | burst deliveries/s | burst p50 (ms) | burst p99 (ms) | load avg |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  console.log(
    `| ${r.peers} | ${r.paceMs} | ${f(r.paced.p50)} | ${f(r.paced.p99)} | ${f(r.burst.messagesPerSec)} | ${f(r.burst.deliveriesPerSec)} | ${f(r.burst.p50)} | ${f(r.burst.p99)} | ${f(r.loadBefore)} |`,
  );
}
finishRun(meta);
const record = { meta, params: { peerCounts, pacedCount, burstPerPeer, paceMs }, results };
const raw = writeRaw(fileURLToPath(new URL('results', import.meta.url)), record);
console.log(`\n${describeRun(meta)}; raw results: ${raw}`);
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(record, null, 2)}\n`);
