/*
 * Part of the conformance suite: which request bodies a server accepts and which it refuses
 * (docs/bootstrap.md "Which requests are refused"). First the exact requests the original Go
 * client library sends — bytes on the wire as Go's net/http writes them for
 * `http.Post(url, "application/x-www-form-urlencoded", body)` — then bodies no original client
 * sends that are stored as sent, then the refusals that remain, each leaving the state unchanged.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { test } from 'node:test';
import { parseDocument } from '../src/codec.js';
import type { BootstrapData } from '../src/types.js';
import type { RawAnswer } from './conformance.js';

export interface InputRuleContext {
  url(): string;
  /** Authorization header when the server has an admin token (the original had none). */
  adminHeaders(): Record<string, string>;
  post(path: string, body?: string | Uint8Array): Promise<RawAnswer>;
  fresh(maxpeers?: number, minrefill?: number): Promise<void>;
}

/**
 * Sends one request exactly as Go's net/http client writes a `http.Post` with a form content
 * type, on a fresh connection, and reads the answer (Content-Length framed).
 */
export function goClientPost(
  url: string,
  path: string,
  body: string,
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(url);
  const payload = Buffer.from(body, 'utf8');
  const extra = Object.entries(extraHeaders)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const request = Buffer.concat([
    Buffer.from(
      `POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUser-Agent: Go-http-client/1.1\r\n` +
        `Content-Length: ${payload.length}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
        `${extra}Accept-Encoding: gzip\r\n\r\n`,
      'latin1',
    ),
    payload,
  ]);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer to ${path}: ${data.toString('latin1')}`));
    }, 10_000);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = data.toString('latin1', 0, end);
      const text = /\r\ntransfer-encoding: *chunked/i.test(head)
        ? dechunk(data.subarray(end + 4))
        : fixedLength(data.subarray(end + 4), head);
      if (text === undefined) return;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(head.split(' ')[1]), text });
    });
  });
}

function fixedLength(body: Buffer, head: string): string | undefined {
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? Number.NaN);
  return body.length >= length ? body.toString('utf8', 0, length) : undefined;
}

