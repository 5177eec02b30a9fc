// `isopeer node` as a program: flag validation, --count and --join-stagger-ms, command routing
// and errors, and the ways it stops. The Go reference peer runs the same cases where they apply,
// so both sides of the line protocol behave alike.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { broadcastUntilDelivered, receiversOf } from '../support/broadcast.js';
import { goPeerBinary, goPeerSkip } from '../support/go-peer.js';
import { closeAll, type Impl, LineNode } from '../support/line-node.js';
import { isopeerCli } from '../support/paths.js';

const goSkip = await goPeerSkip();

function runCli(args: string[]) {
  return spawnSync(process.execPath, [isopeerCli, 'node', ...args], {
    encoding: 'utf8',
    input: '',
    timeout: 20_000,
  });
}

describe('isopeer node: flags', () => {
  const bad: [string[], RegExp][] = [
    [['--config', 'moon'], /--config must be local, lan or wan/],
    [['--port', 'http'], /--port "http" is not a port number \(0-65535\)/],
    [['--port', '70000'], /--port "70000" is not a port number \(0-65535\)/],
    [['--count', '0'], /--count "0" is not a whole number from 1 to 10000/],
    [['--join-stagger-ms', '-5'], /--join-stagger-ms "-5" is not a whole number from 0 to 60000/],
    [['--join-stagger-ms', '1.5'], /--join-stagger-ms "1.5" is not a whole number from 0 to 60000/],
    [['--join-stagger-ms', '60001'], /--join-stagger-ms "60001" is not a whole number from 0/],
    [['--bogus'], /isopeer node: unknown option '--bogus'\nrun 'isopeer node --help' for usage/],
    [['--key', 'not*base64'], /--key .* is not base64/],
    [['--key', Buffer.alloc(10).toString('base64')], /16, 24 or 32 bytes/],
    [['--meta', 'x'.repeat(513)], /--meta is 513 bytes, the limit is 512/],
  ];
  for (const [args, message] of bad) {
    test(`rejects ${args.join(' ').slice(0, 40)} with exit 2 and a clear message`, () => {
      const r = runCli(['--name', 'x', ...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '', 'nothing on stdout, so a JSON reader is never confused');
    });
  }

  test('an unbindable address is an error, not a crash', () => {
    const r = runCli(['--name', 'x', '--bind', '192.0.2.1']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /isopeer node: /);
  });
});

const impls: Impl[] = ['ts', 'go'];
for (const impl of impls) {
  describe(`${impl} node: --count and commands`, { skip: impl === 'go' && goSkip }, () => {
    after(closeAll);

    test('--count K runs K nodes that converge and take @i commands', async () => {
      const n = await LineNode.start({ impl, name: `k${impl}`, count: 5 });
      assert.deepEqual(
        n.names,
        [0, 1, 2, 3, 4].map((i) => `k${impl}-${i}`),
      );
      // Go memberlist 0.2.2 sometimes needs a push/pull round (15-30 s) after a burst of joins.
      const all = await n.waitFor(
        (e) => e.event === 'all-converged',
        impl === 'go' ? 45_000 : 20_000,
      );
      assert.equal(all.members, 5);
      assert.equal(n.find('converged').length, 5);
      assert.deepEqual(
        n
          .find('converged')
          .map((e) => e.self)
          .sort(),
        [...n.names].sort(),
      );
      const m = await n.members(3);
      assert.equal(m.length, 5);
      const h = await n.request('health', 'health', 5_000, 4);
      assert.equal(h.self, `k${impl}-4`);
      assert.equal(h.score, 0);
      const s = await n.request('stats', 'stats', 5_000, 1);
      assert.equal(s.members, 5);

      await broadcastUntilDelivered(n, n.names[1], receiversOf([n], n.names[1]), 'across');
    });

    test('bad commands answer with error events and the node keeps serving', async () => {
      const n = await LineNode.start({ impl, name: `e${impl}` });
      const cases: [string, RegExp][] = [
        ['frobnicate', /unknown command/],
        ['send', /needs a node name/],
        ['join', /needs addresses/],
        ['leave soon', /timeout in ms/],
        [`meta ${'y'.repeat(600)}`, /limit is 512/],
        ['@7 members', /@7/],
        ['join 127.0.0.1:1', /.+/],
      ];
      for (const [cmd, message] of cases) {
        const since = n.mark();
        n.send(cmd);
        const ev = await n.waitFor(
          (e) => e.event === 'error' || (e.event === 'joined' && e.ok === false),
          10_000,
          `error for ${cmd}`,
          since,
        );
        assert.match(String(ev.message ?? ev.error), message, cmd);
      }
      assert.equal((await n.members()).length, 1);
    });

    test('end of input shuts down without leaving, exit status 0', async () => {
      const n = await LineNode.start({ impl, name: `eof${impl}` });
      n.endInput();
      const ev = await n.waitFor((e) => e.event === 'shutdown', 5_000);
      assert.match(String(ev.reason), /end of input/);
      assert.equal((await n.exit(5_000)).code, 0);
    });

    test('SIGTERM shuts down with a shutdown event', async () => {
      const n = await LineNode.start({ impl, name: `term${impl}` });
      n.kill('SIGTERM');
      const ev = await n.waitFor((e) => e.event === 'shutdown', 5_000);
      assert.match(String(ev.reason), /SIGTERM|terminated/);
      assert.equal((await n.exit(5_000)).code, 0);
    });
  });
}

// --join-stagger-ms (docs/node-line-protocol-extensions.md): node i > 0 of --count starts its
// join i × MS after the nodes have started, i.e. after the last `ready`.
const STAGGER_MS = 300;
// Node's timers may fire a millisecond before the wall clock says they should.
const CLOCK_SLACK_MS = 5;

for (const impl of impls) {
  describe(`${impl} node: --join-stagger-ms`, { skip: impl === 'go' && goSkip }, () => {
    after(closeAll);

    test(`--count 3 --join-stagger-ms ${STAGGER_MS}: node i joins i × ${STAGGER_MS} ms after start`, async () => {
      const n = await LineNode.start({
        impl,
        name: `stg${impl}`,
        count: 3,
        extraArgs: ['--join-stagger-ms', String(STAGGER_MS)],
      });
      const all = await n.waitFor(
        (e) => e.event === 'all-converged',
        impl === 'go' ? 45_000 : 20_000,
        'all-converged',
      );
      assert.equal(all.members, 3);
      await n.until(() => n.find('joined').length === 2, 10_000, '2 joined events');
      const started = Math.max(...n.find('ready').map((e) => e.ts));
      for (const i of [1, 2]) {
        const name = n.names[i];
        const joined = n.find('joined', { self: name });
        assert.equal(joined.length, 1, JSON.stringify(joined));
        assert.equal(joined[0].ok, true, JSON.stringify(joined[0]));
        // No other node can know node i before its join has started.
        const firstSeen = n.events.find(
          (e) => e.event === 'join' && e.name === name && e.self !== name,
        );
        assert.ok(firstSeen, `another node reported ${name} joining`);
        for (const [what, ev] of [
          ['joined', joined[0]],
          ['first seen', firstSeen],
        ] as const) {
          const delay = ev.ts - started;
          assert.ok(
            delay >= i * STAGGER_MS - CLOCK_SLACK_MS,
            `${name} ${what} ${delay.toFixed(1)} ms after the last ready, expected >= ${i * STAGGER_MS}`,
          );
        }
      }
    });

    test('rejects a negative --join-stagger-ms with exit 2 and a clear message', async () => {
      const [cmd, pre] =
        impl === 'ts'
          ? [process.execPath, [isopeerCli, 'node']]
          : [await goPeerBinary(), [] as string[]];
      const r = spawnSync(cmd, [...pre, '--name', 'x', '--count', '2', '--join-stagger-ms', '-1'], {
        encoding: 'utf8',
        input: '',
        timeout: 20_000,
      });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /--join-stagger-ms .*whole number from 0 to 60000/);
      assert.equal(r.stdout, '');
    });
  });
}

