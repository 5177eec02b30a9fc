#!/usr/bin/env node
// Go memberlist 0.2.2 (bench/go-peer) versus @isopeer/memberlist (`isopeer node`), side by side
// in the same run, both with DefaultLocalConfig on real UDP/TCP over loopback. Both are driven
// through the node line protocol by the test driver (tests/support/line-node.ts).
//
//   npm run build   # or at least: npx tsc -b packages/isopeer tests
//   node bench/memberlist/run.mjs [--runs 10] [--sizes 5,20,50] [--fd-sizes 5,20] [--fd-runs 10]
//        [--gossip-runs 10] [--idle-seconds 30] [--cap-ms 90000] [--impls go,ts]
//        [--only convergence,detection,gossip,idle] [--report-only] [--out NAME]
//
// Writes bench/memberlist/results/latest.json (+ a timestamped copy), results/latest.md (tables)
// and the plots convergence.svg and detection.svg. With --out NAME it writes only
// results/NAME-latest.json (+ a timestamped copy) and its own plot, leaving those alone, e.g. issue 17's
// detection tail: --only detection --fd-sizes 20 --fd-runs 30 --out detection.
// Every record carries the commit, `uptime` before and after, and the command. Progress: stderr.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goPeerBinary } from '../../tests/dist/support/go-peer.js';
import { closeAll, LineNode } from '../../tests/dist/support/line-node.js';
import { options } from '../lib/options.mjs';
import { describeRun, finishRun, startRun } from '../lib/run-meta.mjs';
import { procCpuSeconds, procMemMiB, saveRecord } from './harness.mjs';
import { fmtMs, summarize } from './stats.mjs';
import { boxPlotSvg } from './svg.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = options(args);
const list = (s) => s.split(',').filter(Boolean);
const runs = Number(opt('runs', '10'));
const sizes = list(opt('sizes', '5,20,50')).map(Number);
const fdSizes = list(opt('fd-sizes', '5,20')).map(Number);
const fdRuns = Number(opt('fd-runs', '10'));
const gossipRuns = Number(opt('gossip-runs', '10'));
const gossipSize = Number(opt('gossip-size', '20'));
const idleSeconds = Number(opt('idle-seconds', '30'));
const capMs = Number(opt('cap-ms', '90000'));
const impls = list(opt('impls', 'go,ts'));
const only = new Set(list(opt('only', 'convergence,detection,gossip,idle')));
const outName = opt('out', null);
for (const [name, v] of Object.entries({ runs, fdRuns, gossipRuns, idleSeconds, capMs })) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number, got ${v}`);
}

// Memberlist's debug log is per packet; silence it so logging does not count as CPU.
const env = { GO_PEER_QUIET: '1' };
const started = Date.now();
const progress = (msg) => {
  const t = ((Date.now() - started) / 1000).toFixed(0).padStart(5);
  process.stderr.write(`[${t} s] ${msg}\n`);
};

// ---- process accounting from /proc ----
const cpuSeconds = procCpuSeconds;
const memKiB = (pid, field) => procMemMiB(pid, field) * 1024;
function usage(node) {
  try {
    return { cpuS: cpuSeconds(node.pid), peakRssMiB: memKiB(node.pid, 'VmHWM') / 1024 };
  } catch {
    return { cpuS: null, peakRssMiB: null };
  }
}

const lastReadyTs = (node) => Math.max(...node.find('ready').map((e) => e.ts));

async function startGroup(impl, name, count, extra = {}) {
  return LineNode.start({ impl, name, count, env, readyTimeoutMs: 120_000, ...extra });
}

/** Waits for `all-converged`; returns ms since the last node was ready, or null at the cap. */
async function converged(node) {
  const ev = await node.waitFor((e) => e.event === 'all-converged', capMs).catch(() => null);
  return ev ? ev.ts - lastReadyTs(node) : null;
}

// ---- convergence: N nodes in one process, node i > 0 joins node 0 at once ----
async function convergenceRun(impl, n, i) {
  const node = await startGroup(impl, `c${n}${impl}${i}`, n);
  const ms = await converged(node);
  const u = usage(node);
  await node.close();
  return { ms, ...u };
}

// ---- failure detection: N-1 nodes in one process + one victim process, SIGKILLed ----
async function detectionRun(impl, n, i) {
  const group = await startGroup(impl, `d${n}${impl}${i}`, n - 1);
  try {
    if ((await converged(group)) === null)
      return { first: null, all: null, note: 'no convergence' };
    const victim = await LineNode.start({
      impl,
      name: `victim${n}${impl}${i}`,
      env,
      join: group.names.map((x) => group.address(x)), // everyone learns it by push/pull at once
    });
    await group.until(
      () => group.names.every((s) => group.view(s).get(victim.name) === 'alive'),
      capMs,
      'victim known to all',
    );
    const killedAt = Date.now();
    victim.kill('SIGKILL');
    const ok = await group
      .until(
        () => group.names.every((s) => group.view(s).get(victim.name) === 'dead'),
        capMs,
        'victim dead everywhere',
      )
      .then(() => true)
      .catch(() => false);
    const deaths = group
      .find('leave')
      .filter((e) => e.name === victim.name && e.state === 'dead')
      .map((e) => e.ts - killedAt);
    await victim.close();
    return {
      first: deaths.length ? Math.min(...deaths) : null,
      all: ok ? Math.max(...deaths) : null,
    };
  } finally {
    await group.close();
  }
}

// ---- gossip dissemination: broadcast from one node until all N-1 others reported it ----
async function gossipRun(impl, n) {
  const group = await startGroup(impl, `g${n}${impl}`, n);
  const samples = [];
  try {
    if ((await converged(group)) === null) return { samples: [], note: 'no convergence' };
    for (let k = 0; k < gossipRuns; k++) {
      const from = k % n;
      const data = `probe-${k}`;
      const since = group.mark();
      group.send(`@${from} broadcast ${data}`);
      const q = await group.waitFor(
        (e) => e.event === 'broadcast-queued' && e.data === data,
        10_000,
        'queued',
        since,
      );
      const got = () => group.find('msg').filter((e) => e.data === data && e.kind === 'broadcast');
      const done = await group
        .until(() => got().length >= n - 1, 10_000, `broadcast ${data} everywhere`)
        .then(() => true)
        .catch(() => false);
      const times = got()
        .map((e) => e.ts - q.ts)
        .sort((a, b) => a - b);
      samples.push({
        all: done ? times.at(-1) : null,
        half: times[Math.ceil((n - 1) / 2) - 1] ?? null,
        coverage: times.length / (n - 1),
      });
      const s = samples.at(-1);
      progress(
        `gossip N=${n} ${impl} #${k + 1}/${gossipRuns}: all ${fmtMs(s.all)}, half ${fmtMs(s.half)}, reached ${times.length}/${n - 1}`,
      );
    }
    return { samples };
  } finally {
    await group.close();
  }
}

