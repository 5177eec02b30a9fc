import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ScriptSyntaxError } from '../src/errors.js';
import { toJUnit } from '../src/report/junit.js';
import type { TestReport } from '../src/report/model.js';
import type { LineRecord } from '../src/run.js';
import { TestRunner } from '../src/runner.js';

const FAKE_PEER = fileURLToPath(new URL('./fake-peer-main.js', import.meta.url));

/** The cases that did not pass, one per line: the message of a failed `report.ok` check. */
function failedCases(report: TestReport): string {
  return report.scripts
    .flatMap((s) => s.cases.filter((c) => c.status !== 'OK'))
    .map((c) => `${c.status} L${c.line ?? '-'} ${c.peer} ${c.test}: ${c.result} ${c.comment ?? ''}`)
    .join('\n');
}
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'testkit-runner-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function runFile(
  name: string,
  text: string,
  extra: Partial<ConstructorParameters<typeof TestRunner>[0]> = {},
) {
  const file = join(dir, `${name}.cmd`);
  await writeFile(file, text);
  const runner = new TestRunner({
    scripts: [file],
    outDir: join(dir, 'out'),
    settleMs: 2000,
    stopGraceMs: 2000,
    peerCommand: ({ peer, scriptName, testServerUrl }) => ({
      command: process.execPath,
      args: [FAKE_PEER, peer, scriptName, testServerUrl],
    }),
    ...extra,
  });
  const ended: LineRecord[] = [];
  runner.on('line-end', (_s, l) => ended.push({ ...l }));
  const t0 = Date.now();
  const report = await runner.run();
  return { report, ended, ms: Date.now() - t0, runner };
}

test('runs peers as processes, reports every line, passes', async () => {
  const { report, ended } = await runFile(
    'pass',
    'alice init\nbob init\nalice testfilter messagesView 1 /^hello/\nalice say hello world\nbob say hi\n',
  );
  assert.equal(report.ok, true, failedCases(report));
  assert.equal(ended.length, 5);
  assert.deepEqual(
    report.scripts[0].cases.map((c) => c.status),
    ['OK', 'OK', 'OK', 'OK', 'OK', 'OK'],
  );
});

/** A line whose peer is dead fails at once: its duration is recorded and below the 2 s deadline. */
function assertFailedEarly(c: { durationMs?: number }): void {
  const took = c.durationMs;
  assert.ok(typeof took === 'number' && took >= 0 && took < 2000, `took ${took} ms, deadline 2 s`);
}

test("@kill, then the dead peer's line: FAILED at once (not at the deadline), run completes", async () => {
  const { report, ms } = await runFile(
    'killed',
    '@deadline 2s\nalice init\nbob init\n@kill bob\nbob say never\nalice say still alive\n',
  );
  const cases = report.scripts[0].cases;
  assert.deepEqual(
    cases.map((c) => `${c.peer} ${c.test} ${c.status}`),
    [
      'alice init OK',
      'bob init OK',
      '@runner @kill bob OK',
      'bob say never FAILED',
      'alice say still alive OK',
    ],
  );
  assert.equal(cases[3].comment, 'bob is not running (its process ended: killed by SIGKILL)');
  assertFailedEarly(cases[3]);
  assert.ok(ms < 30_000, `finished in ${ms} ms, not stuck on the dead peer`);
  assert.ok(report.scripts[0].timeline.logs.some((l) => l.peer === 'bob' && l.kind === 'killed'));
  assert.equal(cases[3].line, 5);
  assert.equal(cases[3].kind, 'command');
  // The failing case carries the end of bob's output, for CI logs.
  assert.match(report.scripts[0].peerLogs?.bob ?? '', /<joined> bob has joined/);
  const xml = toJUnit(report);
  assert.match(
    xml,
    /<testcase classname="killed\.bob" name="line 5: say never"[\s\S]*?<system-out>last lines of bob&apos;s output:\n[\s\S]*?&lt;joined&gt; bob has joined/,
  );
});

test('a peer that dies while its own line is pending: that line FAILS at once, run completes', async () => {
  const { report } = await runFile(
    'suicide',
    '@deadline 2s\nalice init\nalice suicide\nbob init\n',
  );
  const cases = report.scripts[0].cases;
  assert.deepEqual(
    cases.map((c) => `${c.peer} ${c.test} ${c.status}`),
    ['alice init OK', 'alice suicide FAILED', 'bob init OK'],
  );
  assert.equal(cases[1].comment, 'alice is not running (its process ended: killed by SIGKILL)');
  assertFailedEarly(cases[1]);
  assert.ok(report.scripts[0].timeline.logs.some((l) => l.peer === 'alice' && l.kind === 'exited'));
});

test('a hanging line fails at its deadline and the run moves on', async () => {
  const { report } = await runFile('hang', '@deadline 2s\nalice hang\nalice say after\n');
  assert.deepEqual(
    report.scripts[0].cases.map((c) => c.status),
    ['FAILED', 'OK'],
  );
  assert.equal(report.ok, false);
});

