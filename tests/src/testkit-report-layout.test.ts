// The HTML report in Chromium (issue 15, part 7), at 1400×1000 and 390×844: full width, no text
// box overlapping another or sticking out, every script reachable from the table of contents,
// a link to the first failure, zoom by episode button and by dragging, the settle wait and
// every kind of fault drawn (one-way partitions as arrows, unknown kinds generically).
// The fixture is a crowded run as the runner records it: a long start-up, bursts of short lines
// (the `10 11` case), a partition healed within 50 ms (`partitionedhealed`), membership marks
// bunched together, kernel faults of every kind.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  buildScriptReport,
  buildTestReport,
  type LineRecord,
  type LogKind,
  type LogRecord,
  type TestReport,
  type Timeline,
  toHtml,
} from '@isopeer/testkit';
import type { Page } from 'playwright-core';
import { launchChromium, layoutProblems } from '../support/chromium.js';

const T0 = 1_700_000_000_000;

function crowded(): Timeline {
  const lines: LineRecord[] = [];
  let seq = 0;
  const line = (
    peer: string,
    command: string,
    s: number,
    e: number,
    status: 'OK' | 'FAILED' = 'OK',
    comment?: string,
  ) => {
    seq++;
    lines.push({
      seq,
      lineNo: seq + 2,
      kind: peer === '@runner' ? 'runner' : 'peer',
      peer,
      command,
      text: peer === '@runner' ? command : `${peer} ${command}`,
      status,
      startedAt: T0 + s,
      endedAt: T0 + e,
      ...(comment ? { comment } : {}),
    });
  };
  line('alice', 'init', 0, 3800);
  line('bob', 'init', 3800, 4600);
  line('charly', 'init', 4600, 5400);
  // A burst of short lines, a few ms each.
  for (let i = 0; i < 12; i++) {
    const peer = ['alice', 'bob', 'charly'][i % 3];
    line(peer, `testfilter messagesView 1 "<x${i}> partition test"`, 5400 + i * 12, 5410 + i * 12);
  }
  line('@runner', '@partition alice bob', 5600, 5640);
  line('@runner', '@heal alice bob', 5650, 5690);
  line('alice', 'testwait messagesView 1 "<charly> after the partition is over" 20s', 5700, 6900);
  line('bob', 'msg hello', 6900, 6920, 'FAILED', 'bob could not reach alice');
  line('@runner', '@partition alice -> bob', 7000, 7030);
  line('@runner', '@loss charly 10%', 7500, 7520);
  line('@runner', '@heal charly', 8500, 8520);
  line('@runner', '@heal alice -> bob', 9000, 9020);
  line('@runner', '@isolate bob', 9500, 9520);
  line('@runner', '@rate alice 1mbit', 9600, 9610);
  line('@runner', '@heal bob', 10000, 10020);
  line('@runner', '@kill charly', 11000, 11010);
  line('@runner', '@start charly', 11500, 11510);
  line('charly', 'init', 11510, 12400);
  const logs: LogRecord[] = [];
  const log = (
    peer: string,
    kind: LogKind | string,
    text: string,
    t: number,
    fault?: LogRecord['fault'],
  ) => logs.push({ peer, kind: kind as LogKind, text, ts: T0 + t, ...(fault ? { fault } : {}) });
  for (const p of ['alice', 'bob', 'charly']) {
    log(p, 'started', `process of ${p} started`, 10);
    log(p, 'connected', `${p} asked for its first line`, 600);
  }
  for (const [i, who] of ['bob', 'charly', 'dave', 'eve', 'frank'].entries()) {
    log('alice', 'joined', `<joined> ${who} has joined`, 4650 + i * 15);
  }
  log('alice', 'partitioned', '@partition alice bob: link alice–bob cut', 5620, {
    kind: 'partition',
    from: 'alice',
    to: 'bob',
  });
  log('bob', 'partitioned', '@partition alice bob: link alice–bob cut', 5620, {
    kind: 'partition',
    from: 'alice',
    to: 'bob',
  });
  log('alice', 'healed', '@heal alice bob: link alice–bob restored', 5670, {
    kind: 'heal',
    from: 'alice',
    to: 'bob',
  });
  log('bob', 'healed', '@heal alice bob: link alice–bob restored', 5670, {
    kind: 'heal',
    from: 'alice',
    to: 'bob',
  });
  const oneWay = { kind: 'partition' as const, from: 'alice', to: 'bob', oneWay: true };
  log('alice', 'partitioned', '@partition alice -> bob', 7010, oneWay);
  log('bob', 'partitioned', '@partition alice -> bob', 7010, oneWay);
  log('charly', 'lossy', '@loss charly 10%', 7510, { kind: 'loss', peer: 'charly', percent: 10 });
  log('charly', 'healed', '@heal charly', 8510, { kind: 'heal', peer: 'charly' });
  log('alice', 'healed', '@heal alice -> bob', 9010, {
    kind: 'heal',
    from: 'alice',
    to: 'bob',
    oneWay: true,
  });
  log('bob', 'healed', '@heal alice -> bob', 9010, {
    kind: 'heal',
    from: 'alice',
    to: 'bob',
    oneWay: true,
  });
  log('bob', 'isolated', '@isolate bob', 9510, { kind: 'isolate', peer: 'bob' });
  log('alice', 'throttled', '@rate alice 1mbit', 9605, {
    kind: 'rate',
    peer: 'alice',
    rate: '1mbit',
  });
  log('bob', 'healed', '@heal bob', 10010, { kind: 'heal', peer: 'bob' });
  // A kind this report does not know yet: drawn generically with its name.
  log('bob', 'exploded', 'something new happened to bob', 10030);
  log('alice', 'left', '<left> charly failed', 11300);
  log('bob', 'failed', '<left> charly failed (dead)', 11320);
  log('charly', 'killed', '@kill charly: SIGKILL', 11005);
  log('charly', 'started', 'process of charly started (start 2)', 11505);
  log('charly', 'connected', 'charly asked for its first line', 11900);
  const events = [5900, 5905, 5910, 6800, 12450].map((t, i) => ({
    peer: ['alice', 'bob', 'charly', 'alice', 'bob'][i],
    source: 'messagesView',
    filter: `<x${i}> partition test`,
    text: `<x${i}> partition test`,
    ts: T0 + t,
  }));
  return {
    id: 'run-crowded',
    name: 'crowded',
    startedAt: T0,
    endedAt: T0 + 12400,
    lineDeadlineMs: 30_000,
    peers: ['alice', 'bob', 'charly'],
    lines,
    filters: events.map((e, i) => ({
      peer: e.peer,
      source: e.source,
      filter: e.filter,
      count: { min: 1, max: 1, text: '1' },
      received: i === 4 ? 2 : 1,
      lastEvent: e.text,
      registeredAt: T0 + 5400,
    })),
    events,
    logs,
  };
}

