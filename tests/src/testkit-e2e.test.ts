// `isopeer test` end to end: real runner process, real `isopeer chat` peers, real bootstrap and
// test servers (on loopback, or in network namespaces when run as root). The examples must pass;
// failures must be reported and exit 1.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { launchChromium, layoutProblems } from '../support/chromium.js';
import { isopeerCli, isopeerTest, repoRoot } from '../support/index.js';

const EXAMPLES = ['default', 'start', 'leave', 'crash', 'pause', 'partition'].map((n) =>
  join(repoRoot, 'examples/tests', `${n}.cmd`),
);

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'testkit-e2e-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Peer processes still alive that were started against one of the test servers in `out`. */
async function leftoverPeers(out: string): Promise<number[]> {
  const urls = [...out.matchAll(/test server (http:\/\/[\d.]+:\d+)/g)].map((m) => m[1]);
  assert.ok(urls.length > 0, 'the runner names its test servers');
  const pids: number[] = [];
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = (await readFile(`/proc/${p}/cmdline`, 'utf8')).split('\0');
      if (cmd.includes('chat') && urls.some((u) => cmd.includes(u))) pids.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

test('every example passes; JUnit, JSON and HTML agree; no peer is left running', async (t) => {
  const junit = join(dir, 'examples.xml');
  const json = join(dir, 'examples.json');
  const html = join(dir, 'examples.html');
  const r = await isopeerTest([
    ...EXAMPLES,
    '--junit',
    junit,
    '--json',
    json,
    '--report',
    html,
    '--out',
    join(dir, 'examples-out'),
  ]);
  assert.equal(r.code, 0, r.out);
  for (const n of ['default', 'start', 'leave', 'crash', 'pause', 'partition']) {
    assert.match(
      r.out,
      new RegExp(`^PASSED +${n} \\(.*\\) {2}\\d+ passed {2}`, 'm'),
      `${n} passed`,
    );
  }
  assert.match(
    r.out,
    /^ {2}OK +L1 +alice +init +\(\d+/m,
    'live progress: status, line, peer, command, duration',
  );
  assert.deepEqual(await leftoverPeers(r.out), [], 'every peer process was stopped');

  const xml = await readFile(junit, 'utf8');
  assert.equal(XMLValidator.validate(xml), true);
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (n) => n === 'testcase' || n === 'testsuite',
  }).parse(xml);
  const report = JSON.parse(await readFile(json, 'utf8'));
  assert.equal(report.ok, true);
  assert.equal(doc.testsuites.testsuite.length, 6);
  doc.testsuites.testsuite.forEach(
    (suite: { name: string; testcase: { name: string; failure?: unknown }[] }, i: number) => {
      const s = report.scripts[i];
      assert.equal(suite.name, s.name);
      assert.equal(
        suite.testcase.length,
        s.cases.length,
        `${s.name}: one testcase per command/event`,
      );
      const lines = s.cases.filter((c: { kind: string }) => c.kind === 'command').length;
      const events = s.cases.filter((c: { kind: string }) => c.kind === 'event').length;
      assert.equal(suite.testcase.filter((c) => c.name.startsWith('line ')).length, lines);
      assert.equal(suite.testcase.filter((c) => c.name.startsWith('event: ')).length, events);
      assert.ok(suite.testcase.every((c) => c.failure === undefined));
    },
  );
  const def = report.scripts[0];
  assert.equal(def.cases.filter((c: { kind: string }) => c.kind === 'command').length, 12);
  assert.equal(def.cases.filter((c: { kind: string }) => c.kind === 'event').length, 6);

  const browser = await launchChromium(t);
  if (!browser) return;
  try {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.goto(`file://${html}`);
    await page.locator('svg.timeline').first().waitFor();
    await page.screenshot({ path: join(dir, 'examples.png'), fullPage: true });
    const crash = page.locator('section.script[data-script="crash"]');
    assert.deepEqual(
      await crash.locator('g.lane').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-peer'))),
      ['alice', 'bob', 'charly', '@runner'],
    );
    assert.equal(await crash.locator('g.fault[data-kind="killed"]').count(), 1);
    assert.equal(await crash.locator('rect.band[data-kind="down"][data-peer="alice"]').count(), 1);
    assert.equal(await crash.locator('details.log').count(), 3, "each peer's last output lines");
    const partition = page.locator('section.script[data-script="partition"]');
    assert.equal(
      await partition.locator('rect.band[data-kind="cut"]').count(),
      2,
      'both ends of the cut link',
    );
    const pause = page.locator('section.script[data-script="pause"]');
    assert.equal(await pause.locator('rect.band[data-kind="frozen"][data-peer="bob"]').count(), 1);
    assert.ok(
      (await crash.locator('g.member[data-kind="failed"]').count()) >= 2,
      'survivors saw alice fail',
    );
    assert.ok((await crash.locator('g.member[data-kind="joined"]').count()) >= 2);
    assert.equal(await page.locator('g.cmd[data-status="FAILED"]').count(), 0);
    assert.equal(await page.locator('section.script').count(), 6);
    assert.equal(await page.locator('nav.toc a.script-link').count(), 6);
    // The real report, wide and narrow: no text box overlaps another or sticks out.
    assert.deepEqual(await layoutProblems(page), []);
    await page.setViewportSize({ width: 390, height: 844 });
    // Drawn again for the new width (the svg's own width attribute follows).
    await page.waitForFunction(
      () => Number(document.querySelector('svg.timeline')!.getAttribute('width')) < 400,
    );
    assert.deepEqual(await layoutProblems(page), []);
  } finally {
    await browser.close();
  }
});

