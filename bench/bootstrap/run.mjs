#!/usr/bin/env node
// Load benchmark of the bootstrap server with wrk (Debian: apt-get install -y wrk).
//
//   npm run build && node bench/bootstrap/run.mjs [--store file|memory] [--duration 10]
//        [--connections 32] [--threads 2] [--only ping,list] [--url URL --pid PID]
//        [--repeat N] [--yardstick]
//
// For each scenario it starts a FRESH `isopeer bootstrap-server` (so peak RSS is per scenario),
// prepares the state over HTTP, runs wrk with the scenario's Lua script, and reads the server's
// peak resident set (VmHWM) from /proc. With --url (and optionally --pid) it measures an
// already running server instead, e.g. the original Go server, under identical load.
// --repeat N runs every scenario N times, interleaved (scenario after scenario, then again), and
// reports medians with the range of requests/s: this machine's speed drifts by tens of percent.
// --yardstick also measures, right after each /ping and /list run, a minimal Go net/http server
// (yardstick/main.go, built with the Debian Go toolchain) under the same load.
// Prints a Markdown table and writes every run's raw numbers with the run's record (commit,
// command, load before and after; bench/lib/run-meta.mjs) to bench/bootstrap/results/
// <time>.json and results/latest.json. Request logs go to /dev/null (they are still formatted
// and written).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeRun, finishRun, startRun, writeRaw } from '../lib/run-meta.mjs';

const here = new URL('.', import.meta.url).pathname;
const cli = new URL('../../packages/isopeer/dist/src/cli.js', import.meta.url).pathname;
const { values: opt } = parseArgs({
  options: {
    store: { type: 'string', default: 'file' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    threads: { type: 'string', default: '2' },
    only: { type: 'string' },
    url: { type: 'string' },
    pid: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    yardstick: { type: 'boolean', default: false },
  },
});
const repeat = Number(opt.repeat);
if (!Number.isInteger(repeat) || repeat < 1) {
  console.error(`--repeat ${opt.repeat}: expected a positive integer`);
  process.exit(1);
}

const peerLine = (id, ts) => `${id} bench-${id} 127.0.0.1 7946 tcp 0 ${ts}`;
const scenarios = [
  { name: 'ping', script: 'ping.lua', setup: [] },
  {
    name: 'list',
    script: 'list.lua',
    setup: [
      ['/config', '2 2'],
      ['/join', peerLine('a', '1557509977')],
      ['/join', peerLine('b', '1557509978')],
    ],
  },
  {
    name: 'join (list full, no change)',
    script: 'join-full.lua',
    setup: [
      ['/config', '2 2'],
      ['/join', peerLine('a', '1557509977')],
      ['/join', peerLine('b', '1557509978')],
    ],
  },
  {
    name: 'join+leave (every request writes)',
    script: 'join-leave.lua',
    setup: [['/config', '1000000 2']],
  },
  {
    name: 'refill (every request writes)',
    script: 'refill.lua',
    setup: [
      ['/config', '2 2'],
      ['/join', peerLine('a', '999999999999')],
      ['/join', peerLine('b', '999999999999')],
    ],
  },
].filter((s) => !opt.only || opt.only.split(',').some((o) => s.script.startsWith(o)));

if (spawnSync('wrk', ['--version']).error) {
  console.error('wrk is not installed: apt-get install -y wrk');
  process.exit(1);
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const yardstickBinary = new URL('../../.cache/bench-yardstick/yardstick', import.meta.url).pathname;

function buildYardstick() {
  const r = spawnSync('go', ['build', '-o', yardstickBinary, join(here, 'yardstick', 'main.go')], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GO111MODULE: 'off',
      GOCACHE: new URL('../../.cache/go-build', import.meta.url).pathname,
    },
  });
  if (r.error || r.status !== 0) {
    console.error(`cannot build the Go yardstick: ${r.error?.message ?? r.stderr}`);
    process.exit(1);
  }
}

async function waitForPing(url, child) {
  const deadline = Date.now() + 15000;
  for (;;) {
    try {
      await post(url, '/ping');
      return;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function startYardstick() {
  const port = await freePort();
  const child = spawn(yardstickBinary, [`127.0.0.1:${port}`], { stdio: 'ignore' });
  return running(child, port, () => {});
}

/** A started server process once it answers /ping; stop() ends it with SIGTERM, then cleans up. */
async function running(child, port, cleanup) {
  const url = `http://127.0.0.1:${port}`;
  await waitForPing(url, child);
  return {
    url,
    pid: child.pid,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      cleanup();
    },
  };
}

async function post(url, path, body = '') {
  const r = await fetch(url + path, { method: 'POST', body });
  if (r.status !== 200) throw new Error(`${path} ${body}: ${r.status} ${await r.text()}`);
}

async function startServer(store) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'isopeer-bench-'));
  const spec = store === 'file' ? `file:${join(dir, 'peers.json')}` : store;
  const out = openSync('/dev/null', 'w');
  const child = spawn(
    process.execPath,
    [cli, 'bootstrap-server', '--port', String(port), '--store', spec],
    {
      stdio: ['ignore', out, 'inherit'],
    },
  );
  return running(child, port, () => rmSync(dir, { recursive: true, force: true }));
}