function small(name: string): Timeline {
  return {
    id: `run-${name}`,
    name,
    startedAt: T0,
    endedAt: T0 + 900,
    lineDeadlineMs: 30_000,
    peers: ['alice'],
    lines: [
      {
        seq: 1,
        lineNo: 1,
        kind: 'peer',
        peer: 'alice',
        command: 'init',
        text: 'alice init',
        status: 'OK',
        startedAt: T0,
        endedAt: T0 + 900,
      },
    ],
    filters: [],
    events: [],
    logs: [],
  };
}

let dir: string;
let file: string;
let report: TestReport;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'report-layout-'));
  report = buildTestReport(
    [
      buildScriptReport(small('first'), 'examples/first.cmd', T0 + 1000),
      buildScriptReport(crowded(), 'examples/crowded.cmd', T0 + 14_000),
      buildScriptReport(small('last'), 'examples/last.cmd', T0 + 1000),
    ],
    T0,
    T0 + 20_000,
  );
  file = join(dir, 'report.html');
  await writeFile(file, toHtml(report));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function open(page: Page): Promise<string[]> {
  const requests: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`file://${file}`);
  await page.locator('section[data-script="crowded"] svg.timeline').waitFor();
  assert.deepEqual(errors, [], 'no script errors');
  return requests;
}

