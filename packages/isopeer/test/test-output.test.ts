// What `isopeer test` prints (issue 15, part 6), driven by a real TestRunner with peer processes
// (the testkit's fake peer: a real Console and TestClient, no chat): failures repeated at the
// end, near misses for failed expectations, cancelled lines, settle progress, --bail.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadScripts, type RunnerOptions, TestRunner } from '@isopeer/testkit';
import {
  bailOnFailure,
  explainFailures,
  formatFinal,
  showProgress,
} from '../src/commands/test-output.js';

const FAKE_PEER = fileURLToPath(
  new URL('../../../testkit/dist/test/fake-peer-main.js', import.meta.url),
);
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isopeer-test-output-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the scripts (name → text) as `isopeer test` does and returns everything it printed. */
async function run(
  scripts: Record<string, string>,
  extra: Partial<RunnerOptions> & { bail?: boolean; settleTickMs?: number } = {},
  onRunner?: (r: TestRunner, abort: AbortController) => void,
) {
  const files: string[] = [];
  for (const [name, text] of Object.entries(scripts)) {
    const file = join(dir, `${name}.cmd`);
    await writeFile(file, text);
    files.push(file);
  }
  const lines: string[] = [];
  const out = (s: string) => lines.push(s);
  const aborter = new AbortController();
  const runner = new TestRunner({
    scripts: files,
    outDir: join(dir, 'out'),
    settleMs: 3000,
    stopGraceMs: 2000,
    signal: aborter.signal,
    peerCommand: ({ peer, scriptName, testServerUrl }) => ({
      command: process.execPath,
      args: [FAKE_PEER, peer, scriptName, testServerUrl],
    }),
    ...extra,
  });
  showProgress(runner, {
    out,
    settleMs: 3000,
    settleTickMs: extra.settleTickMs,
    signal: aborter.signal,
  });
  if (extra.bail) {
    bailOnFailure(runner, (why) => {
      out(`bail: ${why}`);
      aborter.abort();
    });
  }
  const started = new Set<string>();
  runner.on('script-start', ({ file }) => started.add(file));
  onRunner?.(runner, aborter);
  const report = await runner.run();
  const live = lines.length;
  const notRun = (await loadScripts(files)).filter((l) => !started.has(l.file));
  const explained = await explainFailures(report, runner.outDir);
  const final = formatFinal(report, { explained, notRun });
  return { report, live: lines.slice(0, live), final };
}

test('a green run prints one summary line per script and the totals, no failure list', async () => {
  const { final } = await run({
    one: 'alice init\nalice say hi\n',
    two: 'bob init\n',
  });
  assert.match(final[0], /^PASSED {4}one \(.*one\.cmd\) {2}2 passed {2}\d/);
  assert.match(final[1], /^PASSED {4}two \(.*two\.cmd\) {2}1 passed {2}\d/);
  assert.equal(final[2], '');
  assert.match(final[3], /^PASSED: 2 scripts, 3 passed, 0 failed, 0 cancelled, /);
  assert.equal(final.length, 4, final.join('\n'));
});

test('only failures are repeated; a failed expectation shows expected, seen and closest lines', async () => {
  const { final, report } = await run({
    miss: [
      'alice init',
      'alice testfilter messagesView 1 <bob> hello',
      'alice testfilter messagesView >=2 /^<carol> (hi|yo)$/',
      'alice say <bob> helo',
      'alice say <bob> hallo there',
      'alice say something else entirely',
      'alice say <carol> hi',
      'alice nosuchcommand',
    ].join('\n'),
  });
  assert.equal(report.failures, 3);
  const text = final.join('\n');
  assert.match(final[0], /^FAILED {4}miss .* {2}7 passed, 3 failed {2}/);
  const recap = final.slice(final.indexOf('Failures:'));
  assert.ok(recap.length > 0, text);
  // Passed lines are not repeated.
  assert.ok(!recap.some((l) => /\binit\b/.test(l)), text);
  assert.ok(
    recap.some((l) => /^ {2}FAILED {4}L8 {4}alice {6}nosuchcommand .*- /.test(l)),
    text,
  );
  assert.ok(
    recap.includes(
      '  FAILED    alice expected 1 line starting "<bob> hello", saw 0; closest: "message: <bob> helo", "message: <bob> hallo there"',
    ),
    text,
  );
  assert.ok(
    recap.includes(
      '  FAILED    alice expected at least 2 lines matching /^<carol> (hi|yo)$/, saw 1; closest: "message: <carol> hi"',
    ),
    text,
  );
  assert.match(final.at(-1)!, /^FAILED: 1 script, 7 passed, 3 failed, 0 cancelled, /);
});

