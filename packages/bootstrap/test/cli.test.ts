// `isopeer bootstrap-server` as a user meets it: options, log lines, shutdown, the lease.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { parseDocument } from '../src/codec.js';
import { runCli, startCliServer } from './cli-server.js';
import { line, peer, raw } from './conformance.js';

test('bad options: one clear line and a hint on stderr, exit code 2', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--port', 'http'], /--port "http" is not a port number/],
    [['--port', '70000'], /--port "70000" is not a port number/],
    [['--peer-ttl', 'soon'], /--peer-ttl "soon" is not a number of seconds/],
    [['--store', 'redis://x'], /unknown store "redis:\/\/x" \(expected memory \| file:PATH/],
    [['--store', 'file:'], /store "file:" needs a path/],
    [['--admin-token', ''], /--admin-token must not be empty/],
    [['--nonsense'], /unknown option '--nonsense'/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(['bootstrap-server', '--port', '0', '--store', 'memory', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
});

test('one log line per request, then a graceful stop on SIGTERM and SIGINT', async () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const s = await startCliServer(['--store', 'memory']);
    assert.match(
      s.lines[0],
      /^listening on http:\/\/127\.0\.0\.1:\d+ \(store memory, peer-ttl off, admin token off\)$/,
    );
    await raw(s.url, '/ping');
    await raw(s.url, '/join', 'bad');
    await s.waitForLine(/ POST \/join 400 /);
    const logged = s.lines.slice(1);
    assert.match(logged[0], /^\d{4}-\d\d-\d\dT\S+Z POST \/ping 200 \d+\.\dms$/);
    assert.match(logged[1], /^\S+ POST \/join 400 \d+\.\dms - expected 7 space-separated fields/);
    s.child.kill(signal);
    const code = await s.stop();
    assert.equal(code, 0);
    assert.deepEqual(s.lines.slice(-2), ['shutting down', 'stopped']);
  }
});

test('a request the HTTP parser refuses is answered with its reason and logged as "- -"', async () => {
  const s = await startCliServer(['--store', 'memory']);
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(s.port, '127.0.0.1', () => sock.write('GET /ping HTTP/1.1\r\n\r\n'));
      let text = '';
      sock.setEncoding('latin1');
      sock.on('data', (d: string) => {
        text += d;
      });
      sock.on('close', () => resolve(text));
      sock.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(answer, /\r\nConnection: close\r\n/);
    assert.match(answer, /\r\n\r\nHTTP\/1\.1 request without a Host header\n$/);
    const logged = await s.waitForLine(/ - - 400 /);
    assert.match(logged, /^\S+Z - - 400 0\.0ms - HTTP\/1\.1 request without a Host header$/);
  } finally {
    await s.stop();
  }
});

test('--peer-ttl drops peers that are not refreshed', async () => {
  const s = await startCliServer(['--store', 'memory', '--peer-ttl', '0.3']);
  try {
    assert.match(s.lines[0], /peer-ttl 0\.3s/);
    const joined = parseDocument((await raw(s.url, '/join', line(peer('a')))).text);
    assert.deepEqual(Object.keys(joined.Peers), ['a']);
    // Wait (with a deadline) for the lease to run out.
    const deadline = Date.now() + 10_000;
    let ids = ['a'];
    while (ids.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      ids = Object.keys(parseDocument((await raw(s.url, '/list')).text).Peers);
    }
    assert.deepEqual(ids, [], 'the unrefreshed peer was dropped');
  } finally {
    await s.stop();
  }
});

test('values that cannot work are stored and logged as warning lines', async () => {
  const s = await startCliServer(['--store', 'memory']);
  try {
    const join = await fetch(`${s.url}/join`, {
      method: 'POST',
      body: 'a n not-an-ip 7946 tcp 0 1557509977',
    });
    assert.equal(join.status, 200);
    assert.equal(parseDocument(await join.text()).Peers.a.ip, 'not-an-ip');
    await s.waitForLine(/ warning \/join ip "not-an-ip" is not an IP address/);
    const config = await fetch(`${s.url}/config`, { method: 'POST', body: '2 5' });
    assert.equal(config.status, 200);
    await s.waitForLine(
      / warning \/config minrefillcandidates 5 is larger than maxpeers 2: more peers refill than the list holds$/,
    );
    const fine = await fetch(`${s.url}/join`, {
      method: 'POST',
      body: 'b n 127.0.0.1 7947 tcp 0 1557509977',
    });
    assert.equal(fine.status, 200);
    // The request's log line follows its warnings: once both joins are logged, all are in.
    const deadline = Date.now() + 10_000;
    while (s.lines.filter((l) => / POST \/join 200 /.test(l)).length < 2) {
      assert.ok(Date.now() < deadline, `second /join not logged: ${s.lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(s.lines.filter((l) => l.includes(' warning ')).length, 2, s.lines.join('\n'));
  } finally {
    await s.stop();
  }
});
