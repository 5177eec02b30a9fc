import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { createTestServer, type RunningTestServer } from '../src/server.js';

let dir: string;
let server: RunningTestServer;

async function call(path: string, body?: string, method = 'POST') {
  const res = await fetch(server.url + path, {
    method,
    body: method === 'GET' ? undefined : (body ?? ''),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  // biome-ignore lint/suspicious/noExplicitAny: documents of many shapes; every test asserts their content
  return { status: res.status, text, json: json as any };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'testkit-server-'));
  await writeFile(join(dir, 'duo.cmd'), 'alice init\nbob init\n# done\nalice msg hi\n');
  await writeFile(join(dir, 'slow.cmd'), '@deadline 150ms\nghost init\nalice init\n');
  await writeFile(join(dir, 'faults.cmd'), 'alice init\n@kill alice\nalice init\n');
  await writeFile(join(dir, 'broken.cmd'), 'alice init\n@zap\n');
  server = await createTestServer({ dir, port: 0, peerStartupMs: 100 });
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await call('/resetrun');
});

test('/init loads NAME.cmd into a READY run; later /init answers the same run', async () => {
  const a = await call('/init', 'duo');
  assert.equal(a.status, 200);
  assert.equal(typeof a.json.id, 'string');
  assert.deepEqual(a.json, {
    id: a.json.id,
    name: 'duo',
    commands: ['alice init', 'bob init', 'alice msg hi'],
    currentpeer: 'alice',
    status: 'READY',
  });
  const b = await call('/init', 'duo');
  assert.equal(b.json.id, a.json.id);
  assert.deepEqual((await call('/getrun', undefined, 'GET')).json, a.json);
  assert.deepEqual((await call('/getcommand')).json, a.json);
  assert.equal((await call('/init', 'other')).status, 409);
});

test('omitempty: no run gives empty documents', async () => {
  assert.deepEqual((await call('/getrun')).json, {});
  assert.deepEqual((await call('/getresults')).json, {});
  assert.deepEqual((await call('/getevents')).json, []);
  assert.deepEqual((await call('/getsummary')).json, []);
});

test('long-poll hands each line to its peer as soon as the previous one completes', async () => {
  const run = (await call('/init', 'duo')).json;
  const first = await call('/next?peer=alice');
  assert.equal(first.json.type, 'line');
  assert.equal(first.json.command, 'init');
  assert.equal(first.json.line, 1);
  // bob waits while alice holds the current line.
  let bobAnswered = false;
  const bobPoll = call('/next?peer=bob&wait=20000').then((r) => {
    bobAnswered = true;
    return r;
  });
  // The server holds bob's poll until it has something for him.
  assert.equal((await call('/getrun')).json.currentpeer, 'alice');
  assert.equal(bobAnswered, false, "bob's poll is held while alice's line runs");
  const done = await call(
    '/complete',
    JSON.stringify({ id: run.id, seq: first.json.seq, peer: 'alice', status: 'OK' }),
  );
  assert.equal(done.status, 200);
  // Answered with his line (a poll that ran out would be a 204): pushed by alice's completion.
  const bob = await bobPoll;
  assert.equal(bob.status, 200);
  assert.equal(bob.json.command, 'init');
  // A late second answer for the same line is refused and changes nothing.
  const again = await call(
    '/complete',
    JSON.stringify({ id: run.id, seq: first.json.seq, peer: 'alice', status: 'FAILED' }),
  );
  assert.equal(again.status, 409);
  assert.match(again.text, /not the current line/);
  await call(
    '/complete',
    JSON.stringify({
      id: run.id,
      seq: bob.json.seq,
      peer: 'bob',
      status: 'FAILED',
      error: 'boom\nsecond line',
    }),
  );
  const last = await call(`/next?peer=alice&after=${first.json.seq}`);
  await call(
    '/complete',
    JSON.stringify({ id: run.id, seq: last.json.seq, peer: 'alice', status: 'OK' }),
  );
  assert.equal((await call('/getrun')).json.status, 'EMPTY');
  assert.equal((await call('/next?peer=bob')).json.type, 'end');
  assert.deepEqual((await call('/getresults')).json.CommandResults, [
    { peer: 'alice', status: 'OK', data: 'init' },
    { peer: 'bob', status: 'FAILED', data: 'init' },
    { peer: 'alice', status: 'OK', data: 'msg hi' },
  ]);
  const tl = (await call('/timeline')).json;
  assert.equal(tl.lines[1].comment, 'boom');
});

test('a poll for a run that was reset or replaced is told the run is over', async () => {
  const run = (await call('/init', 'duo')).json;
  assert.equal((await call(`/next?peer=alice&run=${run.id}`)).json.type, 'line');
  await call('/resetrun');
  assert.deepEqual((await call(`/next?peer=alice&run=${run.id}`)).json, {
    type: 'end',
    id: run.id,
  });
  assert.equal((await call('/next?peer=alice')).status, 409);
});

