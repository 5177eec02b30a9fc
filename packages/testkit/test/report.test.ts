import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { toHtml } from '../src/report/html.js';
import { toJUnit } from '../src/report/junit.js';
import {
  buildScriptReport,
  buildTestReport,
  type TestReport,
  toJsonReport,
} from '../src/report/model.js';
import { createTestServer, type RunningTestServer } from '../src/server.js';
import { fakePeers } from './fake-peers.js';

let dir: string;
let server: RunningTestServer;
let report: TestReport;

const SCRIPT = `@deadline 2s
alice init
bob init
alice testfilter messagesView 1 <bob> hello
bob testfilter messagesView 2 <alice> & "quotes" <here>
alice msg hello
bob msg hello
alice msg & "quotes" <here>
ghost init
bob crash
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'testkit-report-'));
  server = await createTestServer({ dir, port: 0, peerStartupMs: 100 });
  await writeFile(join(dir, 'pic.cmd'), SCRIPT);
  const peers = fakePeers(['alice', 'bob'], server.url, 'pic', 5);
  try {
    await Promise.all(peers.map((p) => p.client.ready));
    const run = server.coordinator.requireRun();
    await new Promise<void>((resolve) => (run.done ? resolve() : run.once('lines-done', resolve)));
    await run.whenSettled(1000, 20);
    await Promise.all(peers.map((p) => p.client.flush()));
    // A fault as the runner logs it, so the picture shows one.
    run.putLog({ peer: 'bob', kind: 'killed', text: 'SIGKILL by @kill bob' });
    report = buildTestReport(
      [buildScriptReport(run.timeline(), 'examples/pic.cmd')],
      run.startedAt,
    );
  } finally {
    await Promise.all(peers.map((p) => p.close()));
  }
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

test('the report model has one case per line and per filter, with failures', () => {
  const s = report.scripts[0];
  assert.equal(s.cases.filter((c) => c.kind === 'command').length, 9);
  assert.equal(s.cases.filter((c) => c.kind === 'event').length, 2);
  assert.deepEqual(
    s.cases.filter((c) => c.status === 'FAILED').map((c) => `${c.peer} ${c.test}`),
    ['ghost init', 'bob crash', 'bob messagesView 2 <alice> & quotes <here>'],
  );
  assert.equal(report.ok, false);
  assert.equal(report.failures, 3);
});

test('JUnit XML is well-formed and lists one testcase per command and event; JSON matches it', () => {
  const xml = toJUnit(report);
  assert.equal(XMLValidator.validate(xml), true);
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (n) => n === 'testcase' || n === 'testsuite',
  }).parse(xml);
  const suite = doc.testsuites.testsuite[0];
  const cases = suite.testcase as {
    classname: string;
    name: string;
    failure?: { message: string };
  }[];
  const json = JSON.parse(toJsonReport(report));
  const jcases = json.scripts[0].cases as {
    peer: string;
    kind: string;
    test: string;
    status: string;
    line?: number;
  }[];
  assert.equal(cases.length, jcases.length);
  assert.equal(Number(suite.tests), jcases.length);
  assert.equal(Number(suite.failures), jcases.filter((c) => c.status === 'FAILED').length);
  assert.equal(Number(doc.testsuites.failures), json.failures);
  cases.forEach((c, i) => {
    const j = jcases[i];
    assert.equal(c.classname, `pic.${j.peer}`);
    assert.equal(c.name, j.kind === 'command' ? `line ${j.line}: ${j.test}` : `event: ${j.test}`);
    assert.equal(c.failure !== undefined, j.status === 'FAILED', c.name);
  });
  assert.equal(json.scripts[0].timeline, undefined, 'the JSON leaves the timeline out');
  assert.ok(
    cases.some((c) => c.name === 'event: messagesView 2 <alice> & quotes <here>'),
    'escaped and restored',
  );
});

test('escaping survives control characters', () => {
  const bad = structuredClone(report);
  bad.scripts[0].cases[0].test = 'evil \u0000\u0007 ]]> </testcase>';
  assert.equal(XMLValidator.validate(toJUnit(bad)), true);
});

test('the HTML page: table of contents, first-failure link, timeline data, nothing escapes its element', () => {
  const bad = structuredClone(report);
  bad.scripts[0].timeline.lines[1].command = 'msg </script><script>alert(1)</script>';
  const html = toHtml(bad);
  assert.equal(html.match(/<script/g)?.length, 2, 'the data block and the drawing script only');
  assert.match(html, /<nav class="toc"[\s\S]*<a class="script-link" href="#s0">pic<\/a>/);
  const first = /<a class="first-failure global" href="#(s0-case\d+)">/.exec(html)?.[1];
  assert.ok(first, 'a link to the first failure');
  assert.match(html, new RegExp(`<tr id="${first}" class="case failed" data-status="FAILED"`));
  const data = JSON.parse(
    /<script type="application\/json" class="tl-data">(.*?)<\/script>/s.exec(html)![1],
  );
  assert.deepEqual(
    data.lanes.map((l: { id: string }) => l.id),
    ['alice', 'bob', 'ghost'],
  );
  assert.equal(data.bars.length, 9);
  assert.equal(data.bars[1].label.startsWith('msg </script>'), true, 'restored by JSON.parse');
  assert.equal(data.bands.filter((b: { kind: string }) => b.kind === 'down').length, 1);
  assert.ok(data.settle.e >= data.settle.s, 'the settle wait');
});
