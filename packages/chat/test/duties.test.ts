import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KvItems } from '../src/kv-items.js';
import { MemberCache } from '../src/member-cache.js';
import type { ChatMemberRecord } from '../src/member-record.js';
import { displayNameOf, nodeNameFor, uuidOfNodeName } from '../src/peer-name.js';
import { refillCandidates, withBackoff } from '../src/refill.js';

const dir = mkdtempSync(join(tmpdir(), 'chat-duties-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const rec = (name: string, seconds?: number, nanos = 0): ChatMemberRecord => ({
  msgType: 0,
  name,
  sender: '127.0.0.1:1',
  ...(seconds === undefined ? {} : { timestamp: { seconds, nanos } }),
});

describe('refill candidates', () => {
  it('picks the longest-running members, ties broken by name, the same in any order', () => {
    const members = [rec('d', 50), rec('c', 10, 5), rec('b', 10, 5), rec('a', 10, 9), rec('e')];
    assert.deepEqual(refillCandidates(members, 2), ['b', 'c']);
    assert.deepEqual(refillCandidates([...members].reverse(), 2), ['b', 'c']);
    assert.deepEqual(refillCandidates(members, 4), ['b', 'c', 'a', 'd']);
    assert.deepEqual(refillCandidates(members, 0), ['b'], 'someone must refill');
    assert.deepEqual(refillCandidates([rec('x')], 2), ['x']);
  });

  it('retries transient failures with backoff and gives up on others', async () => {
    let calls = 0;
    const delays: number[] = [];
    const v = await withBackoff(
      async () => {
        if (++calls < 3) throw Object.assign(new Error('down'), { transient: true });
        return 'ok';
      },
      {
        attempts: 5,
        baseDelayMs: 5,
        maxDelayMs: 100,
        retryable: (e) => (e as { transient?: boolean }).transient === true,
        onRetry: (_e, _a, d) => delays.push(d),
      },
    );
    assert.equal(v, 'ok');
    assert.equal(calls, 3);
    assert.ok(delays[1]! >= delays[0]! * 2 * 0.8, `backoff grows: ${delays}`);
    calls = 0;
    await assert.rejects(
      withBackoff(
        async () => {
          calls++;
          throw new Error('bad request');
        },
        { attempts: 5, baseDelayMs: 1, maxDelayMs: 1, retryable: () => false },
      ),
      /bad request/,
    );
    assert.equal(calls, 1);
  });
});

describe('node names', () => {
  const uuid = '71c3c0ea-e1bd-4112-97ac-1cfeeaa07bc3';
  it('builds and takes apart <name>-<host>-<uuid>', () => {
    const n = nodeNameFor('alice', 'my-host', uuid);
    assert.equal(n, `alice-my-host-${uuid}`);
    assert.equal(uuidOfNodeName(n), uuid);
    assert.equal(uuidOfNodeName('plain'), undefined);
    assert.equal(displayNameOf(n, Buffer.from('alice')), 'alice');
    assert.equal(displayNameOf(`al-ice-h-${uuid}`, Buffer.from('al-ice')), 'al-ice');
    // Metadata that does not fit the node name is ignored; Go peers send none.
    assert.equal(displayNameOf(n, Buffer.from('mallory')), 'alice');
    assert.equal(displayNameOf(n, null), 'alice');
  });
});

describe('member cache', () => {
  it('saves, reloads, orders by recency and ignores damaged files', async () => {
    const file = join(dir, 'sub', 'members.json');
    const c = new MemberCache(file);
    assert.equal(await c.load(), undefined, 'a missing file is an empty cache');
    c.seen('a', '127.0.0.1:1000', 1);
    c.seen('b', '127.0.0.1:2000', 3);
    c.seen('c', '127.0.0.1:3000', 2);
    await c.save();
    const d = new MemberCache(file);
    assert.equal(await d.load(), undefined);
    assert.deepEqual(
      d.list('c').map((m) => m.name),
      ['b', 'a'],
    );
    writeFileSync(file, '{"members": "nope"}');
    assert.match((await new MemberCache(file).load())!, /damaged/);
    writeFileSync(
      file,
      '{"members":[{"name":"x","address":"not an address","lastSeen":1},{"name":"y","address":"127.0.0.1:5","lastSeen":1}]}',
    );
    const e = new MemberCache(file);
    assert.equal(await e.load(), undefined);
    assert.deepEqual(
      e.list().map((m) => m.name),
      ['y'],
    );
    assert.ok(readFileSync(file, 'utf8').length > 0);
  });
});

describe('replicated items', () => {
  it('refuses a stale add of a deleted value for a while, takes a new value at once', () => {
    const kv = new KvItems(1_000);
    assert.deepEqual(kv.apply({ Action: 'add', Data: { k: 'v' } }, 0).Data, { k: 'v' });
    assert.deepEqual(
      kv.apply({ Action: 'add', Data: { k: 'v' } }, 1).Data,
      {},
      'no news: not passed on',
    );
    assert.deepEqual(kv.apply({ Action: 'del', Data: { k: '' } }, 2).Data, { k: '' });
    assert.deepEqual(kv.apply({ Action: 'del', Data: { k: '' } }, 3).Data, {});
    assert.deepEqual(
      kv.apply({ Action: 'add', Data: { k: 'v' } }, 500).Data,
      {},
      'stale add refused',
    );
    assert.equal(kv.items.has('k'), false);
    assert.deepEqual(kv.apply({ Action: 'add', Data: { k: 'w' } }, 600).Data, { k: 'w' });
    kv.apply({ Action: 'del', Data: { k: '' } }, 700);
    assert.deepEqual(
      kv.apply({ Action: 'add', Data: { k: 'w' } }, 1_701).Data,
      { k: 'w' },
      'tombstone expired',
    );
  });
});