/** The body of a complete chunked message, or undefined while it is incomplete. */
function dechunk(body: Buffer): string | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(body.toString('latin1', at, lineEnd), 16);
    if (size === 0) return Buffer.concat(parts).toString('utf8');
    if (body.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** A peer as the original client describes itself: UUID v4 id, Unix-seconds timestamp. */
function originalPeer(name: string, port: number) {
  return {
    id: randomUUID(),
    name: `${name}-host-${randomUUID()}`,
    ip: '127.0.0.1',
    port: String(port),
    timestamp: String(Math.floor(Date.now() / 1000)),
  };
}

export function inputRuleTests(ctx: InputRuleContext): void {
  const goPost = async (path: string, body: string, admin = false) => {
    const r = await goClientPost(ctx.url(), path, body, admin ? ctx.adminHeaders() : {});
    assert.equal(r.status, 200, `${path} ${JSON.stringify(body)}: ${r.status} ${r.text}`);
    return r.text;
  };
  const goDoc = async (path: string, body: string, admin = false): Promise<BootstrapData> =>
    parseDocument(await goPost(path, body, admin));

  test('original client: /ping, /list and /reset with an empty body', async () => {
    await ctx.fresh(2, 2);
    assert.equal(await goPost('/ping', ''), 'OK');
    assert.deepEqual(Object.keys((await goDoc('/list', '')).Peers), []);
    assert.equal((await goDoc('/reset', '', true)).Config.maxpeers, 2);
  });

  test('original client: /join with status 0 stores the peer as sent', async () => {
    await ctx.fresh(2, 2);
    const p = originalPeer('alice', 40001);
    const d = await goDoc('/join', `${p.id} ${p.name} ${p.ip} ${p.port} tcp 0 ${p.timestamp}`);
    assert.deepEqual({ ...d.Peers[p.id] }, { ...p, protocol: 'tcp', status: '0' });
    assert.equal(d.Config.numpeers, 1);
  });

  test('original client: /refill with an empty status field is accepted and stored', async () => {
    await ctx.fresh(2, 2);
    const old = originalPeer('bob', 40002);
    const young = originalPeer('carol', 40003);
    young.timestamp = String(Number(old.timestamp) + 100);
    const candidate = originalPeer('dave', 40004);
    candidate.timestamp = old.timestamp;
    // Room: the refill adds the candidate.
    let d = await goDoc(
      '/refill',
      `${old.id} ${old.name} ${old.ip} ${old.port} tcp  ${old.timestamp}`,
    );
    assert.deepEqual({ ...d.Peers[old.id] }, { ...old, protocol: 'tcp', status: '' });
    const text = await goPost('/list', '');
    assert.ok(!text.includes('"status"'), 'an empty status is left out, as Go`s omitempty does');
    await goDoc(
      '/join',
      `${young.id} ${young.name} ${young.ip} ${young.port} tcp 0 ${young.timestamp}`,
    );
    // Full: the candidate replaces the peer with the largest timestamp.
    d = await goDoc(
      '/refill',
      `${candidate.id} ${candidate.name} ${candidate.ip} ${candidate.port} tcp  ${candidate.timestamp}`,
    );
    assert.deepEqual(Object.keys(d.Peers).sort(), [old.id, candidate.id].sort());
  });

  test('original client: /leave with the bare id removes the peer', async () => {
    await ctx.fresh(2, 2);
    const p = originalPeer('erin', 40005);
    await goDoc('/join', `${p.id} ${p.name} ${p.ip} ${p.port} tcp 0 ${p.timestamp}`);
    const d = await goDoc('/leave', p.id);
    assert.deepEqual(Object.keys(d.Peers), []);
  });

  test('original client: /config with two decimal numbers', async () => {
    await ctx.fresh(2, 2);
    const d = await goDoc('/config', '5 3', true);
    assert.deepEqual({ ...d.Config }, { maxpeers: 5, minrefillcandidates: 3, numpeers: 0 });
  });

  // Bodies no original client sends that corrupt nothing: stored as sent (a warning may be logged).
  const storedAsSent: Array<[string, string, (d: BootstrapData) => unknown, unknown]> = [
    ['/join', 'a  127.0.0.1 1 tcp 0 1', (d) => d.Peers.a?.name, ''],
    ['/join', 'a n 127.0.0.1 1 sctp 0 1', (d) => d.Peers.a?.protocol, 'sctp'],
    ['/join', 'a n 127.0.0.1 1  0 1', (d) => d.Peers.a?.protocol, ''],
    ['/join', 'a n 127.0.0.1 1 tcp 0 ', (d) => d.Peers.a?.timestamp, ''],
    ['/join', 'a n\u0007 127.0.0.1 1 tcp 0 1', (d) => d.Peers.a?.name, 'n\u0007'],
    ['/join', 'a n not-an-ip 1 tcp 0 1', (d) => d.Peers.a?.ip, 'not-an-ip'],
    ['/join', 'a n 127.0.0.1 1 tcp 0 1\r\n', (d) => d.Peers.a?.timestamp, '1'],
    ['/leave', 'keep x', (d) => Object.keys(d.Peers), ['keep']],
    ['/config', '-1 2', (d) => d.Config.maxpeers, -1],
    ['/config', '2 5', (d) => d.Config.minrefillcandidates, 5],
  ];
  for (const [path, body, pick, expected] of storedAsSent) {
    test(`stored as sent: ${path} ${JSON.stringify(body)}`, async () => {
      await ctx.fresh(3, 2);
      await ctx.post('/join', 'keep keep-host 127.0.0.1 7946 tcp 0 1557509977');
      const r = await ctx.post(path, body);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(pick(parseDocument(r.text)), expected);
      assert.deepEqual(pick(parseDocument((await ctx.post('/list')).text)), expected);
    });
  }

  // What no original client sends AND would corrupt the document or leave a useless entry.
  const refused: Array<[string, string | Uint8Array, RegExp]> = [
    ['/join', '', /expected 7 space-separated fields .*got 0/],
    ['/join', 'a b c', /expected 7 .*got 3/],
    ['/join', 'a n 127.0.0.1 1 tcp 0 1 extra', /got 8/],
    ['/join', ' n 127.0.0.1 1 tcp 0 1', /field 1 \(id\) is empty/],
    ['/join', 'a n  1 tcp 0 1', /field 3 \(ip\) is empty/],
    ['/join', 'a n 127.0.0.1 http tcp 0 1', /port "http" is not a number/],
    ['/join', 'a n 127.0.0.1  tcp 0 1', /port "" is not a number/],
    ['/join', 'a n 127.0.0.1 70000 tcp 0 1', /port 70000 is out of range 1-65535/],
    ['/join', 'a n 127.0.0.1 0 tcp 0 1', /out of range/],
    ['/join', 'a n\u0000 127.0.0.1 1 tcp 0 1', /field 2 \(name\) contains a NUL character/],
    ['/join', new Uint8Array([0x61, 0xff, 0x20]), /not valid UTF-8/],
    ['/join', `a ${'n'.repeat(5000)} 127.0.0.1 1 tcp 0 1`, /body is over 4096 bytes/],
    ['/refill', 'a n 127.0.0.1 1 tcp 0', /expected 7 .*got 6/],
    ['/refill', 'a n 127.0.0.1 -5 tcp  1', /not a number/],
    ['/refill', ' n 127.0.0.1 1 tcp  1', /field 1 \(id\) is empty/],
    ['/leave', '', /expected the peer id .*empty body/],
    ['/leave', 'keep\u0000', /NUL character/],
    ['/config', '3', /expected 2 .*got 1/],
    ['/config', 'three 1', /maxpeers "three" is not a number/],
    ['/config', '3 x', /minrefillcandidates "x" is not a number/],
    ['/config', '99999999999 1', /is outside -2147483648\.\.2147483647/],
  ];
  for (const [path, body, message] of refused) {
    const shown = typeof body === 'string' ? JSON.stringify(body.slice(0, 40)) : 'bytes';
    test(`refused: ${path} ${shown} → 400 "${message.source}", state unchanged`, async () => {
      await ctx.fresh(2, 2);
      await ctx.post('/join', 'keep keep-host 127.0.0.1 7946 tcp 0 1557509977');
      const before = (await ctx.post('/list')).text;
      const r = await ctx.post(path, body);
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, message);
      assert.match(r.text, /^[^\n]+\n$/, 'one line');
      assert.equal((await ctx.post('/list')).text, before);
    });
  }
}