test('a failing script exits 1 and names its failed lines', async () => {
  const file = join(dir, 'failing.cmd');
  await writeFile(
    file,
    'alice init\nbob init\nalice testfilter messagesView 1 "<bob> hello world"\nbob nosuchcommand\nbob msg hello wrld\n',
  );
  const json = join(dir, 'failing.json');
  const r = await isopeerTest([file, '--settle', '500ms', '--json', json]);
  assert.equal(r.code, 1, r.out);
  // Live, then once more among the failures at the end, with what the peer showed instead.
  assert.equal(r.out.match(/^ {2}FAILED +L4 +bob +nosuchcommand/gm)?.length, 2, r.out);
  const recap = r.out.slice(r.out.indexOf('\nFailures:\n'));
  assert.match(
    recap,
    /^ {2}FAILED +alice expected 1 line starting "<bob> hello world", saw 0; closest: "<bob> hello wrld"$/m,
  );
  assert.doesNotMatch(recap, /^ {2}OK/m, 'only failures are repeated');
  assert.match(r.out, /^FAILED: 1 script, 4 passed, 2 failed, 0 cancelled, /m);
  const report = JSON.parse(await readFile(json, 'utf8'));
  assert.deepEqual(
    report.scripts[0].cases
      .filter((c: { status: string }) => c.status === 'FAILED')
      .map((c: { peer: string; test: string }) => `${c.peer} ${c.test}`),
    ['bob nosuchcommand', 'alice messagesView 1 <bob> hello world'],
  );
});

