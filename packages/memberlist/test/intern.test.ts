// Node records share their small immutable values (issue 17, RSS per added node): every node of
// a process holds a record of every member, and a typed array costs about 200 bytes of heap
// whatever it holds, so per-record copies of each member's address and version bytes were the
// largest part of a record.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeRecord } from '../src/context.js';
import { internBytes, internedCounts, internString } from '../src/intern.js';
import type { Memberlist } from '../src/memberlist.js';
import { simCluster } from './helpers.js';

const recordsOf = (m: Memberlist) =>
  (m as unknown as { state: { records(): NodeRecord[] } }).state.records();

describe('interned record values', () => {
  it('equal bytes give one shared copy, never the caller’s array', () => {
    const a = Uint8Array.of(127, 0, 0, 1);
    const b = Uint8Array.of(127, 0, 0, 1);
    const x = internBytes(a);
    assert.equal(internBytes(b), x, 'the same instance for equal content');
    assert.notEqual(x, a, 'a copy: the caller may reuse its buffer');
    a[3] = 9;
    assert.deepEqual([...x], [127, 0, 0, 1]);
    assert.deepEqual([...internBytes(Uint8Array.of(1, 5, 2, 2, 5, 4))], [1, 5, 2, 2, 5, 4]);
    assert.equal(internBytes(new Uint8Array(0)).length, 0);
  });

  it('stays bounded and correct past its size (values from untrusted peers)', () => {
    const first = internBytes(Uint8Array.of(10, 0, 0, 1));
    for (let i = 0; i < 10_000; i++) {
      const v = Uint8Array.of(10, (i >> 16) & 255, (i >> 8) & 255, i & 255, 7);
      assert.deepEqual([...internBytes(v)], [...v]);
      const s = `node-${i}`;
      assert.equal(internString(`node-${i}`), s);
    }
    assert.deepEqual([...internBytes(Uint8Array.of(10, 0, 0, 1))], [...first]);
    const n = internedCounts();
    assert.ok(n.bytes <= 4096 && n.strings <= 4096, `tables hold ${JSON.stringify(n)}`);
  });

  it('the records every node keeps of a member share its address and version', async () => {
    const c = await simCluster(8);
    try {
      assert.ok(await c.runUntil(() => c.nodes.every((m) => m.numMembers() === 8), 5_000));
      const byName = new Map<string, NodeRecord[]>();
      for (const m of c.nodes) {
        for (const r of recordsOf(m)) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
      }
      assert.equal(byName.size, 8);
      for (const [name, rs] of byName) {
        assert.equal(rs.length, 8, `every node has a record of ${name}`);
        for (const r of rs) {
          assert.equal(r.addrBytes, rs[0].addrBytes, `${name}: one address array`);
          assert.equal(r.vsn, rs[0].vsn, `${name}: one version array`);
          assert.equal(r.addr, rs[0].addr, `${name}: one address string`);
        }
      }
    } finally {
      await c.shutdown();
    }
  });
});
