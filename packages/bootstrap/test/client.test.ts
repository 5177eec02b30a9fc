// BootstrapClient against a real `isopeer bootstrap-server` process, plus real misbehaving
// peers on loopback (a closed port, a server that never answers, one that answers garbage).
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  BootstrapClient,
  BootstrapConfigError,
  BootstrapHttpError,
  BootstrapMalformedResponseError,
  BootstrapTimeoutError,
  BootstrapUnreachableError,
  contactAddresses,
  contactsFor,
} from '../src/client.js';
import { BootstrapProtocolError } from '../src/codec.js';
import { type CliServer, startCliServer } from './cli-server.js';
import { peer } from './conformance.js';

const listen = (server: net.Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );

describe('BootstrapClient against isopeer bootstrap-server', () => {
  let s: CliServer;
  let client: BootstrapClient;
  before(async () => {
    s = await startCliServer(['--store', 'memory', '--admin-token', 'tok']);
    client = new BootstrapClient({ url: s.url, adminToken: 'tok' });
  });
  after(async () => {
    await s.stop();
  });

  test('every method returns the typed document', async () => {
    await client.ping();
    let d = await client.reset();
    assert.equal(Object.keys(d.Peers).length, 0);
    d = await client.config(3, 1);
    assert.deepEqual(d.Config, { maxpeers: 3, minrefillcandidates: 1, numpeers: 0 });
    d = await client.join(peer('alice', '100'));
    assert.deepEqual({ ...d.Peers.alice }, peer('alice', '100'));
    assert.equal(d.Config.numpeers, 1);
    d = await client.refill(peer('bob', '200'));
    assert.deepEqual(Object.keys(d.Peers).sort(), ['alice', 'bob']);
    d = await client.leave('alice');
    assert.deepEqual(Object.keys(d.Peers), ['bob']);
    d = await client.list();
    assert.deepEqual(Object.keys(d.Peers), ['bob']);
    assert.equal(d.Config.maxpeers, 3);
  });

  test('the URL comes from BOOTSTRAP_DATA_SERVER when not given', async () => {
    const c = new BootstrapClient({ env: { BOOTSTRAP_DATA_SERVER: `${s.url}/` } });
    assert.equal(c.url, s.url);
    await c.ping();
    assert.throws(() => new BootstrapClient({ env: {} }), BootstrapConfigError);
    assert.throws(() => new BootstrapClient({ url: 'ftp://x' }), /not http/);
  });

  test("a 400 carries the server's one-line message to the caller", async () => {
    const err = await client.join({ ...peer('x'), port: '99999' }).catch((e: unknown) => e);
    assert.ok(err instanceof BootstrapHttpError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.serverMessage, 'port 99999 is out of range 1-65535');
    assert.equal(err.code, 'BOOTSTRAP_HTTP');
    assert.match(err.message, /answered 400: port 99999 is out of range 1-65535$/);
    const cfg = await client.config(1.5, 1).catch((e: unknown) => e);
    assert.ok(cfg instanceof BootstrapHttpError);
    assert.equal(cfg.serverMessage, 'maxpeers "1.5" is not a number');
  });

  test('values that cannot travel in the space-separated body are refused before sending', async () => {
    const err = await client.join({ ...peer('x'), name: 'two words' }).catch((e: unknown) => e);
    assert.ok(err instanceof BootstrapProtocolError);
    assert.match(err.message, /^name "two words" cannot be sent/);
    // An empty value travels; the server judges it (an empty id names no entry).
    const empty = await client.leave('').catch((e: unknown) => e);
    assert.ok(empty instanceof BootstrapHttpError, String(empty));
    assert.match(empty.serverMessage, /empty body/);
  });

  test('a refill with an empty status, as the original client sends it, is stored', async () => {
    await client.reset();
    const d = await client.refill({ ...peer('quiet', '300'), status: '' });
    assert.deepEqual({ ...d.Peers.quiet }, { ...peer('quiet', '300'), status: '' });
  });

  test('401 without the admin token and 404 for a wrong base path', async () => {
    const noToken = new BootstrapClient({ url: s.url });
    const denied = await noToken.reset().catch((e: unknown) => e);
    assert.ok(denied instanceof BootstrapHttpError);
    assert.equal(denied.status, 401);
    assert.equal(denied.serverMessage, 'this endpoint needs Authorization: Bearer <admin token>');
    const wrongBase = new BootstrapClient({ url: `${s.url}/v2` });
    const e3 = await wrongBase.list().catch((e: unknown) => e);
    assert.ok(e3 instanceof BootstrapHttpError);
    assert.equal(e3.status, 404);
    assert.equal(e3.serverMessage, 'unknown path /v2/list');
  });
});

test('unreachable: a closed port gives BootstrapUnreachableError', async () => {
  const srv = net.createServer();
  const port = await listen(srv);
  await new Promise<void>((r) => srv.close(() => r()));
  const c = new BootstrapClient({ url: `http://127.0.0.1:${port}` });
  const err = await c.list().catch((e: unknown) => e);
  assert.ok(err instanceof BootstrapUnreachableError, String(err));
  assert.equal(err.code, 'BOOTSTRAP_UNREACHABLE');
  assert.match(err.message, /ECONNREFUSED/);
});

test('timeout: a server that accepts but never answers gives BootstrapTimeoutError', async () => {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => {});
  });
  const port = await listen(srv);
  try {
    const c = new BootstrapClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 300 });
    const err = await c.ping().catch((e: unknown) => e);
    assert.ok(err instanceof BootstrapTimeoutError, String(err));
    assert.equal(err.timeoutMs, 300);
    assert.equal(err.code, 'BOOTSTRAP_TIMEOUT');
  } finally {
    for (const sock of sockets) sock.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  }
});

test('malformed answers give BootstrapMalformedResponseError with the body', async () => {
  const srv = http.createServer((req, res) => {
    req.resume();
    res.end(req.url === '/ping' ? 'NOPE' : req.url === '/list' ? '<html>' : '{"Peers":[]}');
  });
  const port = await listen(srv);
  try {
    const c = new BootstrapClient({ url: `http://127.0.0.1:${port}` });
    for (const call of [() => c.ping(), () => c.list(), () => c.reset()]) {
      const err = await call().catch((e: unknown) => e);
      assert.ok(err instanceof BootstrapMalformedResponseError, String(err));
      assert.equal(err.code, 'BOOTSTRAP_MALFORMED');
    }
    const err = await c.list().catch((e: unknown) => e);
    assert.ok(err instanceof BootstrapMalformedResponseError);
    assert.equal(err.body, '<html>');
  } finally {
    srv.closeAllConnections();
    await new Promise<void>((r) => srv.close(() => r()));
  }
});

test('contactsFor: never only oneself as the way in', () => {
  const me = peer('me');
  const data = {
    Config: { maxpeers: 3, minrefillcandidates: 2, numpeers: 3 },
    Peers: {
      me,
      stale: { ...peer('stale'), port: me.port }, // an earlier run of me on the same address
      other: { ...peer('other'), port: '9000' },
    },
  };
  assert.deepEqual(contactsFor(data, 'me'), [data.Peers.other, data.Peers.stale]);
  assert.deepEqual(contactsFor(data, { id: 'me', ip: me.ip, port: me.port }), [data.Peers.other]);
  assert.deepEqual(contactAddresses(data, { id: 'me', ip: me.ip, port: Number(me.port) }), [
    '127.0.0.1:9000',
  ]);
  const alone = { Config: data.Config, Peers: { me } };
  assert.deepEqual(contactsFor(alone, 'me'), [], 'only myself: start a new group');
});