test('an idle poll answers 204 after its wait', async () => {
  await call('/init', 'duo');
  const r = await call('/next?peer=bob&wait=50');
  assert.equal(r.status, 204);
});

test('a line whose peer never connects FAILS after start-up allowance + deadline; the run moves on', async () => {
  const t0 = Date.now();
  await call('/init', 'slow');
  const alice = await call('/next?peer=alice&wait=5000');
  const waited = Date.now() - t0;
  assert.equal(alice.json.command, 'init');
  assert.ok(
    waited >= 240,
    `ghost's line held for 100 ms start-up + 150 ms deadline (${waited} ms)`,
  );
  const results = (await call('/getresults')).json.CommandResults;
  assert.deepEqual(results, [{ peer: 'ghost', status: 'FAILED', data: 'init' }]);
  const tl = (await call('/timeline')).json;
  assert.match(
    tl.lines[0].comment,
    /ghost never connected \(start-up 100 ms \+ line deadline 150 ms\)/,
  );
  // alice is connected now: her line has the plain deadline, counted from when it became current.
  assert.ok(
    alice.json.remainingMs <= 150 && alice.json.remainingMs > 0,
    `${alice.json.remainingMs}`,
  );
  const t1 = Date.now();
  const end = await call('/next?peer=alice&after=2&wait=5000');
  assert.equal(end.json.type, 'end');
  assert.ok(
    Date.now() - t1 < 5000,
    'answered when the deadline ended the run, not after the poll wait',
  );
  assert.match(
    (await call('/timeline')).json.lines[1].comment,
    /no result within the line deadline of 150 ms/,
  );
});

test("a starting peer's deadline begins when it first polls", async () => {
  await call('/init', 'slow');
  const run = server.coordinator.requireRun();
  // ghost polls (connects) before the start-up allowance is over: the full 150 ms start then.
  const ghost = await call('/next?peer=ghost&wait=1000');
  assert.equal(ghost.json.command, 'init');
  assert.ok(
    ghost.json.remainingMs > 140,
    `full deadline after connecting: ${ghost.json.remainingMs}`,
  );
  await call('/complete', JSON.stringify({ id: run.id, seq: 1, peer: 'ghost', status: 'OK' }));
  assert.equal(run.lines[0].status, 'OK');
});

test('original client flow: /putresult then /removecommand', async () => {
  const run = (await call('/init', 'duo')).json;
  const put = await call('/putresult', `${run.id} duo alice FAILED init with args`);
  assert.equal(put.status, 200);
  assert.equal(
    (await call('/getrun')).json.currentpeer,
    'alice',
    'putresult alone does not advance',
  );
  const rm1 = await call('/removecommand', 'alice');
  assert.deepEqual(rm1.json.commands, ['bob init', 'alice msg hi']);
  // Removing for a peer whose line is not first changes nothing.
  assert.deepEqual((await call('/removecommand', 'alice')).json.commands, [
    'bob init',
    'alice msg hi',
  ]);
  await call('/removecommand', 'bob');
  await call('/removecommand', 'alice');
  const doc = (await call('/getrun')).json;
  assert.deepEqual(doc, { id: run.id, name: 'duo', status: 'EMPTY' });
  assert.deepEqual(
    (await call('/getresults')).json.CommandResults.map((r: { status: string }) => r.status),
    ['FAILED', 'OK', 'OK'],
  );
});

test('events, summary and run files', async () => {
  const run = (await call('/init', 'duo')).json;
  const ev = (o: object) =>
    call('/putevent', JSON.stringify({ id: run.id, name: 'duo', source: 'messagesView', ...o }));
  assert.equal(
    (await ev({ peer: 'bob', filter: '<alice> hi', num_expected_events: 1 })).status,
    200,
  );
  assert.equal(
    (await ev({ peer: 'bob', filter: '<alice> hi', event: '<alice> hi', num_received_events: 1 }))
      .status,
    200,
  );
  await ev({ peer: 'alice', filter: '/^<bob>/', expected: '>=2', num_expected_events: 2 });
  await ev({ peer: 'alice', filter: '/^<bob>/', event: '<bob> one' });
  const events = (await call('/getevents')).json;
  assert.deepEqual(events, [
    {
      id: run.id,
      name: 'duo',
      peer: 'bob',
      source: 'messagesView',
      filter: '<alice> hi',
      event: '<alice> hi',
      num_expected_events: 1,
      num_received_events: 1,
    },
    {
      id: run.id,
      name: 'duo',
      peer: 'alice',
      source: 'messagesView',
      filter: '/^<bob>/',
      event: '<bob> one',
      num_expected_events: 2,
      num_received_events: 1,
      expected: '>=2',
    },
  ]);
  const bobSummary = (await call('/preparesummary', 'bob')).json;
  assert.deepEqual(bobSummary, [
    {
      id: run.id,
      name: 'duo',
      peer: 'bob',
      status: 'OK',
      kind: 'event',
      test: 'messagesView 1 <alice> hi',
      result: 'received 1, expected 1',
      comment: '<alice> hi',
    },
  ]);
  const all = (await call('/preparesummary')).json;
  assert.equal(all.length, 2);
  const aliceEvent = all.find((e: { peer: string }) => e.peer === 'alice');
  assert.equal(aliceEvent.status, 'FAILED');
  assert.deepEqual((await call('/getsummary')).json, all);
  for (const f of ['testRun.json', 'testEventFilters.json', 'testSummary.json', 'timeline.json']) {
    JSON.parse(await readFile(join(dir, run.id, f), 'utf8'));
  }
  assert.deepEqual(JSON.parse(await readFile(join(dir, run.id, 'testSummary.json'), 'utf8')), all);
});

