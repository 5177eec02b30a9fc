// /join and /list throughput and latency of `isopeer bootstrap-server --store postgres://...`
// with one and with two server processes sharing one database, driven by wrk.
//
// Usage (after `npm run build`; needs wrk and PostgreSQL):
//   node bench/bootstrap/postgres-bench.mjs [DATABASE_URL]
// Env: DURATION (s, default 10), CONNECTIONS (total, default 32).
//
// Two processes: each gets its own wrk (1 thread, half the connections) on its own port, run at
// the same time; requests/s are summed, and the p99 reported is the larger of the two (a merged
// p99 cannot be computed from two wrk summaries, and the larger is the conservative choice).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { describeRun, finishRun, startRun, writeRaw } from '../lib/run-meta.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const CLI = here('../../packages/isopeer/dist/src/cli.js');
const base = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/test';
const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32);
const schema = `bench_pg_${process.pid}`;
const url = `${base}${base.includes('?') ? '&' : '?'}schema=${schema}`;

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [CLI, 'bootstrap-server', '--port', '0', '--store', url],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    const onData = (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        // Keep draining the per-request log lines so the server never blocks on stdout.
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve({ url: m[1], child });
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
}

function wrk(target, script, connections) {
  return new Promise((resolve, reject) => {
    const args = [
      '-t1',
      `-c${connections}`,
      `-d${DURATION}s`,
      '--latency',
      '-s',
      here(script),
      target,
    ];
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.once('error', reject);
    child.once('exit', () => {
      const m = /^RESULT (.*)$/m.exec(out);
      if (!m) reject(new Error(`wrk printed no result:\n${out}`));
      else resolve(JSON.parse(m[1]));
    });
  });
}

async function setConfig(server) {
  const res = await fetch(`${server}/config`, { method: 'POST', body: '32 2' });
  if (res.status !== 200) throw new Error(`config: ${res.status} ${await res.text()}`);
}

const meta = startRun('bootstrap-postgres');
const rows = [];
for (const procs of [1, 2]) {
  const servers = await Promise.all(Array.from({ length: procs }, startServer));
  await setConfig(servers[0].url);
  for (const [endpoint, script] of [
    ['/join', 'postgres-join.lua'],
    ['/list', 'postgres-list.lua'],
  ]) {
    const results = await Promise.all(
      servers.map((s) => wrk(s.url, script, Math.floor(CONNECTIONS / procs))),
    );
    const rps = results.reduce((a, r) => a + r.requests / (r.duration_us / 1e6), 0);
    const p50 = Math.max(...results.map((r) => r.p50_us)) / 1000;
    const p99 = Math.max(...results.map((r) => r.p99_us)) / 1000;
    const errors = results.reduce((a, r) => a + r.errors, 0);
    const non2xx = results.reduce((a, r) => a + r.non2xx, 0);
    const bad = `${non2xx} / ${errors}`;
    rows.push({ procs, endpoint, rps: Math.round(rps), p50, p99, bad, wrk: results });
    console.log(
      `${procs} process(es) ${endpoint}: ${Math.round(rps)} req/s, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, non-2xx / socket errors+timeouts ${bad}`,
    );
  }
  for (const s of servers) {
    s.child.kill('SIGTERM');
    await new Promise((r) => s.child.once('exit', r));
  }
}
const sql = postgres(base, { onnotice: () => {} });
const [{ n }] = await sql.unsafe(`SELECT count(*)::int AS n FROM ${schema}.peers`);
console.log(`peers stored at the end: ${n} (maxpeers 32)`);
await sql.unsafe(`DROP SCHEMA ${schema} CASCADE`);
await sql.end();
finishRun(meta);
const raw = writeRaw(
  here('results'),
  { meta, params: { DURATION, CONNECTIONS }, rows },
  'postgres-',
);
console.log(`\n${describeRun(meta)}; raw results: ${raw}`);
console.log(
  '\n| processes | endpoint | requests/s | p50 ms | p99 ms | non-2xx / socket errors+timeouts |',
);
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.procs} | ${r.endpoint} | ${r.rps} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.bad} |`,
  );
}
