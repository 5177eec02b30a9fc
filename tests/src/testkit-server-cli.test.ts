// `isopeer test-server` as users start it, with peers started by hand (`isopeer chat --test`),
// the way the original was used, but with push delivery instead of polling.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { startBootstrapServer } from '@isopeer/bootstrap/server';
import { isopeerCli } from '../support/index.js';

let dir: string;
const children: ChildProcess[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'testkit-server-cli-'));
});
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

function start(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, [isopeerCli, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  return child;
}

/** Resolves with the first stdout line matching `re`; rejects if the process exits first. */
function waitForLine(child: ChildProcess, re: RegExp, what: string): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    const seen: string[] = [];
    const onExit = () => reject(new Error(`exited before ${what}; output:\n${seen.join('\n')}`));
    child.once('exit', onExit);
    rl.on('line', (line) => {
      seen.push(line);
      const m = re.exec(line);
      if (m) {
        child.off('exit', onExit);
        rl.close();
        resolve(m);
      }
    });
  });
}

test('test-server serves a script to peers started by hand and writes the run files', async () => {
  await writeFile(
    join(dir, 'duo.cmd'),
    'alice init\nbob init\nalice testfilter messagesView 1 "<bob> hi"\nbob msg hi\nalice testsummaryprepare\n',
  );
  const server = start(['test-server', '--port', '0', '--deadline', '20s'], { TEST_DIR: dir });
  const [, url] = await waitForLine(
    server,
    /^listening on (http:\/\/127\.0\.0\.1:\d+) \(scripts in (.*), line deadline 20\.0 s\)$/,
    'listening',
  );
  const bootstrap = await startBootstrapServer({ port: 0, store: 'memory' });
  try {
    const done = waitForLine(server, /^run \S+ duo: all lines done$/, 'the run to finish');
    // Own state directories: member caches of other runs must not leak in.
    const state = (p: string) => ['--state-dir', join(dir, `${p}.state`)];
    start([
      'chat',
      'alice',
      '--test',
      'duo',
      '--test-server',
      url!,
      '--bootstrap',
      bootstrap.url,
      ...state('alice'),
    ]);
    start(['chat', 'bob', '--test', 'duo', '--bootstrap', bootstrap.url, ...state('bob')], {
      TEST_SIDECAR_SERVER: url,
    });
    await done;
    const run = (await (await fetch(`${url}/getrun`)).json()) as { id: string; status: string };
    assert.equal(run.status, 'EMPTY');
    const results = (await (await fetch(`${url}/getresults`)).json()) as {
      CommandResults: { status: string }[];
    };
    assert.deepEqual(
      results.CommandResults.map((r) => r.status),
      ['OK', 'OK', 'OK', 'OK', 'OK'],
    );
    // At the end each peer asks for its own summary, as the original client does: with no
    // runner, /getsummary becomes complete by itself (alice's own testsummaryprepare line only
    // covered her lines before it).
    type Entry = { peer: string; kind: string; status: string; test: string };
    const complete = (s: Entry[]) => s.some((e) => e.peer === 'bob') && s.length === 6;
    let summary: Entry[] = [];
    const until = Date.now() + 20_000;
    while (!complete(summary) && Date.now() < until) {
      summary = (await (await fetch(`${url}/getsummary`)).json()) as Entry[];
      if (!complete(summary)) await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(
      summary.map((e) => `${e.peer} ${e.kind} ${e.status} ${e.test}`),
      [
        'alice command OK init',
        'alice command OK testfilter messagesView 1 "<bob> hi"',
        'alice command OK testsummaryprepare',
        'alice event OK messagesView 1 <bob> hi',
        'bob command OK init',
        'bob command OK msg hi',
      ],
    );
    const file = JSON.parse(await readFile(join(dir, run.id, 'testSummary.json'), 'utf8'));
    assert.deepEqual(file, summary, 'the run files hold the complete summary');
  } finally {
    for (const c of children.slice(1)) c.kill('SIGTERM');
    await bootstrap.close();
  }
  server.kill('SIGTERM');
  const [code] = await once(server, 'exit');
  assert.equal(code, 0);
});

test('bad options: one line and a hint on stderr, exit 2', async () => {
  const child = start(['test-server', '--deadline', 'soon']);
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const [code] = await once(child, 'exit');
  assert.equal(code, 2);
  assert.match(err, /^isopeer test-server: --deadline: bad duration "soon"/);
  assert.equal(err.trim().split('\n').length, 2);
});
