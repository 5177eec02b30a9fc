import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Console } from '@isopeer/console';
import { attachTestClient, membershipKind } from '../src/client.js';
import { createTestServer, type RunningTestServer } from '../src/server.js';
import { type FakePeer, fakePeers } from './fake-peers.js';

let dir: string;
let server: RunningTestServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'testkit-client-'));
  server = await createTestServer({ dir, port: 0, peerStartupMs: 200 });
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Loads `text` as NAME.cmd, runs it with in-process peers, returns when lines and events settle. */
async function runScript(name: string, text: string, names: string[], delayMs = 0) {
  await writeFile(join(dir, `${name}.cmd`), text);
  await fetch(`${server.url}/resetrun`, { method: 'POST' });
  const peers = fakePeers(names, server.url, name, delayMs);
  try {
    await Promise.all(peers.map((p) => p.client.ready));
    const run = server.coordinator.requireRun();
    await new Promise<void>((resolve) => (run.done ? resolve() : run.once('lines-done', resolve)));
    await run.whenSettled(2000, 20);
    await Promise.all(peers.map((p) => p.client.flush()));
    const summary = await server.coordinator.prepareSummary();
    return { run, summary, peers };
  } finally {
    await Promise.all(peers.map((p: FakePeer) => p.close()));
  }
}

const DEFAULT = `alice init
bob init
charly init
alice testfilter messagesView 1 <bob> test
alice testfilter messagesView 1 <charly> test
bob testfilter messagesView 1 <alice> test
bob testfilter messagesView 1 <charly> test
charly testfilter messagesView 1 <alice> test
charly testfilter messagesView 1 <bob> test
alice msg test
bob msg test
charly msg test
`;

test('every command and every filter of default.cmd is OK', async () => {
  const { summary, run } = await runScript('default', DEFAULT, ['alice', 'bob', 'charly']);
  const commands = summary.filter((e) => e.kind === 'command');
  const events = summary.filter((e) => e.kind === 'event');
  assert.equal(commands.length, 12);
  assert.equal(events.length, 6);
  assert.deepEqual(
    summary.filter((e) => e.status !== 'OK'),
    [],
  );
  const tl = run.timeline();
  assert.equal(tl.events.length, 6);
  // Each peer saw the two others join.
  assert.equal(tl.logs.filter((l) => l.kind === 'joined').length, 6);
});

test('filters count exactly: a second matching line makes an exact filter FAIL', async () => {
  const { summary } = await runScript(
    'exact',
    'alice testfilter messagesView 1 <bob> hi\nalice testfilter messagesView >=2 /^<bob>/\nbob msg hi\nbob msg hi\n',
    ['alice', 'bob'],
  );
  const ev = summary.filter((e) => e.kind === 'event');
  assert.deepEqual(
    ev.map((e) => [e.test, e.status, e.result]),
    [
      ['messagesView 1 <bob> hi', 'FAILED', 'received 2, expected 1'],
      ['messagesView >=2 /^<bob>/', 'OK', 'received 2, expected >=2'],
    ],
  );
});

test('testwait blocks until the line arrives (delivered late), and fails on timeout', async () => {
  const { summary } = await runScript(
    'wait',
    'bob msg late\nalice testwait messagesView 1 "<bob> late" 5s\nalice testwait messagesView 1 <nobody> 150ms\nalice testwait messagesView 0 <bob>\n',
    ['alice', 'bob'],
    80,
  );
  assert.deepEqual(
    summary.map((e) => [e.peer, e.test, e.status]),
    [
      ['bob', 'msg late', 'OK'],
      ['alice', 'testwait messagesView 1 "<bob> late" 5s', 'OK'],
      ['alice', 'testwait messagesView 1 <nobody> 150ms', 'FAILED'],
      ['alice', 'testwait messagesView 0 <bob>', 'FAILED'],
    ],
  );
  assert.match(summary[2].comment ?? '', /saw 0 matching lines within 150 ms/);
  assert.match(summary[3].comment ?? '', /saw 1 matching lines, expected 0/);
});

test("the test commands' own output never counts as an event", async () => {
  const { summary } = await runScript(
    'own',
    'alice testfilter messagesView 0 /filter|received/\nalice testfilters\nalice testlocalfilters\nalice testrun\nalice crash\n',
    ['alice'],
  );
  assert.deepEqual(
    summary.map((e) => [e.kind, e.test, e.status]),
    [
      ['command', 'testfilter messagesView 0 /filter|received/', 'OK'],
      ['command', 'testfilters', 'OK'],
      ['command', 'testlocalfilters', 'OK'],
      ['command', 'testrun', 'OK'],
      ['command', 'crash', 'FAILED'],
      ['event', 'messagesView 0 /filter|received/', 'OK'],
    ],
  );
  assert.match(summary[4].comment ?? '', /crashed on purpose/);
});

