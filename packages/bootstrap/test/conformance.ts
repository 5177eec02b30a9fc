/*
 * The bootstrap protocol conformance suite, reusable against any server speaking it (memory,
 * file and PostgreSQL stores, Node or Cloud Functions adapters). It talks raw HTTP with fetch so
 * it checks exact bytes, not what our client makes of them.
 *
 *   runConformanceSuite('file store', async () => {
 *     const s = await start...;            // a fresh or shared server
 *     return { url: s.url, stop: () => s.close(), adminToken: 'T' };
 *   });
 *
 * `start` is called once for the suite; every test begins with /reset and `/config 2 2`, so the
 * server may keep state from earlier runs. When the started server has an admin token, return
 * it as `adminToken`: the suite then also checks that /reset and /config refuse other callers.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { formatDocument, parseDocument } from '../src/codec.js';
import { applyOp, type BootstrapOp, initialData } from '../src/semantics.js';
import type { BootstrapData, PeerRecord } from '../src/types.js';
import { inputRuleTests } from './conformance-input.js';

export interface ConformanceServer {
  url: string;
  stop(): Promise<void>;
  /** The server's admin token, if it has one. */
  adminToken?: string;
}

export interface RawAnswer {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

// node:http rather than fetch: fetch gives up connecting after 10 s, and on a loaded 2-core
// machine 500 simultaneous connection attempts can overflow the listen backlog for longer
// (the kernel then retries the SYN); a storm test must measure the server, not that timeout.
// Idle sockets are dropped after 2 s, before any server under test closes them (Node's and the
// functions framework's keep-alive timeout is 5 s): a request written to a socket the server is
// closing at that moment would fail with ECONNRESET, a race of the test client, not the server.
const newAgent = () =>
  new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, timeout: 2000 });
const defaultAgent = newAgent();

