// The file store through real `isopeer bootstrap-server` processes: the original file format,
// no lost update under concurrency, and crash safety under `kill -9`.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { formatDocument, parseDocument } from '../src/codec.js';
import type { BootstrapData } from '../src/types.js';
import { runCli, startCliServer } from './cli-server.js';
import { line, peer, raw } from './conformance.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isopeer-file-store-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fileIn = (name: string) => join(dir, name);
const readState = async (path: string): Promise<{ text: string; data: BootstrapData }> => {
  const text = await readFile(path, 'utf8');
  return { text, data: parseDocument(text) };
};

describe('file store', () => {
  test('reads the original peers.json and writes MarshalIndent plus a newline', async () => {
    const path = fileIn('original.json');
    // A file as the original Go server left it (its own formatting, numpeers stale on purpose).
    await writeFile(
      path,
      '{\n  "Config": {\n    "maxpeers": 3,\n    "minrefillcandidates": 1,\n    "numpeers": 7\n  },\n' +
        '  "Peers": {\n    "bob": {\n      "id": "bob",\n      "name": "bob-h-u",\n      "ip": "127.0.0.1",\n' +
        '      "port": "56471",\n      "protocol": "tcp",\n      "status": "0",\n      "timestamp": "1557509977"\n    }\n  }\n}\n',
    );
    const s = await startCliServer(['--store', `file:${path}`]);
    try {
      const listed = parseDocument((await raw(s.url, '/list')).text);
      assert.deepEqual(Object.keys(listed.Peers), ['bob']);
      assert.equal(listed.Config.numpeers, 1, 'numpeers is recomputed, never trusted');
      const joined = await raw(s.url, '/join', line(peer('alice')));
      assert.equal(joined.status, 200);
      const { text } = await readState(path);
      assert.equal(text, `${joined.text}\n`, 'the file is the answer plus a newline');
    } finally {
      await s.stop();
    }
  });

  test('an empty file (left by the original crashing) counts as no state yet', async () => {
    const path = fileIn('empty.json');
    await writeFile(path, '');
    const s = await startCliServer(['--store', `file:${path}`]);
    try {
      const r = await raw(s.url, '/list');
      assert.equal(r.status, 200);
      assert.deepEqual(parseDocument(r.text).Config, {
        maxpeers: 2,
        minrefillcandidates: 2,
        numpeers: 0,
      });
    } finally {
      await s.stop();
    }
  });

  test('a file that is not a bootstrap document is refused and left untouched', async () => {
    const path = fileIn('garbage.json');
    await writeFile(path, 'not json at all');
    const r = await runCli(['bootstrap-server', '--port', '0', '--store', `file:${path}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not a bootstrap data document .*refusing to overwrite it/);
    assert.equal(await readFile(path, 'utf8'), 'not json at all');
  });

  test('500 concurrent joins with maxpeers 2: exactly 2 stored, the file parses, numpeers 2', async () => {
    const path = fileIn('joins.json');
    const s = await startCliServer(['--store', `file:${path}`]);
    try {
      const answers = await Promise.all(
        Array.from({ length: 500 }, (_, i) => raw(s.url, '/join', line(peer(`p${i}`)))),
      );
      assert.ok(answers.every((a) => a.status === 200));
      const { data } = await readState(path);
      assert.equal(Object.keys(data.Peers).length, 2);
      assert.equal(data.Config.numpeers, 2);
    } finally {
      await s.stop();
    }
  });

  test('kill -9 during a write storm: the file holds a prefix of the acknowledged operations', async () => {
    const path = fileIn('storm.json');
    let s = await startCliServer(['--store', `file:${path}`]);
    await raw(s.url, '/config', '1000000 2');

    /*
     * Eight clients, each issuing its own operations one after another on its own ids, with no
     * capacity limit in play. Operations of different clients therefore commute, and the state
     * after any prefix of the server's serial order is the union of each client's state after a
     * prefix of that client's own sequence. "The file holds a prefix that includes every
     * acknowledged operation" thus means: for every client, its part of the file equals its
     * state after k of its operations, where k is at least the number acknowledged to it and at
     * most the number it sent.
     */
    interface Client {
      ops: Array<{ path: string; body: string; id: string }>;
      acked: number;
    }
    const clients: Client[] = Array.from({ length: 8 }, () => ({ ops: [], acked: 0 }));
    let totalAcked = 0;
    let killed = false;
    const runClient = async (c: Client, n: number) => {
      const live: string[] = [];
      for (let i = 0; !killed; i++) {
        const id = `c${n}-${i}`;
        const kind = live.length > 0 && i % 3 === 2 ? 'leave' : i % 2 ? 'refill' : 'join';
        const op =
          kind === 'leave'
            ? { path: '/leave', body: live[0], id: live.shift()! }
            : { path: `/${kind}`, body: line(peer(id, String(i))), id };
        c.ops.push(op);
        try {
          const r = await raw(s.url, op.path, op.body);
          assert.equal(r.status, 200, r.text);
        } catch (err) {
          if (killed) return;
          throw err;
        }
        c.acked++;
        totalAcked++;
        if (kind !== 'leave') live.push(id);
      }
    };
    const running = clients.map((c, n) => runClient(c, n));
    // Kill once the storm is well under way (a condition, not a delay).
    await new Promise<void>((resolve) => {
      const check = () => (totalAcked >= 200 ? resolve() : setTimeout(check, 5));
      check();
    });
    killed = true;
    await s.kill();
    await Promise.all(running);

    const { data } = await readState(path); // parses, or the test fails here
    assert.equal(data.Config.maxpeers, 1000000);
    assert.equal(data.Config.numpeers, Object.keys(data.Peers).length);
    clients.forEach((c, n) => {
      const mine = Object.keys(data.Peers)
        .filter((id) => id.startsWith(`c${n}-`))
        .sort();
      const state = new Set<string>();
      const candidates: string[] = [];
      for (let k = 0; k <= c.ops.length; k++) {
        if (k > 0) {
          const op = c.ops[k - 1];
          if (op.path === '/leave') state.delete(op.id);
          else state.add(op.id);
        }
        if (k >= c.acked) candidates.push(JSON.stringify([...state].sort()));
      }
      assert.ok(
        candidates.includes(JSON.stringify(mine)),
        `client ${n}: file holds ${mine.length} ids, not the state after ${c.acked}..${c.ops.length} ops`,
      );
    });
    for (const [id, p] of Object.entries(data.Peers)) assert.equal(p.id, id);

    // Restart on the same file: it serves exactly what the file holds.
    s = await startCliServer(['--store', `file:${path}`]);
    try {
      const listed = await raw(s.url, '/list');
      assert.equal(listed.text, `${formatDocument(data)}\n`);
    } finally {
      await s.stop();
    }
  });
});