function peakRssMiB(pid) {
  if (!pid || !existsSync(`/proc/${pid}`)) return undefined;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : undefined;
}

// utime + stime of a process in seconds (fields 14 and 15 of /proc/PID/stat, in clock ticks).
function cpuSeconds(pid) {
  if (!pid || !existsSync(`/proc/${pid}`)) return undefined;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function toMs(text) {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!m) return Number.NaN;
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
}

function runWrk(url, script) {
  const args = [
    '-t',
    opt.threads,
    '-c',
    opt.connections,
    '-d',
    `${opt.duration}s`,
    '--latency',
    '-s',
    join(here, script),
    url,
  ];
  const r = spawnSync('wrk', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const o = r.stdout;
  const pct = (p) => toMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(o)?.[1] ?? '');
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(o)?.[1]),
    requests: Number(/(\d+) requests in/.exec(o)?.[1]),
    p50: pct(50),
    p99: pct(99),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(o)?.[1] ?? 0),
    socketErrors: /Socket errors: (.*)/.exec(o)?.[1] ?? 'none',
  };
}

async function measure(sc, start) {
  const server = await start();
  await post(server.url, '/reset');
  for (const [path, body] of sc.setup) await post(server.url, path, body);
  const cpuBefore = cpuSeconds(server.pid);
  const res = runWrk(server.url, sc.script);
  const cpuAfter = cpuSeconds(server.pid);
  const cpu = cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  const rss = peakRssMiB(server.pid);
  const crashed = server.pid !== undefined && !existsSync(`/proc/${server.pid}`);
  await server.stop();
  // Server CPU time per answered request: it depends less than requests/s on what else runs on
  // the machine, so 1e6 / cpuUs estimates requests/s per fully available core.
  return {
    ...res,
    crashed,
    rss,
    cpuUs: cpu === undefined ? undefined : (cpu * 1e6) / res.requests,
  };
}

if (opt.yardstick) buildYardstick();
const ours = opt.url
  ? async () => ({ url: opt.url, pid: opt.pid ? Number(opt.pid) : undefined, stop: async () => {} })
  : () => startServer(opt.store);
const series = new Map(); // row name → results of every repetition
const record = (name, result) => {
  if (!series.has(name)) series.set(name, []);
  series.get(name).push(result);
};
const meta = startRun('bootstrap');
let stop = false;
for (let rep = 1; rep <= repeat && !stop; rep++) {
  for (const sc of scenarios) {
    process.stderr.write(
      `${sc.name}: ${opt.duration}s with ${opt.connections} connections (run ${rep}/${repeat})...\n`,
    );
    const r = await measure(sc, ours);
    process.stderr.write(`  ${Math.round(r.rps)} requests/s\n`);
    record(sc.name, r);
    // An external server cannot be restarted from here.
    if (r.crashed && opt.url) {
      stop = true;
      break;
    }
    if (opt.yardstick && (sc.script === 'ping.lua' || sc.script === 'list.lua')) {
      const y = await measure(sc, startYardstick);
      process.stderr.write(`  yardstick: ${Math.round(y.rps)} requests/s\n`);
      record(`${sc.name} — Go net/http yardstick`, y);
    }
  }
}

const median = (xs) => {
  const v = xs.filter((x) => x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const rows = [...series].map(([name, runs]) => ({
  name: runs.some((r) => r.crashed) ? `${name} — SERVER CRASHED` : name,
  rps: median(runs.map((r) => r.rps)),
  min: Math.min(...runs.map((r) => r.rps)),
  max: Math.max(...runs.map((r) => r.rps)),
  p50: median(runs.map((r) => r.p50)),
  p99: median(runs.map((r) => r.p99)),
  non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
  socketErrors: [...new Set(runs.map((r) => r.socketErrors))].join('; '),
  rss: median(runs.map((r) => r.rss)),
  cpuUs: median(runs.map((r) => r.cpuUs)),
}));

finishRun(meta);
const raw = writeRaw(join(here, 'results'), {
  meta,
  params: { ...opt, repeat },
  // Every run of every row, in the order measured, so medians and ranges can be recomputed.
  runs: Object.fromEntries(series),
  rows,
});
process.stderr.write(`raw results: ${raw}\n`);
const fmt = (n) => Math.round(n).toLocaleString('en-US');
console.log(
  `store: ${opt.url ? opt.url : opt.store}, ${opt.connections} connections, ${opt.threads} wrk threads, ${opt.duration}s each, ${repeat} run(s) per row (medians); ${describeRun(meta)}\n`,
);
console.log(
  '| scenario | requests/s | range | p50 ms | p99 ms | non-2xx | socket errors | server peak RSS MiB | server CPU µs/request |',
);
console.log('|---|---:|---:|---:|---:|---:|---|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.name} | ${fmt(r.rps)} | ${fmt(r.min)}–${fmt(r.max)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.non2xx} | ${r.socketErrors} | ${r.rss === undefined ? 'n/a' : r.rss.toFixed(0)} | ${r.cpuUs === undefined ? 'n/a' : r.cpuUs.toFixed(0)} |`,
  );
}
