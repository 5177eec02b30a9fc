// `isopeer test` with every peer in its own network namespace and faults made by the kernel:
// the scenarios only this makes possible, a mixed Go + TS run, zero leftovers on Ctrl-C and after
// a killed runner, and the loopback fallback. Needs root, ip and nft (a failure in CI, a loud skip
// elsewhere); the fallback test runs anywhere.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BootstrapClient, type BootstrapData } from '@isopeer/bootstrap';
import { type LogRecord, TestRunner, type Timeline } from '@isopeer/testkit';
import {
  goPeerBinary,
  goPeerSkip,
  isopeerCli,
  isopeerTest,
  meshLeftovers,
  netnsSkip,
  repoRoot,
  startIsopeerTest,
} from '../support/index.js';

const skip = await netnsSkip();
const goSkip = skip || (await goPeerSkip());
const example = (n: string) => join(repoRoot, 'examples/tests', `${n}.cmd`);
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'testkit-netns-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The block the runner printed (`network: netns ... (isopeer-N-*)`). */
function blockOf(out: string): number {
  const m = /^network: netns, .*\(isopeer-(\d+)-\*\)/m.exec(out);
  assert.ok(m, `the runner names its namespaces:\n${out}`);
  return Number(m[1]);
}

/** The timelines the runner wrote under --out, by script name. */
async function timelines(out: string): Promise<Map<string, Timeline>> {
  const map = new Map<string, Timeline>();
  for (const d of await readdir(out, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const tl = JSON.parse(await readFile(join(out, d.name, 'timeline.json'), 'utf8')) as Timeline;
    map.set(tl.name, tl);
  }
  return map;
}

test('one-way partition and 10% loss: nobody declared failed, lines lost one way only / all delivered', {
  skip,
}, async () => {
  const out = join(dir, 'oneway-loss');
  const r = await isopeerTest([
    example('one-way'),
    example('loss'),
    '--net',
    'netns',
    '--out',
    out,
  ]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^PASSED +one-way /m);
  assert.match(r.out, /^PASSED +loss /m);
  assert.deepEqual(await meshLeftovers(blockOf(r.out)), []);
  const tl = await timelines(out);
  const faults = (name: string) =>
    tl
      .get(name)!
      .logs.filter((l: LogRecord) => l.fault)
      .map((l) => [l.peer, l.kind, l.fault]);
  assert.deepEqual(faults('one-way'), [
    ['alice', 'partitioned', { kind: 'partition', from: 'alice', to: 'bob', oneWay: true }],
    ['bob', 'partitioned', { kind: 'partition', from: 'alice', to: 'bob', oneWay: true }],
    ['alice', 'healed', { kind: 'heal', from: 'alice', to: 'bob', oneWay: true }],
    ['bob', 'healed', { kind: 'heal', from: 'alice', to: 'bob', oneWay: true }],
  ]);
  assert.deepEqual(
    faults('loss').filter(([, kind]) => kind === 'lossy'),
    ['alice', 'bob', 'charly'].map((p) => [p, 'lossy', { kind: 'loss', peer: p, percent: 10 }]),
  );
});

test('@isolate of a bootstrap peer, then @heal: declared failed, list refilled, taken back, list consistent', {
  skip,
}, async () => {
  const lists: Record<string, string[]> = {};
  let bootstrap: BootstrapClient | undefined;
  const runner = new TestRunner({
    scripts: [example('isolate')],
    outDir: join(dir, 'isolate-out'),
    net: 'netns',
    peerTemplates: {
      default:
        'isopeer chat {name} --test {test} --test-server {test_server} --bootstrap {bootstrap} --state-dir {state_dir} --bind {addr}',
    },
    programs: { isopeer: [process.execPath, isopeerCli] },
  });
  runner.on('script-start', (_s, _run, urls) => {
    bootstrap = new BootstrapClient({ url: urls.bootstrapUrl });
  });
  const names = (d: BootstrapData) =>
    Object.values(d.Peers)
      .map((p) => p.name.split('-')[0])
      .sort();
  const pending: Promise<void>[] = [];
  runner.on('line-end', (_s, l) => {
    // The service's list when alice has been replaced, and once she is back and chatting.
    const when = l.command.includes('refilled with charly')
      ? 'refilled'
      : l.command === 'msg welcome back'
        ? 'end'
        : undefined;
    if (when && bootstrap) {
      pending.push(
        bootstrap.list().then((d) => {
          lists[when] = names(d);
        }),
      );
    }
  });
  const report = await runner.run();
  await Promise.all(pending);
  const s = report.scripts[0];
  assert.equal(
    s.ok,
    true,
    s.cases
      .filter((c) => c.status !== 'OK')
      .map((c) => `${c.peer} ${c.test}: ${c.comment}`)
      .join('\n'),
  );
  assert.deepEqual(lists, { refilled: ['bob', 'charly'], end: ['bob', 'charly'] });
  const kinds = s.timeline.logs.map((l) => `${l.peer} ${l.kind}`);
  assert.ok(kinds.includes('alice isolated') && kinds.includes('alice healed'), kinds.join(', '));
  assert.ok(kinds.includes('bob failed') && kinds.includes('charly failed'), 'both saw her fail');
});

test('the same partition.cmd with Go and TS peers mixed, through --peer-cmd', {
  skip: goSkip,
}, async () => {
  const go = await goPeerBinary();
  const peer = `${go} -name {name} -test {test} -bind {addr}`;
  const r = await isopeerTest([
    example('partition'),
    '--net',
    'netns',
    '--peer-cmd',
    `bob=${peer}`,
    '--peer-cmd',
    `charly=${peer}`,
  ]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^PASSED +partition /m);
  assert.deepEqual(await meshLeftovers(blockOf(r.out)), []);
});

test('Ctrl-C in the middle of a netns run: exit 130, nothing left behind', { skip }, async () => {
  const run = startIsopeerTest([example('one-way'), '--net', 'netns']);
  const out = await run.seen(/OK +L\d+ +runner +@partition alice -> bob/);
  const index = blockOf(out);
  assert.ok((await meshLeftovers(index, run.child.pid)).length >= 5, 'the mesh is up');
  run.child.kill('SIGINT');
  const r = await run.done;
  assert.equal(r.code, 130, r.out);
  assert.deepEqual(await meshLeftovers(index), []);
});

test('a runner killed with SIGKILL: its mesh stays until the next runner starts, which removes it', {
  skip,
}, async () => {
  const run = startIsopeerTest([example('one-way'), '--net', 'netns']);
  const out = await run.seen(/OK +L\d+ +runner +@partition alice -> bob/);
  const index = blockOf(out);
  run.child.kill('SIGKILL');
  await run.done;
  assert.ok((await meshLeftovers(index)).length >= 5, 'a crash leaves the mesh');
  const next = await isopeerTest([example('default'), '--net', 'netns']);
  assert.equal(next.code, 0, next.out);
  // The next runner may take the freed block for itself; by its end, that is gone too.
  assert.deepEqual(await meshLeftovers(index), []);
});

test('without namespaces: one line saying why, loopback, and kernel faults fail the script', async () => {
  // As root, take `ip` and `nft` away (the runner finds them on PATH); otherwise we are not root.
  const asRoot = process.getuid?.() === 0;
  const opts = asRoot ? { env: { PATH: '/nonexistent' } } : {};
  const notice = asRoot
    ? /^network: loopback \(`ip netns list` failed \(ip: .*ENOENT\); install iproute2\); kernel faults are unavailable$/m
    : /^network: loopback \(network namespaces need root \(running as uid \d+\)\); kernel faults are unavailable$/m;
  const ok = await isopeerTest([example('default')], opts);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, notice);
  const loss = await isopeerTest([example('loss')], opts);
  assert.equal(loss.code, 1, loss.out);
  assert.match(
    loss.out,
    /FAILED +L\d+ +runner +@loss alice 10% .*needs the kernel \(--net netns\), but peers run on loopback: /,
  );
  assert.doesNotMatch(loss.out, /OK +L\d+ +alice +init/, 'no peer was started');
  const forced = await isopeerTest([example('default'), '--net', 'netns'], opts);
  assert.equal(forced.code, 2, forced.out);
  assert.match(forced.out, /isopeer test: --net netns: /);
  if (!asRoot) return;
  // As root, loopback on request: the in-app /testpartition path of the chat peer.
  const inApp = await isopeerTest([example('partition'), '--net', 'loopback']);
  assert.equal(inApp.code, 0, inApp.out);
  assert.doesNotMatch(inApp.out, /^network:/m, 'loopback by request needs no notice');
});