test('@stop/@cont, @start of a late peer, restart after @kill, @partition/@heal', async () => {
  const { report } = await runFile(
    'faults',
    [
      '@deadline 3s',
      'alice init',
      '@stop alice',
      '@cont alice',
      'alice say awake',
      '@start carol',
      'carol init',
      '@kill carol',
      '@start carol',
      'carol say back',
      '@partition alice carol',
      'alice testwait messagesView 1 "partitioned from: carol" 2s',
      '@heal alice carol',
      '@cont alice',
      '@start alice',
    ].join('\n'),
  );
  const cases = report.scripts[0].cases;
  assert.deepEqual(
    cases.map((c) => `${c.test} ${c.status}`),
    [
      'init OK',
      '@stop alice OK',
      '@cont alice OK',
      'say awake OK',
      '@start carol OK',
      'init OK',
      '@kill carol OK',
      '@start carol OK',
      'say back OK',
      '@partition alice carol OK',
      'testwait messagesView 1 "partitioned from: carol" 2s OK',
      '@heal alice carol OK',
      '@cont alice FAILED',
      '@start alice FAILED',
    ],
  );
  assert.equal(cases[12].comment, 'alice is not stopped');
  const kinds = report.scripts[0].timeline.logs.map((l) => `${l.peer}:${l.kind}`);
  for (const k of [
    'alice:stopped',
    'alice:continued',
    'carol:started',
    'carol:killed',
    'alice:partitioned',
    'carol:healed',
  ]) {
    assert.ok(kinds.includes(k), `${k} in ${kinds}`);
  }
});

test('run files and peer logs are written per run', async () => {
  const { report, runner } = await runFile('files', 'alice init\n');
  const runDir = join(runner.outDir, report.scripts[0].runId);
  const files = await readdir(runDir);
  for (const f of [
    'testRun.json',
    'testEventFilters.json',
    'testSummary.json',
    'timeline.json',
    'alice.log',
  ]) {
    assert.ok(files.includes(f), `${f} in ${files}`);
  }
  assert.match(await readFile(join(runDir, 'alice.log'), 'utf8'), /<joined> alice has joined/);
});

test('a broken script fails before any process starts', async () => {
  await assert.rejects(runFile('broken', 'alice init\n@explode\n'), (err: unknown) => {
    return err instanceof ScriptSyntaxError && /broken\.cmd:2: unknown directive/.test(err.message);
  });
});

test('a peer command that cannot start fails its lines, not the runner', async () => {
  const { report } = await runFile('nostart', '@deadline 20s\nalice init\n', {
    peerCommand: () => ({ command: join(dir, 'no-such-program'), args: [] }),
  });
  assert.deepEqual(
    report.scripts[0].cases.map((c) => c.status),
    ['FAILED'],
  );
  assert.equal(
    report.scripts[0].cases[0].comment,
    'alice is not running (it could not be started)',
  );
  assert.ok(report.scripts[0].timeline.logs.some((l) => l.kind === 'exited'));
});

test('loopback: @heal alone lifts every in-app partition; kernel faults fail the script at once', async () => {
  const { report } = await runFile(
    'loopback-faults',
    [
      '@deadline 3s',
      'alice init',
      'bob init',
      'carol init',
      '@partition alice bob',
      '@partition alice carol',
      'alice testwait messagesView 1 "partitioned from: bob,carol" 2s',
      '@heal',
      'alice testwait messagesView 1 "partitioned from: none" 2s',
      'bob testwait messagesView 1 "partitioned from: none" 2s',
    ].join('\n'),
  );
  assert.equal(report.ok, true, failedCases(report));
  const kinds = report.scripts[0].timeline.logs
    .filter((l) => l.fault)
    .map((l) => `${l.peer} ${l.kind}`);
  assert.deepEqual(kinds, [
    'alice partitioned',
    'bob partitioned',
    'alice partitioned',
    'carol partitioned',
    'alice healed',
    'bob healed',
    'carol healed',
  ]);

  const refused = await runFile(
    'kernel-only',
    ['alice init', 'bob init', '@partition alice -> bob', 'alice say never'].join('\n'),
  );
  const cases = refused.report.scripts[0].cases;
  assert.deepEqual(
    cases.map((c) => `${c.test} ${c.status} ${c.result}`),
    [
      'init CANCELLED not reached',
      'init CANCELLED not reached',
      '@partition alice -> bob FAILED failed',
      'say never CANCELLED not reached',
    ],
  );
  assert.match(
    cases[2].comment ?? '',
    /^@partition alice -> bob needs the kernel \(--net netns\), but peers run on loopback$/,
  );
  assert.ok(refused.ms < 5000, `no peer was started (${refused.ms} ms)`);
  assert.equal(
    refused.report.scripts[0].timeline.logs.filter((l) => l.kind === 'started').length,
    0,
  );
});