test('a peer killed while its line is pending: that line FAILS (at the latest at the deadline), the run finishes', async () => {
  const file = join(dir, 'suicide.cmd');
  // bob's own shell kills him (SIGKILL to its parent) in the middle of his line.
  await writeFile(
    file,
    '@deadline 3s\nalice init\nbob init\nbob shell sh -c "kill -9 $PPID; sleep 5"\nalice msg still here\n',
  );
  const json = join(dir, 'suicide.json');
  const r = await isopeerTest([file, '--settle', '500ms', '--json', json]);
  assert.equal(r.code, 1, r.out);
  const report = JSON.parse(await readFile(json, 'utf8'));
  const cases = report.scripts[0].cases as {
    peer: string;
    test: string;
    status: string;
    comment?: string;
    durationMs: number;
  }[];
  assert.deepEqual(
    cases.map((c) => `${c.peer} ${c.status}`),
    ['alice OK', 'bob OK', 'bob FAILED', 'alice OK'],
  );
  // The runner saw bob's process end, so his pending line failed then, not at the deadline.
  assert.equal(cases[2].comment, 'bob is not running (its process ended: killed by SIGKILL)');
  assert.ok(cases[2].durationMs < 3000, `failed before the deadline (${cases[2].durationMs} ms)`);
  assert.match(r.out, /! bob exited on its own/);
});

test('--grep runs only matching scripts; --bail stops at the first failure, the rest cancelled', async () => {
  const bailing = join(dir, 'bailing.cmd');
  const other = join(dir, 'other.cmd');
  await writeFile(bailing, 'alice init\nalice nosuchcommand\nalice msg never\n');
  await writeFile(other, 'zed init\n');
  const r = await isopeerTest([other, bailing, '--grep', '^bail', '--bail', '--settle', '500ms']);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /^--grep \^bail: running 1 of 2 scripts$/m);
  assert.doesNotMatch(r.out, /zed|other\.cmd/);
  assert.match(r.out, /^bail: bailing line 2 failed; stopping \(--bail\)$/m);
  assert.match(r.out, /^ {2}CANCELLED L3 +alice +msg never {2}- not reached$/m);
  assert.match(r.out, /^FAILED: 1 script, 1 passed, 1 failed, 1 cancelled, /m);
});

test('unusable scripts exit 2 before anything starts, naming file and line', async () => {
  const file = join(dir, 'typo.cmd');
  await writeFile(file, 'alice init\nalice testfilter messagesView lots <bob> hi\n');
  const r = await isopeerTest([file]);
  assert.equal(r.code, 2);
  assert.match(r.out, /typo\.cmd:2: testfilter: bad count "lots"/);
  const fine = join(dir, 'fine.cmd');
  await writeFile(fine, 'alice init\n');
  const badGrep = await isopeerTest([fine, '--grep', '(']);
  assert.equal(badGrep.code, 2);
  assert.match(badGrep.out, /--grep: Invalid regular expression/);
  const noMatch = await isopeerTest([fine, '--grep', 'nothing-like-it']);
  assert.equal(noMatch.code, 2);
  assert.match(noMatch.out, /--grep nothing-like-it: no script matches/);
  const missing = await isopeerTest([join(dir, 'nope.cmd')]);
  assert.equal(missing.code, 2);
  assert.match(missing.out, /no such script: .*nope\.cmd/);
});

test('Ctrl-C stops every peer, still reports, and exits 130', async () => {
  const file = join(dir, 'interrupted.cmd');
  await writeFile(file, 'alice init\nalice testwait messagesView 1 "<nobody> speaks" 25s\n');
  const json = join(dir, 'interrupted.json');
  const child = spawn(process.execPath, [isopeerCli, 'test', file, '--json', json], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  const initDone = new Promise<void>((resolve) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (/OK +L1 +alice +init/.test(out)) resolve();
    });
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  await initDone;
  const t0 = Date.now();
  child.kill('SIGINT');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 130, out);
  assert.ok(Date.now() - t0 < 10_000, 'stopped promptly');
  assert.deepEqual(await leftoverPeers(out), []);
  const report = JSON.parse(await readFile(json, 'utf8'));
  assert.deepEqual(
    report.scripts[0].cases.map(
      (c: { status: string; result: string }) => `${c.status} ${c.result}`,
    ),
    ['OK completed', 'CANCELLED did not finish'],
  );
  assert.match(out, /^CANCELLED: 1 script, 1 passed, 0 failed, 1 cancelled, /m);
});
