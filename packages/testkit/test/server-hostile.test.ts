// Hostile clients of the test server (issue 12, F8 and F9): what a run stores is bounded and
// refused past its limits with a clear 409; the route comes from the request target, never from
// the Host header; a malformed test name is a 400.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { createTestServer, type RunningTestServer } from '../src/server.js';

let dir: string;
let server: RunningTestServer;

async function call(path: string, body = '') {
  const res = await fetch(server.url + path, { method: 'POST', body });
  return { status: res.status, text: await res.text() };
}

/** A POST whose target and Host header are exactly as given; resolves with status and body. */
function post(
  target: string,
  host: string,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, method: 'POST', path: target, headers: { host } },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const LIMITS = { maxFilters: 3, maxRecords: 5, maxStoredBytes: 4000 };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'testkit-hostile-'));
  await writeFile(join(dir, 'duo.cmd'), 'alice init\nbob init\n');
  server = await createTestServer({ dir, port: 0, limits: LIMITS });
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await call('/resetrun');
});

const filter = (f: string, event?: string) =>
  JSON.stringify({ peer: 'alice', source: 'messagesView', filter: f, event });

test('F8: distinct filters past maxFilters are refused with 409 naming the limit', async () => {
  await call('/init', 'duo');
  for (let i = 0; i < LIMITS.maxFilters; i++) {
    assert.equal((await call('/putevent', filter(`f${i}`))).status, 200);
  }
  const refused = await call('/putevent', filter('one too many'));
  assert.equal(refused.status, 409);
  assert.match(refused.text, /at most 3 event filters per run \(maxFilters\)/);
  // A filter the run already has still counts its events.
  assert.equal((await call('/putevent', filter('f0', 'hit'))).status, 200);
  const events = JSON.parse((await call('/getevents')).text) as { filter: string }[];
  assert.deepEqual(
    events.map((e) => e.filter),
    ['f0', 'f1', 'f2'],
  );
});

test('F8: stored events and logs past maxRecords are refused; counts stay as they were', async () => {
  await call('/init', 'duo');
  for (let i = 0; i < 4; i++)
    assert.equal((await call('/putevent', filter('f', `e${i}`))).status, 200);
  const log = JSON.stringify({ peer: 'alice', kind: 'joined', text: '<joined> x' });
  assert.equal((await call('/putlog', log)).status, 200);
  const ev = await call('/putevent', filter('f', 'e5'));
  assert.equal(ev.status, 409);
  assert.match(ev.text, /maxRecords/);
  assert.equal((await call('/putlog', log)).status, 409);
  const [f] = JSON.parse((await call('/getevents')).text) as { num_received_events: number }[];
  assert.equal(f.num_received_events, 4, 'the refused event was not counted');
  // A new run starts with a fresh budget.
  await call('/resetrun');
  await call('/init', 'duo');
  assert.equal((await call('/putevent', filter('f', 'again'))).status, 200);
});

test('F8: stored text past maxStoredBytes is refused, whatever the count', async () => {
  await call('/init', 'duo');
  assert.equal((await call('/putevent', filter('big', 'x'.repeat(3000)))).status, 200);
  const r = await call('/putevent', filter('big', 'y'.repeat(1500)));
  assert.equal(r.status, 409);
  assert.match(r.text, /at most 4000 bytes .*\(maxStoredBytes\)/);
  const timeline = JSON.parse((await call('/timeline')).text) as { events: unknown[] };
  assert.equal(timeline.events.length, 1);
});

test('F9: the Host header never chooses the route', async () => {
  assert.deepEqual(await post('/getrun', 'x/init?', 'duo'), { status: 200, text: '{}' });
  assert.equal(server.coordinator.run, undefined, '/init did not run');
  // Absolute-form targets route on their path too, not on their authority or the Host header.
  assert.deepEqual(await post('http://evil.example/getrun', 'y/init?', 'duo'), {
    status: 200,
    text: '{}',
  });
  assert.equal(server.coordinator.run, undefined);
  // Any Host is fine for a request whose target is right.
  assert.equal((await post('/init', 'whatever:1', 'duo')).status, 200);
  assert.equal((server.coordinator.run as { name?: string } | undefined)?.name, 'duo');
});

test('path traversal in /init is a 400, also while a run is active', async () => {
  for (const name of ['../duo', '../../etc/passwd', 'a/b', '.hidden']) {
    const r = await call('/init', name);
    assert.equal(r.status, 400, `${name}: ${r.text}`);
    assert.match(r.text, /bad test name/);
  }
  await call('/init', 'duo');
  assert.equal((await call('/init', '../duo')).status, 400);
});

test('a poll for a name the script does not use ends at once and leaves no trace', async () => {
  await call('/init', 'duo');
  const r = await call('/next?peer=mallory&wait=20000');
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.text).type, 'end');
  const logs = server.coordinator.requireRun().timeline().logs;
  assert.ok(!logs.some((l) => l.peer === 'mallory'), JSON.stringify(logs));
});

test('/preparesummary?run= of an earlier run is refused and prepares nothing', async () => {
  const old = JSON.parse((await call('/init', 'duo')).text).id as string;
  await call('/resetrun');
  await call('/init', 'duo');
  const r = await call(`/preparesummary?run=${old}`, 'alice');
  assert.equal(r.status, 409);
  assert.match(r.text, /is not the current run/);
  assert.equal((await call('/getsummary')).text.trim(), '[]');
});