/** POSTs (or GETs) raw bytes and returns status, body text and headers. */
export function raw(
  url: string,
  path: string,
  body: string | Uint8Array = '',
  init: { method?: string; headers?: Record<string, string>; agent?: http.Agent } = {},
): Promise<RawAnswer> {
  const method = init.method ?? 'POST';
  const payload = method === 'GET' ? Buffer.alloc(0) : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url + path,
      {
        method,
        agent: init.agent ?? defaultAgent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': payload.length,
          ...init.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A peer line's record with predictable fields. */
export function peer(id: string, timestamp = '1557509977', port = '7946'): PeerRecord {
  return {
    id,
    name: `${id}-host-uuid`,
    ip: '127.0.0.1',
    port,
    protocol: 'tcp',
    status: '0',
    timestamp,
  };
}

export function line(p: PeerRecord): string {
  return [p.id, p.name, p.ip, p.port, p.protocol, p.status, p.timestamp].join(' ');
}

/**
 * Checks that `ops`, each answered with the document right after it (`answers[i]`), and ending
 * in `final`, are explained by SOME serial order starting from `start`. Returns that order or
 * throws.
 *
 * Why this is sound: the store contract says every answer is the state right after its
 * operation. So a serial explanation is a sequence in which each operation, applied to the
 * previous operation's answer (or `start`), yields exactly its own answer, and the last answer
 * equals `final`. The search only ever places an operation when that holds, so any order it
 * returns is such a witness; a lost update (two writers both building on one state) leaves an
 * answer that no placement reproduces, and the search fails.
 *
 * Why it does not fail a correct server: it is an exhaustive depth-first search (failed
 * (state, remaining set) pairs are memoised) with one shortcut, taken only when it is safe. An
 * operation that changes nothing at the current state S and whose answer is S is placed at once
 * if it could not have produced S from any OTHER state: a join/refill of X always leaves X
 * stored with exactly its record, so it is such an operation unless S holds that very record; a
 * leave of X always leaves X absent, so it is one if S holds X, or if X occurs in no state at
 * all (neither in `start` nor in any answer). In every valid completion such an operation sits
 * at a point whose state is S, so moving it to now keeps the completion valid. All other
 * operations, including ambiguous no-ops, are branched on.
 */
export function findSerialOrder(
  start: BootstrapData,
  ops: BootstrapOp[],
  answers: string[],
  final: string,
  maxSteps = 2_000_000,
): number[] {
  const everStored = new Set(Object.keys(start.Peers));
  for (const a of answers) for (const id of Object.keys(parseDocument(a).Peers)) everStored.add(id);
  const producesOnlyItself = (op: BootstrapOp, state: BootstrapData): boolean => {
    switch (op.kind) {
      case 'join':
      case 'refill': {
        const held = state.Peers[op.peer.id];
        return held === undefined || line(held) !== line(op.peer);
      }
      case 'leave':
        return Object.hasOwn(state.Peers, op.id) || !everStored.has(op.id);
      default:
        return false;
    }
  };
  const used = new Uint8Array(ops.length);
  const order: number[] = [];
  const failed = new Set<string>();
  let steps = 0;
  const search = (state: BootstrapData, text: string, left: number): boolean => {
    if (++steps > maxSteps) throw new Error('serial order search exceeded its step budget');
    const placed: number[] = [];
    for (let i = 0; i < ops.length; i++) {
      if (
        !used[i] &&
        answers[i] === text &&
        applyOp(state, ops[i]) === state &&
        producesOnlyItself(ops[i], state)
      ) {
        used[i] = 1;
        order.push(i);
        placed.push(i);
      }
    }
    left -= placed.length;
    const undo = () => {
      for (const i of placed) used[i] = 0;
      order.length -= placed.length;
    };
    if (left === 0) {
      if (text === final) return true;
      undo();
      return false;
    }
    const key = `${text}|${used.join('')}`;
    if (failed.has(key)) {
      undo();
      return false;
    }
    for (let i = 0; i < ops.length; i++) {
      if (used[i]) continue;
      const next = applyOp(state, ops[i]);
      const nextText = next === state ? text : formatDocument(next);
      if (nextText !== answers[i]) continue;
      used[i] = 1;
      order.push(i);
      if (search(next, nextText, left - 1)) return true;
      used[i] = 0;
      order.pop();
    }
    failed.add(key);
    undo();
    return false;
  };
  if (!search(start, formatDocument(start), ops.length)) {
    throw new Error('no serial order of the operations explains the answers (lost update?)');
  }
  return order;
}

function opRequest(op: BootstrapOp): [string, string] {
  switch (op.kind) {
    case 'join':
      return ['/join', line(op.peer)];
    case 'refill':
      return ['/refill', line(op.peer)];
    case 'leave':
      return ['/leave', op.id];
    default:
      throw new Error(`not a storm op: ${op.kind}`);
  }
}

/** A deterministic pseudo-random sequence (tests must be reproducible). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function runConformanceSuite(name: string, start: () => Promise<ConformanceServer>): void {
  describe(`bootstrap protocol conformance: ${name}`, () => {
    let server: ConformanceServer;
    let admin: Record<string, string> = {};
    const agent = newAgent();
    const post = (path: string, body: string | Uint8Array = '') =>
      raw(server.url, path, body, { headers: admin, agent });
    const doc = async (path: string, body = ''): Promise<BootstrapData> => {
      const r = await post(path, body);
      assert.equal(r.status, 200, `${path} ${body}: ${r.status} ${r.text}`);
      return parseDocument(r.text);
    };
    const fresh = async (maxpeers = 2, minrefill = 2) => {
      await doc('/reset');
      await doc('/config', `${maxpeers} ${minrefill}`);
    };
    const ids = (d: BootstrapData) => Object.keys(d.Peers).sort();

    before(async () => {
      server = await start();
      if (server.adminToken) admin = { authorization: `Bearer ${server.adminToken}` };
    });
    after(async () => {
      await server?.stop();
      agent.destroy();
    });

    test('/ping answers OK to POST and GET', async () => {
      for (const method of ['POST', 'GET']) {
        const r = await raw(server.url, '/ping', '', { method });
        assert.equal(r.status, 200);
        assert.equal(r.text, 'OK');
      }
    });

    test('the original manual session, answer by answer', async () => {
      await doc('/reset');
      const alice = peer('alice', '1557509977', '56471');
      const bob = peer('bob', '1557509980', '56472');
      const carol = peer('carol', '1557509970', '56473');
      let r = await post('/config', '3 1');
      assert.equal(r.status, 200);
      assert.equal(
        r.text,
        '{\n  "Config": {\n    "maxpeers": 3,\n    "minrefillcandidates": 1\n  },\n  "Peers": {}\n}',
      );
      r = await post('/join', line(alice));
      assert.equal(
        r.text,
        [
          '{',
          '  "Config": {',
          '    "maxpeers": 3,',
          '    "minrefillcandidates": 1,',
          '    "numpeers": 1',
          '  },',
          '  "Peers": {',
          '    "alice": {',
          '      "id": "alice",',
          '      "name": "alice-host-uuid",',
          '      "ip": "127.0.0.1",',
          '      "port": "56471",',
          '      "protocol": "tcp",',
          '      "status": "0",',
          '      "timestamp": "1557509977"',
          '    }',
          '  }',
          '}',
        ].join('\n'),
      );
      let d = await doc('/join', line(bob));
      assert.deepEqual(ids(d), ['alice', 'bob']);
      assert.equal(d.Config.numpeers, 2);
      d = await doc('/leave', 'alice');
      assert.deepEqual(ids(d), ['bob']);
      assert.deepEqual({ ...d.Peers.bob }, bob);
      r = await post('/list');
      assert.equal(r.status, 200);
      assert.equal(r.text, `${formatDocument(d)}\n`, '/list answers like the original file');
      d = await doc('/config', '2 1');
      assert.deepEqual(d.Config, { maxpeers: 2, minrefillcandidates: 1, numpeers: 1 });
      d = await doc('/refill', line(carol));
      assert.deepEqual(ids(d), ['bob', 'carol'], 'refill fills the gap');
      r = await post('/reset');
      assert.equal(
        r.text,
        '{\n  "Config": {\n    "maxpeers": 2,\n    "minrefillcandidates": 1\n  },\n  "Peers": {}\n}',
      );
    });

    test('/join stores a peer only while fewer than maxpeers are stored', async () => {
      await fresh(2, 2);
      await doc('/join', line(peer('a')));
      await doc('/join', line(peer('b')));
      const d = await doc('/join', line(peer('c')));
      assert.deepEqual(ids(d), ['a', 'b']);
      assert.equal(d.Config.numpeers, 2);
    });

    test('/join with a stored id replaces the record when there is room', async () => {
      await fresh(3, 2);
      await doc('/join', line(peer('a', '100', '1000')));
      const d = await doc('/join', line(peer('a', '100', '2000')));
      assert.deepEqual(ids(d), ['a']);
      assert.equal(d.Peers.a.port, '2000');
    });

    test('/refill: older peers win, timestamps compare as strings', async () => {
      await fresh(2, 2);
      await doc('/join', line(peer('a', '100')));
      await doc('/join', line(peer('b', '300')));
      // Full: the newest stored ("300") is larger than the candidate's "200": replaced.
      let d = await doc('/refill', line(peer('c', '200')));
      assert.deepEqual(ids(d), ['a', 'c']);
      // Newest stored is now "200"; "250" is newer: nothing changes.
      d = await doc('/refill', line(peer('d', '250')));
      assert.deepEqual(ids(d), ['a', 'c']);
      // As strings "1000" < "200" although 1000 > 200 as numbers: the original's rule.
      d = await doc('/refill', line(peer('e', '1000')));
      assert.deepEqual(ids(d), ['a', 'e']);
      // A stored candidate changes nothing, even with other fields.
      d = await doc('/refill', line(peer('a', '0', '9999')));
      assert.equal(d.Peers.a.port, '7946');
    });

    test('/refill adds while there is room; ties replace the first id in key order', async () => {
      await fresh(2, 2);
      let d = await doc('/refill', line(peer('y', '500')));
      d = await doc('/refill', line(peer('x', '500')));
      assert.deepEqual(ids(d), ['x', 'y']);
      d = await doc('/refill', line(peer('z', '400')));
      assert.deepEqual(ids(d), ['y', 'z']);
    });

    test('/leave removes a stored peer and ignores unknown ids', async () => {
      await fresh(2, 2);
      await doc('/join', line(peer('a')));
      let d = await doc('/leave', 'nobody');
      assert.deepEqual(ids(d), ['a']);
      d = await doc('/leave', 'a');
      assert.deepEqual(ids(d), []);
      assert.equal(d.Config.numpeers, 0);
    });

    test('/config can lower maxpeers below the stored count; joins then change nothing', async () => {
      await fresh(3, 2);
      for (const id of ['a', 'b', 'c']) await doc('/join', line(peer(id)));
      let d = await doc('/config', '1 1');
      assert.deepEqual(d.Config, { maxpeers: 1, minrefillcandidates: 1, numpeers: 3 });
      d = await doc('/join', line(peer('d')));
      assert.deepEqual(ids(d), ['a', 'b', 'c']);
      // omitempty: zero numbers are left out of the document entirely.
      const r = await post('/config', '0 0');
      assert.match(r.text, /^\{\n {2}"Config": \{\n {4}"numpeers": 3\n {2}\},/);
    });

    test('/reset keeps the config; /list changes nothing; GET works like POST', async () => {
      await fresh(3, 1);
      await doc('/join', line(peer('a')));
      const listed = await raw(server.url, '/list', '', { method: 'GET' });
      assert.equal(listed.status, 200);
      assert.deepEqual(ids(parseDocument(listed.text)), ['a']);
      assert.equal((await post('/list')).text, listed.text);
      const d = await doc('/reset');
      assert.deepEqual(d.Config, { maxpeers: 3, minrefillcandidates: 1, numpeers: 0 });
      assert.deepEqual(ids(d), []);
    });

    test('strings are escaped exactly as Go encoding/json does', async () => {
      await fresh(2, 2);
      const d = await post('/join', 'x<&>"\\é\u2028😀 n 127.0.0.1 1 udp 0 1');
      assert.equal(d.status, 200, d.text);
      assert.ok(
        d.text.includes('"x\\u003c\\u0026\\u003e\\"\\\\é\\u2028😀": {'),
        `key escaping in ${d.text}`,
      );
      assert.ok(d.text.includes('"protocol": "udp"'));
    });

    test('map keys are sorted by bytes, as Go sorts them', async () => {
      await fresh(5, 2);
      for (const id of ['b', 'B', '\uff5e', '😀', 'a']) await doc('/join', line(peer(id)));
      const text = (await post('/list')).text;
      const order = ['B', 'a', 'b', '\uff5e', '😀'].map((k) => text.indexOf(`"${k}": {`));
      assert.deepEqual(
        [...order].sort((x, y) => x - y),
        order,
      );
      assert.ok(order.every((i) => i > 0));
    });

    inputRuleTests({
      url: () => server.url,
      adminHeaders: () => admin,
      post,
      fresh,
    });

    test('unknown paths answer 404, other methods 405, never 500', async () => {
      for (const path of ['/', '/joinx', '/join/', '/peers.json', '/JOIN']) {
        const r = await post(path, 'x');
        assert.equal(r.status, 404, path);
        assert.match(r.text, /^[^\n]+\n$/);
      }
      const r = await raw(server.url, '/list', '', { method: 'PUT' });
      assert.equal(r.status, 405);
      const q = await raw(server.url, '/ping?x=1', '', { method: 'GET' });
      assert.equal(q.text, 'OK', 'a query string is ignored');
    });

    test('admin endpoints: bearer token required when one is set, open (as the original) when not', async () => {
      if (!server.adminToken) {
        // Without a token the service is the original's: /config and /reset answer anyone.
        await fresh(2, 2);
        const r = await raw(server.url, '/config', '3 1');
        assert.equal(r.status, 200, '/config without a configured token');
        assert.equal((await doc('/list')).Config.maxpeers, 3, 'open /config took effect');
        assert.equal((await raw(server.url, '/reset', '')).status, 200, '/reset without a token');
        return;
      }
      await fresh(2, 2);
      for (const path of ['/reset', '/config']) {
        const body = path === '/config' ? '5 5' : '';
        let r = await raw(server.url, path, body);
        assert.equal(r.status, 401, `${path} without token`);
        assert.match(String(r.headers['www-authenticate']), /^Bearer/);
        r = await raw(server.url, path, body, {
          headers: { authorization: `Bearer ${server.adminToken}x` },
        });
        assert.equal(r.status, 401, `${path} with wrong token`);
        r = await raw(server.url, path, body, { headers: { authorization: 'Basic Zm9vOmJhcg==' } });
        assert.equal(r.status, 401, `${path} with another scheme`);
      }
      assert.deepEqual((await doc('/list')).Config.maxpeers, 2, 'refused /config changed nothing');
      const r = await raw(server.url, '/join', line(peer('p')));
      assert.equal(r.status, 200, 'peer endpoints stay open');
    });

    test('500 concurrent joins with maxpeers 2 store exactly 2', async () => {
      await fresh(2, 2);
      const answers = await Promise.all(
        Array.from({ length: 500 }, (_, i) => post('/join', line(peer(`p${i}`)))),
      );
      const final = parseDocument((await post('/list')).text);
      assert.equal(Object.keys(final.Peers).length, 2);
      assert.equal(final.Config.numpeers, 2);
      const winners = new Set(Object.keys(final.Peers));
      for (const a of answers) {
        assert.equal(a.status, 200, a.text);
        const d = parseDocument(a.text);
        // Every answer is a state on the way to the final one: never a third peer.
        for (const id of Object.keys(d.Peers)) assert.ok(winners.has(id), `${id} was lost`);
      }
    });

    test('500 concurrent mixed join/leave/refill: some serial order explains every answer', async () => {
      await fresh(3, 2);
      const start = parseDocument((await post('/list')).text);
      const random = rng(20261124);
      const ops: BootstrapOp[] = [];
      const added: string[] = [];
      for (let i = 0; i < 500; i++) {
        const r = random();
        // Distinct timestamps of varying length make refill's string comparison matter.
        const ts = String(Math.floor(random() * 100_000));
        if (r < 0.4) {
          ops.push({ kind: 'join', peer: peer(`j${i}`, ts) });
          added.push(`j${i}`);
        } else if (r < 0.7) {
          ops.push({ kind: 'refill', peer: peer(`r${i}`, ts) });
          added.push(`r${i}`);
        } else {
          // Leave a peer some earlier op may have added (each id left at most once).
          const k = Math.floor(random() * added.length);
          const [id] = added.splice(k, 1);
          ops.push({ kind: 'leave', id: id ?? `none${i}` });
        }
      }
      const answers = await Promise.all(
        ops.map(async (op) => {
          const [path, body] = opRequest(op);
          const r = await post(path, body);
          assert.equal(r.status, 200, r.text);
          return r.text;
        }),
      );
      const finalText = (await post('/list')).text.replace(/\n$/, '');
      const order = findSerialOrder(start, ops, answers, finalText);
      // The witness must replay to the final state with our reference semantics.
      const replayed = order.reduce((s, i) => applyOp(s, ops[i]), start);
      assert.equal(formatDocument(replayed), finalText);
    });
  });
}

/** The initial document of a fresh service (for tests that need it). */
export const INITIAL_DOCUMENT = formatDocument(initialData());