test('a peer that is gone while its line is pending: FAILED at the deadline, run completes', async () => {
  const t0 = Date.now();
  const { summary } = await runScript(
    'gone',
    '@deadline 2s\nalice init\nghost init\nalice msg still here\n',
    ['alice'],
  );
  assert.deepEqual(
    summary.map((e) => [e.peer, e.test, e.status]),
    [
      ['alice', 'init', 'OK'],
      ['alice', 'msg still here', 'OK'],
      ['ghost', 'init', 'FAILED'],
    ],
  );
  assert.ok(Date.now() - t0 < 5000);
});

test('the test group commands work interactively too', async () => {
  await writeFile(join(dir, 'inter.cmd'), 'alice init\nalice testsummaryprepare\n');
  await fetch(`${server.url}/resetrun`, { method: 'POST' });
  const [alice] = fakePeers(['alice'], server.url, 'inter');
  try {
    await alice.client.ready;
    await new Promise<void>((resolve) => alice.client.once('done', resolve));
    const r = await alice.console.execute('/testsummary');
    assert.ok(r.ok);
    assert.match(r.lines.map((l) => l.text).join('\n'), /OK\s+alice\s+command init/);
    const bad = await alice.console.execute('/testfilter messagesView many x');
    assert.equal(bad.ok, false);
    assert.match(bad.error ?? '', /bad count "many"/);
    assert.ok((await alice.console.execute('/testreset')).ok);
    assert.deepEqual(await (await fetch(`${server.url}/getrun`)).json(), {});
  } finally {
    await alice.close();
  }
});

test('without a runner, each peer prepares its own summary at the end: /getsummary is complete', async () => {
  await writeFile(join(dir, 'selfsum.cmd'), DEFAULT);
  await fetch(`${server.url}/resetrun`, { method: 'POST' });
  // Delivery after 50 ms: the last message arrives after the last line ended, so a peer that
  // prepared at once would miss it.
  const peers = fakePeers(['alice', 'bob', 'charly'], server.url, 'selfsum', 50);
  try {
    await Promise.all(peers.map((p) => new Promise<void>((r) => p.client.once('done', () => r()))));
    // 'done' comes after a peer's own /preparesummary (once its filters had their counts).
    // Nobody else asked: what /getsummary answers was prepared by the peers themselves.
    const summary = (await (await fetch(`${server.url}/getsummary`)).json()) as {
      peer: string;
      kind: string;
      status: string;
    }[];
    const per = (peer: string, kind: string) =>
      summary.filter((e) => e.peer === peer && e.kind === kind).length;
    for (const p of ['alice', 'bob', 'charly']) {
      assert.equal(per(p, 'command'), 4, `${p}: init, two testfilters, msg`);
      assert.equal(per(p, 'event'), 2, `${p}: both filters`);
    }
    assert.equal(summary.length, 18);
    assert.deepEqual(
      summary.filter((e) => e.status !== 'OK'),
      [],
    );
    const run = server.coordinator.requireRun();
    const file = JSON.parse(await readFile(join(dir, run.id, 'testSummary.json'), 'utf8'));
    assert.equal(file.length, 18, 'the run files hold the complete summary too');
  } finally {
    await Promise.all(peers.map((p) => p.close()));
  }
});

test('membership lines are classified for the report', () => {
  assert.equal(membershipKind('<joined> bob has joined'), 'joined');
  assert.equal(membershipKind('<left> bob has left'), 'left');
  assert.equal(membershipKind('<left> bob failed'), 'failed');
  assert.equal(membershipKind('<bob> <joined>'), undefined);
});

test('a client whose server disappears gives up after lostServerMs and says so', async () => {
  const own = await createTestServer({ dir, port: 0 });
  // zed waits behind ghost's line, which nobody runs, so his poll is pending when the server goes.
  await writeFile(join(dir, 'lost.cmd'), 'ghost init\nzed init\n');
  const console = new Console();
  const errors: string[] = [];
  console.on('line', (l) => {
    if (l.kind === 'error') errors.push(l.text);
  });
  const client = attachTestClient(console, {
    serverUrl: own.url,
    peerName: 'zed',
    scriptName: 'lost',
    lostServerMs: 300,
    pollWaitMs: 100,
  });
  try {
    await client.ready;
    const done = new Promise<void>((resolve) => client.once('done', resolve));
    await own.close();
    await done;
    assert.match(errors.at(-1) ?? '', /test server lost for 0\.3 s: .*giving up/);
  } finally {
    await client.close();
    await console.close();
  }
});