test('lines never reached after an abort (Ctrl-C) are cancelled, not failed', async () => {
  const { report, final } = await run(
    {
      stopped:
        'alice init\nalice testfilter messagesView 1 never\nalice hang\nalice say a\nalice say b\n',
      after: 'bob init\n',
    },
    {},
    (runner, aborter) => {
      runner.on('line-start', (_s, l) => {
        if (l.command === 'hang') setTimeout(() => aborter.abort(), 200);
      });
    },
  );
  const s = report.scripts[0];
  assert.deepEqual(
    s.cases.map((c) => `${c.test}: ${c.status}`),
    [
      'init: OK',
      'testfilter messagesView 1 never: OK',
      'hang: CANCELLED',
      'say a: CANCELLED',
      'say b: CANCELLED',
      'messagesView 1 never: CANCELLED',
    ],
  );
  assert.equal(s.failures, 0);
  assert.equal(report.scripts.length, 1, 'the second script was not started');
  const text = final.join('\n');
  assert.match(final[0], /^CANCELLED stopped .* {2}2 passed, 4 cancelled/);
  assert.match(final[1], /^CANCELLED after .*not started \(1 lines\)/);
  assert.match(text, /^Cancelled:$/m);
  assert.match(
    text,
    /^ {2}CANCELLED alice expected 1 line starting "never", saw 0 before the run was stopped$/m,
  );
  assert.match(text, /^ {2}CANCELLED L5 {4}alice {6}say b {2}- not reached$/m);
  assert.match(final.at(-1)!, /^CANCELLED: 2 scripts, 2 passed, 0 failed, 5 cancelled, /);
});

test('the settle wait after the last line shows progress: what is short, each event, the end', async () => {
  const { live, report } = await run(
    { settle: 'alice testfilter messagesView 1 late one\nalice later 1200 late one\n' },
    { settleTickMs: 300 },
  );
  assert.equal(report.ok, true);
  const from = live.findIndex((l) => l.includes('waiting up to'));
  assert.ok(from > 0, live.join('\n'));
  assert.match(
    live[from],
    /^ {2}\.\.\. {4}waiting up to 3\.00 s for expected events: 1 short: alice messagesView 1 late one \(0\/1\)$/,
  );
  const rest = live.slice(from + 1);
  assert.ok(
    rest.some((l) => /^ {2}\.\.\. {4}still waiting \(\d+ ms of 3\.00 s\): 1 short: /.test(l)),
    live.join('\n'),
  );
  const saw = rest.indexOf('  ·      alice saw "late one" (1/1)');
  assert.ok(saw >= 0, live.join('\n'));
  assert.match(rest[saw + 1], /^ {2}\.\.\. {4}every expected event seen after /);
});

test('--bail stops at the first failure: the rest is cancelled, later scripts are not started', async () => {
  const { report, final, live } = await run(
    {
      bailing: 'alice init\nalice nosuchcommand\nalice say a\nalice say b\n',
      next: 'bob init\n',
    },
    { bail: true },
  );
  assert.ok(live.includes('bail: bailing line 2 failed'), live.join('\n'));
  const s = report.scripts[0];
  assert.equal(s.failures, 1);
  assert.equal(s.cancelled, 2);
  assert.deepEqual(
    s.cases.map((c) => c.status),
    ['OK', 'FAILED', 'CANCELLED', 'CANCELLED'],
  );
  assert.equal(report.scripts.length, 1);
  assert.match(final.at(-1)!, /^FAILED: 2 scripts, 1 passed, 1 failed, 3 cancelled, /);
});
