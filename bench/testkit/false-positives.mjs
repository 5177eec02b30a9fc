#!/usr/bin/env node
// False positives of failure detection under packet loss made by the kernel: Go memberlist 0.2.2
// (bench/go-peer) and @isopeer/memberlist (`isopeer node`), N nodes each, every node in its own
// network namespace (the testkit's netns mesh), the same loss on every link (nftables, as
// `@loss <node> P%` on every node), side by side in one run: both clusters run at the same time,
// so machine load hits them alike. Nobody crashes, so every death declared is a false positive.
//
//   sudo node bench/testkit/false-positives.mjs [--loss 5,10,20] [--seconds 60] [--nodes 10]
//        [--config lan] [--impls go,ts] [--runs 1]
//
// Build first (`npx tsc -b`). Needs root, ip and nft. Writes
// bench/testkit/results/false-positives-<time>.json (with the run's record: commit, command,
// load before and after; bench/lib/run-meta.mjs) and .md (the table); progress on stderr.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  NetFaults,
  NetnsMesh,
  netnsUnsupported,
  parseScript,
} from '../../packages/testkit/dist/src/index.js';
import { closeAll, LineNode, waitForStates } from '../../tests/dist/support/line-node.js';
import { options } from '../lib/options.mjs';
import { finishRun, startRun } from '../lib/run-meta.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = options(args);
const losses = opt('loss', '5,10,20').split(',').map(Number);
const seconds = Number(opt('seconds', '60'));
const nodes = Number(opt('nodes', '10'));
const config = opt('config', 'lan');
const impls = opt('impls', 'go,ts').split(',');
const runs = Number(opt('runs', '1'));
const PORT = 7946; // every node has an address of its own, so all can use memberlist's port
const started = Date.now();
const runMeta = startRun('testkit-false-positives');
const progress = (msg) =>
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${msg}\n`);

const why = await netnsUnsupported();
if (why) {
  process.stderr.write(`false-positives: ${why}\n`);
  process.exit(2);
}

/** Suspicions raised so far as the node reports them (same event in both: alive → suspect). */
async function suspicions(node) {
  const s = await node.request('stats', 'stats', 20_000);
  return node.opts.impl === 'go' ? s.processSuspicionsRaised : s.memberlist.suspicions.raised;
}

async function oneRun(loss, run) {
  const names = impls.flatMap((impl) => Array.from({ length: nodes }, (_, i) => `${impl}-${i}`));
  const mesh = await NetnsMesh.create();
  const cluster = new Map();
  try {
    await mesh.addPeers(names);
    for (const impl of impls) {
      const first = `${impl}-0`;
      const start = (name) =>
        LineNode.start({
          impl,
          name,
          bind: mesh.address(name),
          port: PORT,
          config,
          join: name === first ? [] : [`${mesh.address(first)}:${PORT}`],
          netns: mesh.names.peerNamespace(name),
          env: { GO_PEER_QUIET: '1' },
          readyTimeoutMs: 60_000,
        });
      const head = await start(first);
      const rest = await Promise.all(
        names.filter((n) => n.startsWith(`${impl}-`) && n !== first).map(start),
      );
      cluster.set(impl, [head, ...rest]);
    }
    const all = [...cluster.values()].flat();
    for (const [impl, group] of cluster) {
      await waitForStates(
        group,
        group.map((n) => n.name),
        'alive',
        120_000,
      );
      progress(`loss ${loss}% run ${run}: ${impl} cluster of ${group.length} converged`);
    }
    const before = new Map(await Promise.all(all.map(async (n) => [n.name, await suspicions(n)])));
    const marks = new Map(all.map((n) => [n.name, n.mark()]));
    const faults = new NetFaults(names);
    for (const n of names) {
      const line = parseScript(`${n} x\n@loss ${n} ${loss}%`, 'bench').lines[1];
      faults.apply(line);
    }
    const load0 = loadavg()[0];
    await mesh.applyFaults(faults, { rules: new Set(names), rates: new Set() });
    progress(`loss ${loss}% run ${run}: loss on, observing for ${seconds} s`);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    await mesh.applyFaults(
      faults,
      faults.apply(parseScript(`${names[0]} x\n@heal`, 'bench').lines[1]),
    );
    const load1 = loadavg()[0];
    const result = { loss, run, seconds, nodes, config, load: [load0, load1], impls: {} };
    for (const [impl, group] of cluster) {
      const declared = [];
      for (const n of group) {
        for (const ev of n.events.slice(marks.get(n.name))) {
          if (ev.event === 'leave' && ev.state === 'dead')
            declared.push({ by: n.name, node: ev.name, ts: ev.ts });
        }
      }
      const raised = await Promise.all(
        group.map(async (n) => (await suspicions(n)) - before.get(n.name)),
      );
      result.impls[impl] = {
        suspicionsRaised: raised.reduce((a, b) => a + b, 0),
        deadDeclarations: declared.length,
        liveNodesDeclaredDead: new Set(declared.map((d) => d.node)).size,
        declared,
      };
    }
    return result;
  } finally {
    await closeAll();
    await mesh.destroy();
  }
}

const results = [];
for (let run = 1; run <= runs; run++) {
  for (const loss of losses) {
    const r = await oneRun(loss, run);
    results.push(r);
    for (const [impl, v] of Object.entries(r.impls)) {
      progress(
        `loss ${loss}% run ${run}: ${impl}: ${v.suspicionsRaised} suspicions, ${v.deadDeclarations} dead declarations, ${v.liveNodesDeclaredDead} live nodes declared dead`,
      );
    }
  }
}

const rows = [
  `| loss per packet | impl | runs | suspicions raised | per node and minute | dead declarations (observer × node) | live nodes ever declared dead | load avg (1 min) |`,
  '|---|---|---|---|---|---|---|---|',
];
for (const loss of losses) {
  for (const impl of impls) {
    const rs = results.filter((r) => r.loss === loss);
    const sum = (k) => rs.reduce((a, r) => a + r.impls[impl][k], 0);
    const perNodeMin = sum('suspicionsRaised') / (rs.length * nodes * (seconds / 60));
    const loads = rs.flatMap((r) => r.load).map((l) => l.toFixed(1));
    rows.push(
      `| ${loss}% | ${impl} | ${rs.length} | ${sum('suspicionsRaised')} | ${perNodeMin.toFixed(2)} | ${sum('deadDeclarations')} | ${rs.map((r) => r.impls[impl].liveNodesDeclaredDead).join(', ')} of ${nodes} | ${Math.min(...loads)}–${Math.max(...loads)} |`,
    );
  }
}
const meta = finishRun(runMeta);
const commit = `${meta.commit?.slice(0, 7)}${meta.uncommitted.length > 0 ? ' + uncommitted changes' : ''}`;
const stamp = new Date(started).toISOString().replace(/[:.]/g, '-');
const header = `False positives under kernel packet loss: ${nodes} nodes per implementation, ${seconds} s each, \`${config}\` preset, ${runs} run(s), commit ${commit}, ${new Date(started).toISOString()}, ${(Date.now() - started) / 1000} s total.`;
const md = `${header}\n\n${rows.join('\n')}\n`;
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(
  join(here, 'results', `false-positives-${stamp}.json`),
  `${JSON.stringify({ meta, header, results }, null, 2)}\n`,
);
writeFileSync(join(here, 'results', `false-positives-${stamp}.md`), md);
process.stdout.write(md);
