// Issue 12, the memberlist share of the adversarial suite: the attacks of the report replayed
// against real `isopeer node` processes, each followed by a health check of the victim (acks on
// time, still joinable, bounded table and RSS, not declared dead). Forged addresses are part of
// the attacks, so the file re-executes itself inside a network namespace holding only loopback
// (tests/support/loopback-netns.ts); without the rights to make one it skips loudly, and fails in CI.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  compressMessage,
  decodePacket,
  encodeMessage,
  encodePushPull,
  encodeStreamMessage,
  encodeUserStream,
  encodeVsn,
  ipToBytes,
  MessageType,
  makeCompound,
  unpackMessages,
} from '@isopeer/memberlist/internal';
import { RawUdpPeer, skipIfMissing } from '@isopeer/test-support';
import { closeAll, type LineEvent, LineNode } from '../support/line-node.js';
import {
  assertOnlyLoopback,
  insideLoopbackNetns,
  loopbackNetnsMissing,
  runInLoopbackNetns,
} from '../support/loopback-netns.js';

/** Whole-suite bound (the brief: under a minute); the attacks took 9–28 s here at load 12–24. */
const SUITE_TIMEOUT_MS = 60_000;

if (!insideLoopbackNetns()) {
  test('memberlist attacks, replayed in a loopback-only network namespace', async (t) => {
    const missing = loopbackNetnsMissing();
    if (
      skipIfMissing(t, missing && `memberlist attack tests need a network namespace: ${missing}`)
    ) {
      return;
    }
    const started = Date.now();
    const r = await runInLoopbackNetns(fileURLToPath(import.meta.url), SUITE_TIMEOUT_MS);
    assert.equal(r.code, 0, `attack suite failed (${r.signal ?? `exit ${r.code}`}):\n${r.output}`);
    // The child's verdicts and the numbers its tests measured.
    for (const line of r.output.split('\n')) {
      if (/^\s*(ok|not ok) /.test(line) || (/^\s*# /.test(line) && !/# Subtest/.test(line))) {
        t.diagnostic(line.trim());
      }
    }
    t.diagnostic(`attack suite took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
} else {
  assertOnlyLoopback();
  attackSuite();
}

/** `suspect{Incarnation: 0xFFFFFFFF, Node: "a", From: "attacker"}`, the datagram of F2. */
const F2_DATAGRAM = Buffer.from(
  '0383a446726f6da861747461636b6572ab496e6361726e6174696f6eceffffffffa44e6f6465a161',
  'hex',
);
const VSN = encodeVsn({ pMin: 1, pMax: 5, pCur: 2, dMin: 0, dMax: 0, dCur: 0 });

/** The acks that come back to a raw socket: how many, and when each seqNo first arrived. */
class AckLog {
  readonly acks = new Map<number, number>();
  count = 0;
  readonly onMessage = (data: Buffer): void => {
    const now = performance.now();
    try {
      for (const m of unpackMessages(decodePacket(data, { verifyIncoming: false })).messages) {
        if (m.type !== MessageType.AckResp) continue;
        this.count++;
        if (!this.acks.has(m.body.seqNo)) this.acks.set(m.body.seqNo, now);
      }
    } catch {
      // Not ours to judge here.
    }
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * "On time" for an ack: the median within half the LAN preset's 500 ms probe timeout, none
 * later than 2 s. The report measured a 2.25 s median under 100 datagram bombs; a loaded CI
 * machine alone adds tens of ms.
 */
const ACK_MEDIAN_MS = 250;
const ACK_MAX_MS = 2000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function attackSuite(): void {
  describe('memberlist under attack (issue 12)', { timeout: SUITE_TIMEOUT_MS }, () => {
    let victim: LineNode;
    let witness: LineNode;
    let raw: RawUdpPeer;
    let rawAcks: AckLog;
    let seq = 1000;
    let baseRssKb = 0;
    /** The witness's `leave` events about the victim that the test did not provoke. */
    const falseDeaths: LineEvent[] = [];
    let expectFlap = false;

    const rssKb = () => {
      const status = readFileSync(`/proc/${victim.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    };
    const stats = async (n: LineNode) => (await n.request('stats', 'stats')) as LineEvent;
    const memberlistStats = async (n: LineNode) =>
      (await stats(n)).memberlist as {
        members: Record<string, number>;
        refused: Record<string, number>;
        dropped: Record<string, number>;
        packets: Record<string, number>;
        streams: Record<string, number>;
        flaps: number;
      };

    /** Pings the victim from the raw socket; resolves with the round-trip time (ms). */
    async function pingRtt(timeoutMs = 5000): Promise<number> {
      const s = ++seq;
      const sent = performance.now();
      await raw.send(
        victim.address(),
        encodeMessage({ type: MessageType.Ping, body: { seqNo: s, node: 'a' } }),
      );
      while (!rawAcks.acks.has(s)) {
        if (performance.now() - sent > timeoutMs) throw new Error(`ping ${s}: no ack`);
        await sleep(2);
      }
      return rawAcks.acks.get(s)! - sent;
    }

    /** The victim acks at once, can be joined, keeps a small table and RSS, and is alive. */
    async function assertHealthy(what: string, maxTable = 600): Promise<void> {
      const rtts: number[] = [];
      for (let i = 0; i < 5; i++) rtts.push(await pingRtt());
      assert.ok(
        median(rtts) < ACK_MEDIAN_MS,
        `${what}: ack round trips ${rtts.map(Math.round)} ms`,
      );
      const joined = await witness.request(`join ${victim.address()}`, 'joined', 10_000);
      assert.equal(joined.ok, true, `${what}: join through the victim: ${joined.error}`);
      const ml = await memberlistStats(victim);
      const table = Object.values(ml.members).reduce((s, x) => s + x, 0);
      assert.ok(table <= maxTable, `${what}: ${table} records`);
      const grownMb = (rssKb() - baseRssKb) / 1024;
      assert.ok(grownMb < 100, `${what}: RSS grew by ${grownMb.toFixed(0)} MB`);
      await witness.until(
        () => witness.view().get('a') === 'alive',
        10_000,
        `${what}: the witness seeing the victim alive`,
      );
      assert.deepEqual(falseDeaths, [], `${what}: the victim was declared dead`);
    }

    before(async () => {
      rawAcks = new AckLog();
      raw = await RawUdpPeer.open({ onMessage: rawAcks.onMessage });
      // The LAN preset (10 s TCP timeout, 500 ms probe timeout): what a deployment runs, and
      // not at the mercy of a loaded CI machine the way the local preset's 1 s TCP timeout is.
      victim = await LineNode.start({ impl: 'ts', name: 'a', config: 'lan' });
      witness = await LineNode.start({
        impl: 'ts',
        name: 'w',
        config: 'lan',
        join: [victim.address()],
      });
      witness.on('event', (ev: LineEvent) => {
        if (ev.event === 'leave' && ev.name === 'a' && !expectFlap) falseDeaths.push(ev);
      });
      await witness.until(() => witness.view().get('a') === 'alive', 20_000, 'w seeing a');
      await victim.until(() => victim.view().get('w') === 'alive', 20_000, 'a seeing w');
      baseRssKb = rssKb();
    });
    after(async () => {
      raw?.close();
      await closeAll();
    });

    test('F2: the forged suspect at 0xFFFFFFFF is refused by victim and witness', async () => {
      const inc = (await stats(victim)).incarnation;
      await raw.send(victim.address(), F2_DATAGRAM);
      await raw.send(witness.address(), F2_DATAGRAM);
      for (const n of [victim, witness]) {
        const deadline = Date.now() + 10_000;
        while ((await memberlistStats(n)).refused.incarnation < 1) {
          assert.ok(Date.now() < deadline, `${n.label()} did not refuse the forged suspect`);
          await sleep(50);
        }
      }
      assert.equal((await stats(victim)).incarnation, inc, 'no refutation to 2^32');
      await assertHealthy('after F2');
    });

    test('a spoofed dead from an unknown sender causes a refuted flap, as in Go', async () => {
      const ws = await memberlistStats(witness);
      const inc = (await stats(victim)).incarnation as number;
      expectFlap = true;
      try {
        const since = witness.mark();
        await raw.send(
          witness.address(),
          encodeMessage({
            type: MessageType.Dead,
            body: { node: 'a', incarnation: inc, from: 'attacker' },
          }),
        );
        await witness.waitFor(
          (ev) => ev.event === 'leave' && ev.name === 'a',
          10_000,
          'a dead',
          since,
        );
        await witness.waitFor(
          (ev) => ev.event === 'join' && ev.name === 'a',
          20_000,
          'a back',
          since,
        );
      } finally {
        expectFlap = false;
      }
      assert.equal((await memberlistStats(witness)).flaps, ws.flaps + 1);
      await assertHealthy('after the spoofed dead');
    });

    test('forged-source compound pings reflect 127 acks each, as in Go; none leaves the host', async (t) => {
      const reflected = new AckLog();
      const reflector = await RawUdpPeer.open({
        onMessage: reflected.onMessage,
        recvBufferSize: 4 << 20,
      });
      try {
        const pings = (addr: string, port: number) =>
          makeCompound(
            Array.from({ length: 127 }, () =>
              encodeMessage({
                type: MessageType.Ping,
                body: { seqNo: ++seq, node: 'a', sourceAddr: ipToBytes(addr), sourcePort: port },
              }),
            ),
          );
        const sentBefore = (await memberlistStats(victim)).packets.out;
        for (let i = 0; i < 10; i++)
          await raw.send(victim.address(), pings('127.0.0.1', reflector.port));
        const deadline = Date.now() + 10_000;
        while (reflected.count < 1270 && Date.now() < deadline) await sleep(20);
        const sent = (await memberlistStats(victim)).packets.out - sentBefore;
        t.diagnostic(`10 forged datagrams: ${sent} packets sent, ${reflected.count} acks arrived`);
        assert.ok(sent >= 1270, `${sent} packets sent for 1,270 forged pings`);
        // Acks arrive at the forged address (a loaded receiver may lose a few).
        assert.ok(reflected.count >= 1000 && reflected.count <= 1270, `${reflected.count}`);
        // A forged source off this machine: in this namespace the sends fail locally.
        const before = (await memberlistStats(victim)).packets.sendErrors;
        for (let i = 0; i < 10; i++) await raw.send(victim.address(), pings('198.51.100.7', 7946));
        const until = Date.now() + 10_000;
        while ((await memberlistStats(victim)).packets.sendErrors < before + 1270) {
          assert.ok(Date.now() < until, 'acks to 198.51.100.7 should fail to send');
          await sleep(50);
        }
      } finally {
        reflector.close();
      }
      await assertHealthy('after forged pings');
    });

    /** Runs `attack` while pinging the victim every 20 ms; the ack round-trip times. */
    async function acksDuring(attack: () => Promise<void>): Promise<number[]> {
      const rtts: number[] = [];
      let attacking = true;
      const pinger = (async () => {
        while (attacking) {
          rtts.push(await pingRtt());
          await sleep(20);
        }
      })();
      try {
        await attack();
      } finally {
        attacking = false;
        await pinger;
      }
      return rtts;
    }

    const rttSummary = (what: string, rtts: number[]) =>
      `${rtts.length} acks during ${what}: median ${median(rtts).toFixed(1)} ms, max ${Math.max(...rtts).toFixed(1)} ms`;

    /** Writes `frame` on a fresh TCP connection to the victim and reads until the victim
     * closes it (without half-closing first, as a Go peer waits for its push/pull reply). */
    function tcpSend(frame: Uint8Array): Promise<void> {
      const [host, port] = victim.address().split(':');
      return new Promise<void>((resolve, reject) => {
        const s = connect({ host, port: Number(port) }, () => s.write(frame));
        s.on('close', () => resolve());
        s.on('error', reject);
        s.resume();
      });
    }

    test('F3: 100 LZW bombs (15 KB → 20 MB each) leave acks on time', async (t) => {
      const inner = new Uint8Array(20_000_000);
      inner[0] = MessageType.User;
      const bomb = compressMessage(inner);
      assert.ok(bomb.length < 16_000);
      const before = await memberlistStats(victim);
      const rtts = await acksDuring(async () => {
        for (let i = 0; i < 100; i++) {
          await raw.send(victim.address(), bomb);
          await sleep(10);
        }
      });
      const after = await memberlistStats(victim);
      t.diagnostic(rttSummary('100 datagram bombs', rtts));
      assert.equal((after.dropped['too-large'] ?? 0) - (before.dropped['too-large'] ?? 0), 100);
      assert.equal(victim.find('msg').length, 0, 'no 20 MB user message reached the app');
      assert.ok(median(rtts) < ACK_MEDIAN_MS, rttSummary('the bombing', rtts));
      assert.ok(Math.max(...rtts) < ACK_MAX_MS, rttSummary('the bombing', rtts));
      await assertHealthy('after the bombs');
    });

    const streamBombs: [string, Uint8Array][] = [
      ['user messages', encodeUserStream(new Uint8Array(20_000_000))],
      [
        'push/pull user states',
        encodePushPull({ join: false, nodes: [], userState: new Uint8Array(20_000_000) }),
      ],
    ];
    for (const [what, inner] of streamBombs) {
      test(`F3 on streams: 10 compressed 20 MB ${what} are refused, acks stay on time`, async (t) => {
        const frame = encodeStreamMessage(inner, {
          compress: true,
          encrypt: false,
          encryptionVersion: 1,
        });
        assert.ok(frame.length < 16_000);
        // Each bomb is refused, or (on a loaded machine, behind the others) its stream times out.
        const handled = async () => {
          const ml = await memberlistStats(victim);
          return ml.refused.userMessageSize + ml.streams.errors;
        };
        const before = await handled();
        const refusedBefore = (await memberlistStats(victim)).refused.userMessageSize;
        const rtts = await acksDuring(async () => {
          for (let i = 0; i < 10; i++) await tcpSend(frame);
          const deadline = Date.now() + 20_000;
          while ((await handled()) < before + 10) {
            assert.ok(Date.now() < deadline, 'the stream bombs were not all handled');
            await sleep(50);
          }
        });
        const refused = (await memberlistStats(victim)).refused.userMessageSize - refusedBefore;
        t.diagnostic(`${rttSummary(`10 stream bombs (${what})`, rtts)}; ${refused} refused`);
        assert.ok(refused >= 1, 'no bomb was refused: the test did not reach the limit');
        assert.equal(victim.find('msg').length, 0);
        assert.ok(median(rtts) < ACK_MEDIAN_MS, rttSummary('the stream bombs', rtts));
        assert.ok(Math.max(...rtts) < ACK_MAX_MS, rttSummary('the stream bombs', rtts));
        await assertHealthy(`after the stream bombs (${what})`);
      });
    }

    test('F7: 100,000 made-up names from one source; push/pull works throughout', async (t) => {
      const started = Date.now();
      const part = (i: number) =>
        encodeMessage({
          type: MessageType.Alive,
          body: {
            incarnation: 1,
            node: `fake-${i}`,
            addr: ipToBytes('10.200.0.1'),
            port: 7946,
            meta: null,
            vsn: VSN,
          },
        });
      let flooding = true;
      const pushPulls = { ok: 0, failed: 0 };
      const joiner = (async () => {
        while (flooding) {
          const j = await witness.request(`join ${victim.address()}`, 'joined', 10_000);
          if (j.ok) pushPulls.ok++;
          else pushPulls.failed++;
        }
      })();
      for (let i = 0; i < 100_000; i += 30) {
        await raw.send(
          victim.address(),
          makeCompound(Array.from({ length: 30 }, (_, k) => part(i + k))),
        );
        if (i % 600 === 0) await sleep(1);
      }
      const ml = await memberlistStats(victim);
      flooding = false;
      await joiner;
      const seconds = (Date.now() - started) / 1000;
      const table = Object.values(ml.members).reduce((s, x) => s + x, 0);
      t.diagnostic(
        `flood of ${seconds.toFixed(1)} s: ${table} records, refused ${JSON.stringify(ml.refused)}, push/pulls ${JSON.stringify(pushPulls)}, RSS +${((rssKb() - baseRssKb) / 1024).toFixed(0)} MB`,
      );
      assert.ok(table <= 2 + 256 + 10 * seconds + 10, `${table} records after ${seconds} s`);
      // Most of the flood was read (a loaded victim's socket may overflow and drop some).
      assert.ok(ml.refused.newNodeRate > 50_000, JSON.stringify(ml.refused));
      assert.ok(pushPulls.ok > 0 && pushPulls.failed === 0, JSON.stringify(pushPulls));
      await assertHealthy('after the flood', 2 + 256 + 10 * seconds + 50);
    });
  });
}