test('bad input: 400 with one line, state intact', async () => {
  const run = (await call('/init', 'duo')).json;
  const bad: [string, string, RegExp][] = [
    ['/putevent', 'not json', /body is not JSON/],
    ['/putevent', '[1]', /must be a JSON object/],
    [
      '/putevent',
      JSON.stringify({ peer: 'bob', source: 'messagesView' }),
      /missing field "filter"/,
    ],
    [
      '/putevent',
      JSON.stringify({ peer: 'bob', source: 'm', filter: 'x', num_expected_events: -1 }),
      /non-negative integer/,
    ],
    [
      '/putevent',
      JSON.stringify({ peer: 'bob', source: 'm', filter: 'x', expected: '>>1' }),
      /bad count/,
    ],
    ['/putevent', JSON.stringify({ peer: 'b o b', source: 'm', filter: 'x' }), /bad peer name/],
    ['/putresult', 'too few', /ID NAME PEER STATUS/],
    ['/putresult', `${run.id} duo alice MAYBE init`, /STATUS must be OK or FAILED/],
    [
      '/complete',
      JSON.stringify({ id: run.id, peer: 'alice', status: 'OK' }),
      /missing field "seq"/,
    ],
    [
      '/complete',
      JSON.stringify({ id: run.id, seq: 1, peer: 'alice', status: 'SURE' }),
      /"status"/,
    ],
    ['/putlog', JSON.stringify({ peer: 'alice', kind: 'exploded' }), /field "kind"/],
    ['/next?peer=alice&wait=abc', '', /wait must be an integer/],
    ['/next', '', /bad peer name/],
    ['/init', '   ', /body must be the test name/],
  ];
  for (const [path, body, re] of bad) {
    const r = await call(path, body);
    assert.equal(r.status, 400, `${path} ${body}: ${r.text}`);
    assert.match(r.text, re);
    assert.equal(r.text.trim().split('\n').length, 1);
  }
  assert.equal((await call('/nope')).status, 404);
  assert.equal((await call('/init', 'missing')).status, 409, 'duo still active');
  assert.deepEqual((await call('/getrun')).json.commands.length, 3);
  await call('/resetrun');
  const missing = await call('/init', 'missing');
  assert.equal(missing.status, 404);
  assert.match(missing.text, /no test script missing\.cmd/);
  const broken = await call('/init', 'broken');
  assert.equal(broken.status, 400);
  assert.match(broken.text, /broken\.cmd:2: unknown directive @zap/);
  const del = await fetch(`${server.url}/getrun`, { method: 'DELETE' });
  assert.equal(del.status, 405);
  const huge = await call('/putevent', 'x'.repeat(2 << 20)).catch(() => ({ status: 413 }));
  assert.equal(huge.status, 413);
  assert.equal((await call('/ping')).status, 404);
});

test('runner lines fail at once when no runner is attached', async () => {
  await call('/init', 'faults');
  const first = await call('/next?peer=alice');
  const run = (await call('/getrun')).json;
  await call(
    '/complete',
    JSON.stringify({ id: run.id, seq: first.json.seq, peer: 'alice', status: 'OK' }),
  );
  const results = (await call('/getresults')).json.CommandResults;
  assert.deepEqual(results[1], { peer: '@runner', status: 'FAILED', data: '@kill alice' });
  assert.equal((await call('/getrun')).json.currentpeer, 'alice');
});

test('control lines reach the peer out of band and report back', async () => {
  const run = (await call('/init', 'duo')).json;
  const live = server.coordinator.requireRun();
  const pending = live.control('bob', 'testpartition alice on', 5000);
  const d = (await call('/next?peer=bob')).json;
  assert.equal(d.type, 'control');
  assert.equal(d.command, 'testpartition alice on');
  await call(
    '/complete',
    JSON.stringify({ id: run.id, seq: d.seq, peer: 'bob', type: 'control', status: 'OK' }),
  );
  assert.deepEqual(await pending, { status: 'OK' });
  const lost = await live.control('bob', 'x', 30);
  assert.equal(lost.status, 'FAILED');
  assert.match(lost.error ?? '', /did not answer/);
});
