import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { skipIfMissing } from '@isopeer/test-support';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { chromium } from 'playwright-core';
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

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

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

test('the HTML report is a picture of the run in headless Chromium', async (t) => {
  const noChromium = `${CHROMIUM} is not installed (apt-get install chromium); the HTML report was not checked in a browser`;
  if (skipIfMissing(t, existsSync(CHROMIUM) ? null : noChromium)) return;
  const file = join(dir, 'report.html');
  await writeFile(file, toHtml(report));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(`file://${file}`);
    const png = await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.deepEqual(requests, [], 'self-contained: no external requests');
    const lanes = await page.$$eval('svg.timeline g.lane', (gs) =>
      gs.map((g) => g.getAttribute('data-peer')),
    );
    assert.deepEqual(lanes, ['alice', 'bob', 'ghost']);
    const cmds = await page.$$eval('svg.timeline g.cmd', (gs) =>
      gs.map(
        (g) =>
          `${g.getAttribute('data-peer')}:${g.getAttribute('data-line')}:${g.getAttribute('data-status')}`,
      ),
    );
    assert.deepEqual(
      cmds.sort(),
      [
        'alice:2:OK',
        'alice:4:OK',
        'alice:6:OK',
        'alice:8:OK',
        'bob:10:FAILED',
        'bob:3:OK',
        'bob:5:OK',
        'bob:7:OK',
        'ghost:9:FAILED',
      ].sort(),
    );
    const dots = await page.locator('svg.timeline circle.event').count();
    assert.ok(dots >= 1, `event dots: ${dots}`);
    assert.equal(await page.locator('svg.timeline g.member[data-kind="joined"]').count(), 2);
    assert.equal(await page.locator('svg.timeline g.fault[data-kind="killed"]').count(), 1);
    assert.equal(
      await page.locator('svg.timeline rect.band[data-kind="down"][data-peer="bob"]').count(),
      1,
    );
    assert.equal(await page.locator('tr.case[data-status="FAILED"]').count(), 3);
    assert.equal(await page.locator('tr.case[data-status="OK"]').count(), 8);
    // Every bar is drawn inside the picture with a positive width.
    const boxes = await page.$$eval('svg.timeline g.cmd rect', (rs) =>
      rs.map((r) => (r as unknown as { getBBox(): { width: number } }).getBBox().width),
    );
    assert.ok(
      boxes.every((w) => w >= 3),
      `bar widths ${boxes}`,
    );
    assert.match((await page.locator('h1').textContent()) ?? '', /FAILED/);
  } finally {
    await browser.close();
  }
});
