// Compares the PostgreSQL store's concurrency strategies: N stores (as separate handler
// processes would have) issuing a mixed join/leave/refill workload against one schema.
// Usage: node bench/bootstrap/postgres-txmode.mjs [DATABASE_URL] (after building packages/bootstrap)
import postgres from 'postgres';
import { createPostgresStore } from '../../packages/bootstrap/dist/src/stores/postgres.js';

const url = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/test';
const OPS = Number(process.env.OPS ?? 2000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 64);
const variants = ['current'];

function workload(n) {
  let x = 1;
  const rnd = (k) => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % k;
  };
  return Array.from({ length: n }, (_, i) => {
    const peer = {
      id: `p${rnd(12)}`,
      name: `op${i}`,
      ip: '127.0.0.1',
      port: '1',
      protocol: 'tcp',
      status: '0',
      timestamp: String(rnd(50)),
    };
    const r = rnd(10);
    return r < 4 ? ['join', peer] : r < 7 ? ['leave', peer.id] : ['refill', peer];
  });
}

for (const isolation of variants) {
  for (const procs of [1, 2]) {
    const schema = `bench_txmode_${process.pid}`;
    const stores = await Promise.all(
      Array.from({ length: procs }, () =>
        createPostgresStore(url, { schema, statementTimeoutMs: 30000, operationTimeoutMs: 60000 }),
      ),
    );
    await stores[0].config(4, 1, 0);
    const ops = workload(OPS);
    const lat = [];
    let next = 0;
    let failed = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, c) => {
        while (next < ops.length) {
          const [kind, arg] = ops[next++];
          const s = performance.now();
          try {
            await stores[c % procs][kind](arg, 0);
          } catch {
            failed++;
          }
          lat.push(performance.now() - s);
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    lat.sort((a, b) => a - b);
    console.log(
      `${isolation.padEnd(12)} stores=${procs} ops/s=${(OPS / secs).toFixed(0)} p50=${lat[lat.length >> 1].toFixed(1)}ms p99=${lat[Math.floor(lat.length * 0.99)].toFixed(1)}ms failed=${failed}`,
    );
    for (const s of stores) await s.close();
    const sql = postgres(url, { onnotice: () => {} });
    await sql.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    await sql.end();
  }
}