// ---- idle cost: CPU over a quiet window after convergence, and RSS ----
async function idleRun(impl, n) {
  const group = await startGroup(impl, `i${n}${impl}`, n);
  try {
    const conv = await converged(group);
    const before = cpuSeconds(group.pid);
    const t0 = Date.now();
    // A measurement window, not a synchronisation wait: idle CPU is defined over wall time.
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const cpu = cpuSeconds(group.pid) - before;
    const minutes = (Date.now() - t0) / 60_000;
    return {
      converged: conv !== null,
      cpuSecondsPerMinute: cpu / minutes,
      cpuSecondsPerMinutePerNode: cpu / minutes / n,
      rssMiB: memKiB(group.pid, 'VmRSS') / 1024,
      peakRssMiB: memKiB(group.pid, 'VmHWM') / 1024,
    };
  } finally {
    await group.close();
  }
}

/** A run that crashed (e.g. a node failed to start) is recorded and the benchmark goes on. */
async function attempt(what, fn, empty) {
  try {
    return await fn();
  } catch (err) {
    progress(`${what}: FAILED: ${String(err.message ?? err).split('\n')[0]}`);
    await closeAll();
    return { ...empty, error: String(err.message ?? err).split('\n')[0] };
  }
}

async function main() {
  if (args.includes('--report-only')) {
    // Re-renders tables and plots from results/latest.json (results/NAME-latest.json with
    // --out NAME) without measuring again.
    const latest = outName ? `${outName}-latest` : 'latest';
    const results = JSON.parse(readFileSync(join(here, 'results', `${latest}.json`), 'utf8'));
    if (!outName) writeFileSync(join(here, 'results', 'latest.md'), tables(results));
    writePlots(results, outName);
    process.stdout.write(tables(results));
    return;
  }
  if (impls.includes('go')) await goPeerBinary();
  const results = {
    meta: startRun(outName ?? 'memberlist'),
    date: new Date().toISOString(),
    config: 'DefaultLocalConfig (--config local) on 127.0.0.1, real UDP/TCP',
    params: { runs, sizes, fdSizes, fdRuns, gossipRuns, gossipSize, idleSeconds, capMs, impls },
    convergence: {},
    detection: {},
    gossip: {},
    idle: {},
  };
  const save = () => {
    if (outName) {
      saveRecord(join(here, 'results'), results);
      return;
    }
    finishRun(results.meta);
    mkdirSync(join(here, 'results'), { recursive: true });
    const text = `${JSON.stringify(results, null, 2)}\n`;
    writeFileSync(join(here, 'results', 'latest.json'), text);
    writeFileSync(join(here, 'results', `${results.date.replace(/[:.]/g, '-')}.json`), text);
  };

  if (only.has('convergence')) {
    for (const n of sizes) {
      for (const impl of impls) results.convergence[`${impl}-${n}`] = { runs: [] };
      for (let i = 0; i < runs; i++) {
        for (const impl of impls) {
          const r = await attempt(`convergence N=${n} ${impl}`, () => convergenceRun(impl, n, i), {
            ms: null,
            cpuS: null,
            peakRssMiB: null,
          });
          results.convergence[`${impl}-${n}`].runs.push(r);
          progress(
            `convergence N=${n} ${impl} run ${i + 1}/${runs}: ${r.ms === null ? `not within ${fmtMs(capMs)}` : fmtMs(r.ms)}` +
              ` (cpu ${r.cpuS?.toFixed(2)} s, peak rss ${r.peakRssMiB?.toFixed(0)} MiB)`,
          );
        }
        save();
      }
      for (const impl of impls) {
        const c = results.convergence[`${impl}-${n}`];
        c.summary = summarize(c.runs.map((r) => r.ms));
        c.over1s = c.runs.filter((r) => r.ms === null || r.ms > 1000).length;
        const ok = c.runs.filter((r) => r.cpuS !== null);
        c.cpuSecondsPerNode = summarize(ok.map((r) => r.cpuS / n));
        c.peakRssMiBPerNode = summarize(ok.map((r) => r.peakRssMiB / n));
        c.peakRssMiBProcess = summarize(ok.map((r) => r.peakRssMiB));
      }
      save();
    }
  }

  if (only.has('detection')) {
    for (const n of fdSizes) {
      for (const impl of impls) results.detection[`${impl}-${n}`] = { runs: [] };
      for (let i = 0; i < fdRuns; i++) {
        for (const impl of impls) {
          const r = await attempt(`detection N=${n} ${impl}`, () => detectionRun(impl, n, i), {
            first: null,
            all: null,
          });
          results.detection[`${impl}-${n}`].runs.push(r);
          progress(
            `detection N=${n} ${impl} run ${i + 1}/${fdRuns}: first ${fmtMs(r.first)}, all ${fmtMs(r.all)}${r.note ? ` (${r.note})` : ''}`,
          );
        }
        save();
      }
      for (const impl of impls) {
        const d = results.detection[`${impl}-${n}`];
        d.first = summarize(d.runs.map((r) => r.first));
        d.all = summarize(d.runs.map((r) => r.all));
        d.over8s = d.runs.filter((r) => r.all === null || r.all > 8000).length;
      }
      save();
    }
  }

  if (only.has('gossip')) {
    for (const impl of impls) {
      const g = await attempt(`gossip ${impl}`, () => gossipRun(impl, gossipSize), { samples: [] });
      results.gossip[`${impl}-${gossipSize}`] = {
        ...g,
        summary: summarize(g.samples.map((x) => x.all)),
        half: summarize(g.samples.map((x) => x.half)),
        minCoverage: g.samples.length ? Math.min(...g.samples.map((x) => x.coverage)) : 0,
      };
      save();
    }
  }

  if (only.has('idle')) {
    for (const impl of impls) {
      progress(`idle N=${gossipSize} ${impl}: measuring ${idleSeconds} s`);
      const idle = await attempt(`idle ${impl}`, () => idleRun(impl, gossipSize), {});
      if (!idle.error) results.idle[`${impl}-${gossipSize}`] = idle;
      save();
    }
  }

  save();
  if (!outName) writeFileSync(join(here, 'results', 'latest.md'), tables(results));
  writePlots(results, outName);
  progress(describeRun(results.meta));
  progress(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.stdout.write(tables(results));
}

function row(label, s) {
  return `| ${label} | ${s.runs} | ${[s.min, s.p25, s.median, s.p75, s.max].map(fmtMs).join(' | ')} | ${s.missing} |`;
}

function tables(r) {
  const head =
    '| case | runs | min | p25 | median | p75 | max | not finished |\n|---|---|---|---|---|---|---|---|';
  const m = r.meta ?? { machine: r.machine ?? {}, node: r.machine?.node };
  const out = [`Run ${r.date}, ${m.machine.cpus} CPUs, ${m.node}; ${r.config}.`, ''];
  if (Object.keys(r.convergence).length) {
    out.push('### Convergence (last node ready → every node sees N alive)', '', head);
    for (const [k, c] of Object.entries(r.convergence)) if (c.summary) out.push(row(k, c.summary));
    out.push(
      '',
      '| case | runs over 1 s | CPU s per node (median) | peak RSS per process (median) | peak RSS per node (median) |',
      '|---|---|---|---|---|',
    );
    for (const [k, c] of Object.entries(r.convergence)) {
      if (c.summary) {
        out.push(
          `| ${k} | ${c.over1s} of ${c.runs.length} | ${c.cpuSecondsPerNode.median?.toFixed(3)} | ${c.peakRssMiBProcess.median?.toFixed(1)} MiB | ${c.peakRssMiBPerNode.median?.toFixed(2)} MiB |`,
        );
      }
    }
    out.push('');
  }
  if (Object.keys(r.detection).length) {
    out.push(
      '### Failure detection after SIGKILL (kill → every survivor reports it dead)',
      '',
      head,
    );
    for (const [k, d] of Object.entries(r.detection)) if (d.all) out.push(row(`${k} all`, d.all));
    for (const [k, d] of Object.entries(r.detection))
      if (d.first) out.push(row(`${k} first`, d.first));
    out.push(
      '',
      Object.entries(r.detection)
        .filter(([, d]) => d.all)
        .map(([k, d]) => `${k}: ${d.over8s} run(s) over 8 s or not finished`)
        .join('; '),
      '',
    );
  }
  if (Object.keys(r.gossip).length) {
    out.push(
      '### Gossip dissemination (broadcast queued → the last of N-1 nodes reports it; "half": half of them)',
      '',
      head,
    );
    for (const [k, g] of Object.entries(r.gossip)) out.push(row(`${k} all`, g.summary));
    for (const [k, g] of Object.entries(r.gossip)) if (g.half) out.push(row(`${k} half`, g.half));
    out.push(
      '',
      Object.entries(r.gossip)
        .map(
          ([k, g]) =>
            `${k}: worst coverage ${(g.minCoverage * 100).toFixed(0)}% of nodes within 10 s`,
        )
        .join('; '),
      '',
    );
  }
  if (Object.keys(r.idle).length) {
    out.push(
      '### Idle cost after convergence',
      '',
      '| case | CPU s per minute (process) | per node | RSS (process) | peak RSS |',
      '|---|---|---|---|---|',
    );
    for (const [k, i] of Object.entries(r.idle)) {
      out.push(
        `| ${k} | ${i.cpuSecondsPerMinute.toFixed(2)} | ${i.cpuSecondsPerMinutePerNode.toFixed(3)} | ${i.rssMiB.toFixed(1)} MiB | ${i.peakRssMiB.toFixed(1)} MiB |`,
      );
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

/** convergence.svg and detection.svg; with --out NAME, NAME-<kind>.svg (or NAME-plot.svg when
 * NAME is that kind), so a side run never replaces the headline plots. */
function writePlots(r, outName) {
  const file = (kind) =>
    join(
      here,
      !outName ? `${kind}.svg` : outName === kind ? `${kind}-plot.svg` : `${outName}-${kind}.svg`,
    );
  const group = (data, pick, label) =>
    Object.entries(data).reduce((acc, [key, v]) => {
      const [impl, n] = key.split('-');
      let g = acc.find((x) => x.n === n);
      if (!g) {
        g = { n, label: label(n), series: [] };
        acc.push(g);
      }
      const samples = pick(v);
      g.series.push({ impl, samples, summary: summarize(samples) });
      return acc;
    }, []);
  if (Object.keys(r.convergence).length) {
    writeFileSync(
      file('convergence'),
      boxPlotSvg({
        title: `Convergence time, Go memberlist 0.2.2 vs isopeer (TS), DefaultLocalConfig, ${r.params.runs} runs each`,
        groups: group(
          r.convergence,
          (c) => c.runs.map((x) => x.ms),
          (n) => `N = ${n}`,
        ),
        capMs: r.params.capMs,
      }),
    );
  }
  if (Object.keys(r.detection).length) {
    writeFileSync(
      file('detection'),
      boxPlotSvg({
        title: `Failure detection after SIGKILL (all survivors), ${r.params.fdRuns} runs each`,
        groups: group(
          r.detection,
          (d) => d.runs.map((x) => x.all),
          (n) => `N = ${n}`,
        ),
        capMs: r.params.capMs,
        yLabel: 'kill → dead at every survivor',
      }),
    );
  }
}

const stop = async (code) => {
  await closeAll();
  process.exit(code);
};
process.on('SIGINT', () => void stop(130));
main().then(
  () => stop(0),
  async (err) => {
    process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
    await stop(1);
  },
);
