/*
 * Several real server processes (postgres-server-child.js) over one PostgreSQL schema.
 *
 * Atomicity: 1,000 mixed requests are sent at once, spread over 3 processes. Every answer is
 * the document right after its operation, so the check (postgres-serial-check.ts) demands more
 * than "the final state is that of some serial order": it must exhibit one serial order of all
 * acknowledged operations in which every operation answers exactly what the service answered,
 * ending in the final /list. Join and refill records carry unique names, which makes a lost
 * update visible (a record vanishing without an operation that removes it) and keeps the search
 * fast. A direct database sampler checks maxpeers while the load runs.
 *
 * Outage: the database link goes through a proxy that is cut mid-load (see postgres-fixtures.ts
 * for why the real server is not stopped). Requests that fail may or may not have committed (a
 * commit whose acknowledgement is lost), so the serial-order check does not apply to them; the
 * test checks what must hold regardless: bounded 503s with a one-line reason, recovery, and a
 * final state that satisfies every invariant and holds only records that clients really sent.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { formatPeerLine, parseDocument } from '../src/codec.js';
import { type BootstrapOp, initialData } from '../src/semantics.js';
import { createPostgresStore } from '../src/stores/postgres.js';
import type { BootstrapData, PeerRecord } from '../src/types.js';
import {
  adminSql,
  CuttableProxy,
  PG_URL,
  post,
  postgresTestScope,
  startServerProcess,
  waitFor,
  withPort,
  withSchema,
} from './postgres-fixtures.js';
import { findSerialOrder, type Observed } from './postgres-serial-check.js';

const pg = await postgresTestScope();
const skip = pg.skip;
before(() => {
  if (skip) process.stderr.write(`postgres-load.test: ${skip}\n`);
});

// 60 ids for 20 places: the list is full most of the time (joins contend for the limit, refills
// replace), leaves often hit, and exact earlier states rarely recur, which keeps the serial-order
// search (postgres-serial-check.ts) near-linear.
const ID_POOL = 60;
const MAXPEERS = 20;

/** A random mixed workload; every join/refill carries a unique name so its record is traceable. */
function workload(count: number, seed: number): BootstrapOp[] {
  // mulberry32: a small seeded generator whose outputs are uniform in every digit (a plain LCG's
  // low bits are not, which skews `x % n` and made leaves follow joins of the same id).
  let x = seed >>> 0;
  const rnd = (n: number) => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = Math.imul(x ^ (x >>> 15), x | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
  };
  const ops: BootstrapOp[] = [];
  for (let i = 0; i < count; i++) {
    const id = `peer${rnd(ID_POOL)}`;
    const peer: PeerRecord = {
      id,
      name: `op${i}`,
      ip: '127.0.0.1',
      port: String(20000 + i),
      protocol: 'tcp',
      status: '0',
      timestamp: String(1557509900 + rnd(50)),
    };
    const r = rnd(10);
    ops.push(
      r < 4 ? { kind: 'join', peer } : r < 7 ? { kind: 'leave', id } : { kind: 'refill', peer },
    );
  }
  return ops;
}

function request(op: BootstrapOp): [string, string] {
  if (op.kind === 'leave') return ['/leave', op.id];
  if (op.kind === 'join' || op.kind === 'refill') return [`/${op.kind}`, formatPeerLine(op.peer)];
  throw new Error(`workload has no ${op.kind}`);
}

async function prepareSchema(tag: string): Promise<{ schema: string; initial: BootstrapData }> {
  const schema = pg.schema(tag);
  const store = await createPostgresStore(PG_URL, { schema });
  const initial = await store.config(MAXPEERS, 1, Date.now());
  await store.close();
  return { schema, initial };
}

