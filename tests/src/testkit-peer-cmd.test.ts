// `isopeer test` drives programs that are not the chat peer: the echo peer of examples/, the Go
// reference peer speaking our protocol or only the original's, and any command given by
// `--peer-cmd` or `@peer` with placeholders and the original's environment. Loopback mode, so no
// privileges are needed.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { goPeerBinary, goPeerSkip, isopeerTest, repoRoot } from '../support/index.js';

const goSkip = await goPeerSkip();
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'testkit-peer-cmd-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Loopback mode, so that these tests need no privileges. */
const loopbackTest = (args: string[]) => isopeerTest(['--net', 'loopback', ...args]);

test('the echo peer of examples/ (not the chat peer) passes its script', async () => {
  const r = await loopbackTest([
    join(repoRoot, 'examples/echo-peer/echo.cmd'),
    '--peer-cmd',
    'node examples/echo-peer/echo-peer.mjs {name} {test} {addr}',
  ]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^PASSED +echo /m);
});

test('placeholders and the environment every peer gets; @peer per script, NAME= ahead of it', async () => {
  // A peer that writes what it was given and then joins the run with attachInterpreter.
  const peer = join(dir, 'env-peer.mjs');
  await writeFile(
    peer,
    `import { writeFileSync } from 'node:fs';
     import { attachInterpreter } from ${JSON.stringify(join(repoRoot, 'packages/testkit/dist/src/index.js'))};
     const [name, test, stateDir, ...rest] = process.argv.slice(2);
     const e = process.env;
     writeFileSync(stateDir + '.json', JSON.stringify({ argv: process.argv.slice(2), env: {
       TEST_SIDECAR_SERVER: e.TEST_SIDECAR_SERVER, BOOTSTRAP_DATA_SERVER: e.BOOTSTRAP_DATA_SERVER,
       TEST_DIR: e.TEST_DIR, ISOPEER_PEER_ADDR: e.ISOPEER_PEER_ADDR } }));
     const t = attachInterpreter({ peerName: name, scriptName: test, execute: (line) => {
       if (line === 'hello') t.show('hello from ' + name + ' ' + rest.join('+'));
       else throw new Error('unknown ' + line);
     } });
     process.on('SIGTERM', () => process.exit(0));`,
  );
  const script = join(dir, 'envcheck.cmd');
  await writeFile(
    script,
    [
      `@peer alice node ${peer} {name} {test} {state_dir} script "two words"`,
      `@peer bob node ${peer} {name} {test} {state_dir} script`,
      'alice testfilter messagesView 1 "hello from alice script+two words"',
      'bob testfilter messagesView 1 "hello from bob cli"',
      'alice hello',
      'bob hello',
      'bob nonsense',
    ].join('\n'),
  );
  const out = join(dir, 'envcheck-out');
  const r = await loopbackTest([
    script,
    '--peer-cmd',
    `bob=node ${peer} {name} {test} {state_dir} cli`,
    '--out',
    out,
    '--json',
    join(out, 'report.json'),
  ]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /FAILED +L7 +bob +nonsense .*unknown nonsense/);
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
  assert.deepEqual(
    report.scripts[0].cases
      .filter((c: { kind: string }) => c.kind === 'event')
      .map(
        (c: { peer: string; test: string; status: string }) => `${c.status} ${c.peer} ${c.test}`,
      ),
    [
      'OK alice messagesView 1 hello from alice script+two words',
      'OK bob messagesView 1 hello from bob cli',
    ],
    '@peer for alice, NAME= ahead of @peer for bob',
  );
  const [runDir] = (await readdir(out, { withFileTypes: true })).filter((d) => d.isDirectory());
  const given = JSON.parse(await readFile(join(out, runDir.name, 'alice.state.json'), 'utf8'));
  const server =
    /test server (http:\/\/127\.0\.0\.1:\d+), bootstrap (http:\/\/127\.0\.0\.1:\d+)/.exec(r.out)!;
  assert.deepEqual(given, {
    argv: ['alice', 'envcheck', join(out, runDir.name, 'alice.state'), 'script', 'two words'],
    env: {
      TEST_SIDECAR_SERVER: server[1],
      BOOTSTRAP_DATA_SERVER: server[2],
      TEST_DIR: dir,
      ISOPEER_PEER_ADDR: '127.0.0.1',
    },
  });
});

test("a peer command that cannot run fails that peer's lines with the reason; bad --peer-cmd or --net-range is a usage error", async () => {
  const script = join(dir, 'missing.cmd');
  await writeFile(script, '@deadline 5s\nalice init\n');
  const r = await loopbackTest([
    script,
    '--peer-cmd',
    '/nonexistent/peer {name}',
    '--settle',
    '200ms',
  ]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /FAILED +L2 +alice +init .*alice is not running \(it could not be started\)/);
  const bad = await loopbackTest([script, '--peer-cmd', 'node x.js {nmae}']);
  assert.equal(bad.code, 2);
  assert.match(bad.out, /--peer-cmd: unknown placeholder \{nmae\} in peer command/);
  const range = await loopbackTest([script, '--net-range', '10.0.0.1/8']);
  assert.equal(range.code, 2);
  assert.match(range.out, /--net-range: .*host bits are set; did you mean 10\.0\.0\.0\/8\?/);
});

test('Go peers driven through --peer-cmd: our long-poll protocol, and the original polling protocol', {
  skip: goSkip,
}, async () => {
  const go = await goPeerBinary();
  const scripts = ['default', 'leave'].map((n) => join(repoRoot, 'examples/tests', `${n}.cmd`));
  const next = await loopbackTest([...scripts, '--peer-cmd', `${go} -name {name} -test {test}`]);
  assert.equal(next.code, 0, next.out);
  // What `cli-chat -test -testfile={test}.cmd {name}` would do: the file name for /init, and
  // nothing but /getcommand, /putresult, /removecommand and /putevent.
  const original = await loopbackTest([
    ...scripts,
    '--peer-cmd',
    `${go} -name {name} -test {test}.cmd -test-protocol original`,
  ]);
  assert.equal(original.code, 0, original.out);
  for (const r of [next, original]) assert.match(r.out, /^PASSED: 2 scripts/m);
});