for (const [width, height] of [
  [1400, 1000],
  [390, 844],
]) {
  test(`${width}×${height}: full width, no overlapping or cut text, scripts reachable, zoom`, async (t) => {
    const chromium = await launchChromium(t);
    if (!chromium) return;
    try {
      const page = await chromium.context.newPage();
      await page.setViewportSize({ width, height });
      const requests = await open(page);
      assert.deepEqual(requests, [], 'self-contained: no external requests');
      await page.screenshot({ path: join(dir, `report-${width}.png`), fullPage: true });
      assert.deepEqual(await layoutProblems(page), []);
      const crowdedSvg = page.locator('section[data-script="crowded"] svg.timeline');
      // Full width: the picture spans its section (the body has 16 px margins).
      const box = (await crowdedSvg.boundingBox())!;
      assert.ok(box.width >= width - 2 * 16 - 2, `picture ${box.width} px wide at ${width} px`);
      // Labels are placed, not dropped wholesale.
      const bars = await crowdedSvg.locator('g.cmd').count();
      const labelled = await crowdedSvg.locator('text.cmd-label').count();
      assert.equal(bars, 29);
      assert.ok(
        labelled >= (width > 1000 ? bars * 0.4 : 4),
        `${labelled} of ${bars} bars labelled`,
      );
      // Every kind of fault is drawn: one-way partition as an arrow, unknown kinds by name.
      assert.equal(
        await crowdedSvg.locator('g.link[data-kind="fault"][data-oneway="true"]').count(),
        1,
      );
      assert.equal(
        await crowdedSvg.locator('g.link[data-kind="fault"][data-oneway="false"]').count(),
        1,
      );
      assert.equal(await crowdedSvg.locator('g.link[data-kind="heal"]').count(), 2);
      for (const kind of ['lossy', 'isolated', 'throttled', 'cut', 'down']) {
        assert.ok((await crowdedSvg.locator(`rect.band[data-kind="${kind}"]`).count()) >= 1, kind);
      }
      assert.equal(await crowdedSvg.locator('g.fault[data-kind="exploded"]').count(), 1);
      assert.equal(await crowdedSvg.locator('g.fault[data-kind="killed"]').count(), 1);
      assert.equal(await crowdedSvg.locator('rect.settle').count(), 1, 'the settle wait is drawn');

      // Table of contents: one entry per script, each link scrolls its section into view.
      const links = page.locator('nav.toc a.script-link');
      assert.equal(await links.count(), await page.locator('section.script').count());
      for (let i = 0; i < (await links.count()); i++) {
        await links.nth(i).click();
        const id = (await links.nth(i).getAttribute('href'))!.slice(1);
        const top = await page.evaluate(
          (id) => document.getElementById(id)!.getBoundingClientRect().top,
          id,
        );
        assert.ok(top >= -1 && top < height, `section ${id} in view after its link (top ${top})`);
      }
      // The first failure: linked from the table of contents, it is a FAILED row.
      await page.locator('nav.toc a.first-failure.global').click();
      const target = await page.evaluate(() => {
        const row = document.getElementById(location.hash.slice(1));
        return { status: row?.getAttribute('data-status'), top: row?.getBoundingClientRect().top };
      });
      assert.equal(target.status, 'FAILED');
      assert.ok(target.top !== undefined && target.top >= -1 && target.top < height);

      // Zoom to the partition episode: its band gets most of the width, labels still clear.
      const section = page.locator('section[data-script="crowded"]');
      const cutBefore = (await section
        .locator('rect.band[data-kind="cut"][data-peer="alice"]')
        .first()
        .boundingBox())!;
      await section.locator('.tl-zoom button', { hasText: 'cut: alice, bob' }).first().click();
      const cutAfter = (await section
        .locator('rect.band[data-kind="cut"][data-peer="alice"]')
        .first()
        .boundingBox())!;
      assert.ok(
        cutAfter.width > Math.max(cutBefore.width * 4, box.width * 0.3),
        `${cutBefore.width} -> ${cutAfter.width}`,
      );
      assert.match((await section.locator('.tl-range').textContent()) ?? '', /^showing /);
      assert.deepEqual(await layoutProblems(page), []);
      // What lies outside the shown range has no label (the kill is at 11 s).
      assert.equal(await section.locator('text.fault-label', { hasText: 'killed' }).count(), 0);
      // Back to the whole run, then drag across the middle of the picture.
      await section.locator('.tl-zoom button', { hasText: 'whole run' }).click();
      assert.match((await section.locator('.tl-range').textContent()) ?? '', /^whole run/);
      const svgBox = (await section.locator('svg.timeline').boundingBox())!;
      const y = svgBox.y + 40;
      await page.mouse.move(svgBox.x + svgBox.width * 0.45, y);
      await page.mouse.down();
      await page.mouse.move(svgBox.x + svgBox.width * 0.6, y, { steps: 4 });
      await page.mouse.up();
      assert.match((await section.locator('.tl-range').textContent()) ?? '', /^showing /);
      assert.deepEqual(await layoutProblems(page), []);
      // Hovering a bar too short for its label shows its details.
      await section.locator('.tl-zoom button', { hasText: 'whole run' }).click();
      await section.locator('g.cmd[data-line="21"]').hover({ force: true });
      assert.equal(
        await section.locator('.tl-detail').textContent(),
        'line 21: bob msg hello — FAILED in 20 ms — bob could not reach alice',
      );
    } finally {
      await chromium.close();
    }
  });
}