const K1 = Buffer.alloc(16, 1).toString('base64');
const K2 = Buffer.alloc(24, 2).toString('base64');

for (const impl of impls) {
  describe(`${impl} node: keyring and verify commands`, { skip: impl === 'go' && goSkip }, () => {
    after(closeAll);

    test('key list/install/use/remove and verify switches answer like the Go library behaves', async () => {
      const n = await LineNode.start({ impl, name: `key${impl}`, keys: [K1] });
      assert.deepEqual((await n.request('key list', 'keys')).keys, [K1]);
      const installed = await n.request(`key install ${K2}`, 'keys');
      assert.deepEqual(installed.keys, [K1, K2]);
      assert.equal(installed.primary, K1);
      const used = await n.request(`key use ${K2}`, 'keys');
      assert.equal(used.primary, K2);
      const since = n.mark();
      n.send(`key remove ${K2}`);
      const refused = await n.waitFor(
        (e) => e.event === 'error',
        5_000,
        'primary removal refused',
        since,
      );
      assert.match(String(refused.message), /primary/i);
      assert.deepEqual((await n.request(`key remove ${K1}`, 'keys')).keys, [K2]);

      const v = await n.request('verify outgoing off', 'verify');
      assert.deepEqual([v.incoming, v.outgoing], [true, false]);
      const w = await n.request('verify incoming off', 'verify');
      assert.deepEqual([w.incoming, w.outgoing], [false, false]);
      for (const bad of ['key frob x', 'key install not-base64!', 'verify sideways on']) {
        const s = n.mark();
        n.send(bad);
        await n.waitFor((e) => e.event === 'error', 5_000, `error for ${bad}`, s);
      }
    });

    test('a node started without keys reports none and gets encryption with the first install', async () => {
      const n = await LineNode.start({ impl, name: `nokey${impl}` });
      const none = await n.request('key list', 'keys');
      assert.deepEqual([none.keys, none.primary], [[], null]);
      const first = await n.request(`key install ${K1}`, 'keys');
      assert.deepEqual([first.keys, first.primary], [[K1], K1]);
    });
  });
}