/** Samples the peer count straight from the database until stopped; returns the largest seen. */
function sampleMaxCount(schema: string): { stop(): Promise<number> } {
  const sql = adminSql();
  let running = true;
  let max = 0;
  const loop = (async () => {
    while (running) {
      const [{ n }] = await sql.unsafe(`SELECT count(*)::int AS n FROM ${schema}.peers`);
      max = Math.max(max, n);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await sql.end();
      return max;
    },
  };
}

describe('PostgreSQL store shared by several server processes', { skip }, () => {
  test('the serial-order check rejects a lost update and accepts a real history', () => {
    const base = initialData();
    const peer = (id: string): PeerRecord => ({
      id,
      name: id,
      ip: '127.0.0.1',
      port: '1',
      protocol: 'tcp',
      status: '0',
      timestamp: '1',
    });
    const a = { kind: 'join', peer: peer('a') } as const;
    const b = { kind: 'join', peer: peer('b') } as const;
    const withA = { Config: { ...base.Config, numpeers: 1 }, Peers: { a: peer('a') } };
    const withB = { Config: { ...base.Config, numpeers: 1 }, Peers: { b: peer('b') } };
    const both = { Config: { ...base.Config, numpeers: 2 }, Peers: { a: peer('a'), b: peer('b') } };
    // Both joins saw the empty list: the second write lost the first.
    const lost: Observed[] = [
      { op: a, answer: withA },
      { op: b, answer: withB },
    ];
    assert.equal(findSerialOrder(base, lost, withB).ok, false);
    const real: Observed[] = [
      { op: b, answer: both },
      { op: a, answer: withA },
    ];
    assert.equal(findSerialOrder(base, real, both).ok, true);
  });

  test('3 processes, 1,000 concurrent mixed join/leave/refill: maxpeers holds and one serial order explains every answer', async () => {
    const { schema, initial } = await prepareSchema('load');
    const url = withSchema(PG_URL, schema);
    // Generous timeouts: this test is about atomicity, so every request must be acknowledged.
    const env = { PG_STATEMENT_TIMEOUT_MS: '20000', PG_CONNECT_TIMEOUT_MS: '5000' };
    const procs = await Promise.all([1, 2, 3].map(() => startServerProcess(url, env)));
    pg.track(...procs);
    const sampler = sampleMaxCount(schema);
    const ops = workload(1000, 7);
    const results = await Promise.all(
      ops.map((op, i) => {
        const [path, body] = request(op);
        return post(procs[i % procs.length].url, path, body);
      }),
    );
    const maxSeen = await sampler.stop();
    const observed: Observed[] = results.map((r, i) => {
      assert.equal(r.status, 200, `request ${i}: ${r.status} ${r.text}`);
      const answer = parseDocument(r.text);
      const stored = Object.keys(answer.Peers).length;
      assert.ok(stored <= MAXPEERS, `request ${i} answered ${stored} peers`);
      assert.equal(answer.Config.numpeers, stored);
      return { op: ops[i], answer };
    });
    assert.ok(maxSeen <= MAXPEERS, `database held ${maxSeen} peers`);
    // The limit was actually contended: some answers show a full list.
    const fullest = Math.max(...observed.map((o) => o.answer.Config.numpeers));
    assert.equal(fullest, MAXPEERS, 'the list got full at some point');
    const final = parseDocument((await post(procs[0].url, '/list')).text);
    const verdict = findSerialOrder(initial, observed, final);
    assert.ok(verdict.ok, `${verdict.reason} (explored ${verdict.explored})`);
    // The workload must actually have exercised the store, not only no-ops.
    assert.ok(verdict.steps > 100, `only ${verdict.steps} state changes`);
  });

  test('database outage mid-load: bounded 503s with a reason, recovery, consistent state', async () => {
    const { schema } = await prepareSchema('outage');
    const proxy = await CuttableProxy.start(Number(new URL(PG_URL).port || 5432));
    try {
      const url = withSchema(withPort(PG_URL, proxy.port), schema);
      const connectMs = 500;
      const statementMs = 1000;
      const env = {
        PG_CONNECT_TIMEOUT_MS: String(connectMs),
        PG_STATEMENT_TIMEOUT_MS: String(statementMs),
      };
      const procs = await Promise.all([1, 2].map(() => startServerProcess(url, env)));
      pg.track(...procs);
      // The store's bound is connect + statement; allow 1.5 s for HTTP and a busy machine.
      const bound = connectMs + statementMs + 1500;
      const ops = workload(100_000, 11);
      const sent: { op: BootstrapOp; status: number; text: string; ms: number }[] = [];
      let next = 0;
      let phase: 'before' | 'cut' | 'after' = 'before';
      const counts = { before: 0, cut: 0, after: 0 };
      let stopping = false;
      // 40 clients issue requests back to back until told to stop.
      const clients = Array.from({ length: 40 }, async (_, c) => {
        while (!stopping) {
          const op = ops[next++ % ops.length];
          const [path, body] = request(op);
          const r = await post(procs[c % procs.length].url, path, body, {}, bound + 5000);
          sent.push({ op, ...r });
          counts[phase]++;
        }
      });
      await waitFor(() => counts.before >= 200, '200 requests before the outage');
      proxy.cut();
      phase = 'cut';
      const cutAt = sent.length;
      await waitFor(
        () => sent.slice(cutAt).filter((r) => r.status === 503).length >= 50,
        '503s during the outage',
      );
      proxy.restore();
      phase = 'after';
      const restoredAt = sent.length;
      await waitFor(
        () => sent.slice(restoredAt).some((r) => r.status === 200),
        'a 200 after the database is back',
      );
      const recoveredAt = sent.length;
      await waitFor(() => sent.length >= recoveredAt + 300, '300 more requests after recovery');
      stopping = true;
      await Promise.all(clients);

      for (const r of sent) {
        assert.ok(r.ms < bound, `a request took ${Math.round(r.ms)} ms (bound ${bound} ms)`);
        assert.ok(r.status === 200 || r.status === 503, `unexpected ${r.status}: ${r.text}`);
        if (r.status === 503) {
          assert.match(r.text, /^store unavailable: \S.*\n$/);
          assert.equal(r.text.trimEnd().includes('\n'), false, 'reason is one line');
        }
      }
      // Once one request succeeded after the restore, the service stays up (give in-flight
      // requests that started during the outage a grace of one bound).
      const settled = sent.slice(recoveredAt + 80);
      assert.deepEqual(
        settled.filter((r) => r.status !== 200).map((r) => r.text),
        [],
      );

      // No corrupted state: invariants hold and every stored record is one a request sent.
      const final = parseDocument((await post(procs[1].url, '/list')).text);
      const ids = Object.keys(final.Peers);
      assert.ok(ids.length <= MAXPEERS);
      assert.equal(final.Config.numpeers, ids.length);
      assert.equal(final.Config.maxpeers, MAXPEERS);
      const sentRecords = new Map<string, PeerRecord>();
      for (const { op } of sent)
        if (op.kind !== 'leave' && 'peer' in op) sentRecords.set(op.peer.name, op.peer);
      for (const id of ids)
        assert.deepEqual(final.Peers[id], sentRecords.get(final.Peers[id].name));
      const sql = adminSql();
      const [{ n }] = await sql.unsafe(`SELECT count(*)::int AS n FROM ${schema}.peers`);
      await sql.end();
      assert.equal(n, ids.length);
    } finally {
      await proxy.close();
    }
  });
});
