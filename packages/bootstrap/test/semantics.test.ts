import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  applyConfig,
  applyJoin,
  applyLeave,
  applyOp,
  applyRefill,
  applyReset,
  type BootstrapOp,
  compareGoStrings,
  expirePeers,
  initialData,
  peerCount,
  step,
} from '../src/semantics.js';
import type { BootstrapData, PeerRecord } from '../src/types.js';

const peer = (id: string, timestamp = '100'): PeerRecord => ({
  id,
  name: `${id}-n`,
  ip: '127.0.0.1',
  port: '7946',
  protocol: 'tcp',
  status: '0',
  timestamp,
});
const ids = (d: BootstrapData) => Object.keys(d.Peers).sort();
const withMax = (maxpeers: number) => applyConfig(initialData(), maxpeers, 2);

test('join fills up to maxpeers, then changes nothing (same object)', () => {
  let d = withMax(2);
  d = applyJoin(d, peer('a'));
  d = applyJoin(d, peer('b'));
  assert.equal(d.Config.numpeers, 2);
  const full = d;
  assert.equal(applyJoin(full, peer('c')), full);
  assert.equal(applyJoin(full, { ...peer('a'), port: '1' }), full, 'full: a stored id is kept');
});

test('operations never mutate their input', () => {
  const d = applyJoin(withMax(3), peer('a'));
  const frozen = JSON.stringify(d);
  applyJoin(d, peer('b'));
  applyLeave(d, 'a');
  applyRefill(d, peer('c'));
  applyReset(d);
  applyConfig(d, 1, 1);
  assert.equal(JSON.stringify(d), frozen);
});

test('an id such as __proto__ is an ordinary key', () => {
  let d = applyJoin(withMax(3), peer('__proto__'));
  assert.deepEqual(ids(d), ['__proto__']);
  assert.equal(d.Config.numpeers, 1);
  d = applyLeave(d, '__proto__');
  assert.deepEqual(ids(d), []);
  assert.equal(applyLeave(d, 'constructor'), d);
});

test('refill: largest timestamp as strings is replaced only by an older candidate', () => {
  let d = applyJoin(applyJoin(withMax(2), peer('a', '5')), peer('b', '30'));
  // As strings "30" < "4" < "5": a ("5") is the newest stored peer and c ("4") is older.
  assert.deepEqual(ids(applyRefill(d, peer('c', '4'))), ['b', 'c']);
  assert.equal(applyRefill(d, peer('c', '6')), d, '"6" is larger than both');
  d = applyConfig(d, 0, 0);
  assert.deepEqual(ids(applyRefill(d, peer('c', '1'))), ['b', 'c'], 'over capacity: still swaps');
});

test('compareGoStrings orders like UTF-8 bytes', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
      const bytes = Buffer.compare(Buffer.from(a), Buffer.from(b));
      assert.equal(Math.sign(compareGoStrings(a, b)), bytes);
    }),
  );
});

test('expiry drops peers whose lease ran out and keeps the rest', () => {
  const d = applyJoin(applyJoin(withMax(3), peer('old')), peer('new'));
  const leases = new Map([
    ['old', 1000],
    ['new', 5000],
  ]);
  assert.deepEqual(ids(expirePeers(d, leases, 6000, 2000)), ['new']);
  assert.equal(expirePeers(d, leases, 6000, 0), d, 'ttl 0 = off');
  assert.equal(expirePeers(d, new Map(), 1e12, 1), d, 'no lease recorded = kept');
});

test('a repeated join refreshes the lease even when the list is full', () => {
  const leases = new Map<string, number>();
  let d = withMax(1);
  d = step(d, leases, { kind: 'join', peer: peer('a') }, 0, 1000);
  d = step(d, leases, { kind: 'join', peer: peer('a') }, 900, 1000);
  d = step(d, leases, { kind: 'join', peer: peer('b') }, 1500, 1000);
  assert.deepEqual(ids(d), ['a'], 'a was refreshed at 900, so alive at 1500; b finds it full');
  d = step(d, leases, { kind: 'join', peer: peer('b') }, 1900, 1000);
  assert.deepEqual(ids(d), ['b'], 'a expired at 1900, b takes the place');
});

const opArb: fc.Arbitrary<BootstrapOp> = fc.oneof(
  fc
    .record({ id: fc.constantFrom('a', 'b', 'c', 'd', 'e'), ts: fc.nat(99).map(String) })
    .chain(({ id, ts }) =>
      fc.constantFrom<BootstrapOp>(
        { kind: 'join', peer: peer(id, ts) },
        { kind: 'refill', peer: peer(id, ts) },
      ),
    ),
  fc.constantFrom('a', 'b', 'c', 'x').map((id): BootstrapOp => ({ kind: 'leave', id })),
  fc.constant<BootstrapOp>({ kind: 'reset' }),
  fc.constant<BootstrapOp>({ kind: 'list' }),
  fc
    .record({ m: fc.nat(4), r: fc.nat(4) })
    .map(({ m, r }): BootstrapOp => ({ kind: 'config', maxpeers: m, minrefillcandidates: r })),
);

test('invariants hold along any sequence of operations', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
      let d = initialData();
      for (const op of ops) {
        const before = d;
        d = applyOp(d, op);
        assert.equal(d.Config.numpeers, peerCount(d), 'numpeers is recomputed');
        for (const [k, p] of Object.entries(d.Peers)) assert.equal(k, p.id);
        if (op.kind === 'join' && d !== before) {
          assert.ok(peerCount(d) <= d.Config.maxpeers, 'a join never overfills');
        }
        if (op.kind === 'refill' && d !== before) {
          assert.ok(
            peerCount(d) <= Math.max(d.Config.maxpeers, peerCount(before)),
            'a refill adds only into room, otherwise swaps',
          );
        }
      }
    }),
  );
});
