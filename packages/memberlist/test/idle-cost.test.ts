// What idle nodes cost, counted rather than timed (issue 17, part 4): timers per node per second,
// and event-loop wake-ups when many nodes share one process. Both run on the virtual clock, so
// the counts are exact and independent of machine load.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CoalescingClock,
  DEFAULT_TIMER_SLACK_MS,
  seededRandom,
  type TimerBase,
  VirtualClock,
} from '../src/clock.js';
import { defaultLocalConfig } from '../src/config.js';
import type { Delegate } from '../src/context.js';
import { createMemberlist, type Memberlist } from '../src/memberlist.js';
import { MemoryNetwork } from '../src/transport/memory-transport.js';

/**
 * A base that counts how often the coalescing clock wakes up; `lateMs` makes every wake-up that
 * late, as Node's millisecond timers are.
 */
function countingBase(vc: VirtualClock, lateMs = 0) {
  const counts = { wakeups: 0 };
  const base: TimerBase = {
    now: () => vc.now(),
    wallNow: () => vc.wallNow(),
    setTimeout: (fn, ms) =>
      vc.setTimeout(() => {
        counts.wakeups++;
        fn();
      }, ms + lateMs),
  };
  return { base, counts };
}

async function idleCluster(
  n: number,
  clockFor: (vc: VirtualClock) => CoalescingClock | VirtualClock,
  delegateFor: (i: number) => Delegate = () => ({ getBroadcasts: () => [] }),
) {
  const vc = new VirtualClock();
  const clock = clockFor(vc);
  let timers = 0;
  const counted = {
    now: () => clock.now(),
    wallNow: () => clock.wallNow(),
    setTimeout: (fn: () => void, ms: number) => {
      timers++;
      return clock.setTimeout(fn, ms);
    },
  };
  // Datagrams arrive at once on the base clock; only the nodes' own timers are coalesced.
  const net = new MemoryNetwork({ clock: vc, seed: 1 });
  const nodes: Memberlist[] = [];
  for (let i = 0; i < n; i++) {
    nodes.push(
      await createMemberlist(
        { ...defaultLocalConfig(), name: `n${i}` },
        {
          transport: net.createTransport(),
          clock: counted,
          random: seededRandom(i + 1),
          // By default a delegate with broadcasts to offer, which keeps the gossip loop running.
          delegate: delegateFor(i),
        },
      ),
    );
  }
  for (const m of nodes.slice(1)) await m.join([nodes[0].advertiseAddress]);
  assert.ok(await vc.runUntil(() => nodes.every((m) => m.numMembers() === n), 10_000), 'converged');
  await vc.advance(5_000);
  return {
    vc,
    nodes,
    timers: () => timers,
    shutdown: () => Promise.all(nodes.map((m) => m.shutdown())),
  };
}

describe('idle cost (virtual clock)', () => {
  it('an idle node sets at most 16 timers a second (10 gossip rounds, 1 probe and its waits)', async () => {
    const c = await idleCluster(20, (vc) => vc);
    try {
      const t0 = c.timers();
      await c.vc.advance(20_000);
      const perNodeSecond = (c.timers() - t0) / 20 / 20;
      assert.ok(perNodeSecond <= 16, `${perNodeSecond.toFixed(2)} timers per node per second`);
      assert.ok(perNodeSecond >= 11, `the probe and gossip loops ran (${perNodeSecond})`);
    } finally {
      await c.shutdown();
    }
  });

  it('20 nodes in one process wake the event loop at most once per 10 ms grid step', async () => {
    let counts = { wakeups: 0 };
    const c = await idleCluster(20, (vc) => {
      const b = countingBase(vc);
      counts = b.counts;
      return new CoalescingClock(10, b.base);
    });
    try {
      const w0 = counts.wakeups;
      const t0 = c.timers();
      await c.vc.advance(20_000);
      const wakeups = counts.wakeups - w0;
      const timers = c.timers() - t0;
      // Each node keeps its own random phase, so without coalescing nearly every timer is a
      // wake-up of its own (about 300 a second here).
      assert.ok(timers >= 20 * 20 * 11, `${timers} timers ran`);
      assert.ok(wakeups <= 20_000 / 10, `${wakeups} wake-ups in 20 s for ${timers} timers`);
    } finally {
      await c.shutdown();
    }
  });

  for (const slack of [20, DEFAULT_TIMER_SLACK_MS]) {
    it(`timer slack delays single ticks, not the cadence: 10 gossip rounds and 1 probe a second (${slack} ms grid)`, async () => {
      // Re-arming "interval after the callback ran" would add up to one grid step per tick:
      // 120 ms gossip rounds instead of 100 on a 20 ms grid.
      const c = await idleCluster(20, (vc) => new CoalescingClock(slack, countingBase(vc, 2).base));
      try {
        const sum = (f: (m: Memberlist) => number) => c.nodes.reduce((s, m) => s + f(m), 0);
        const rounds0 = sum((m) => m.metrics().gossip.rounds);
        const probes0 = sum((m) => m.metrics().probes.sent);
        await c.vc.advance(30_000);
        const rounds = (sum((m) => m.metrics().gossip.rounds) - rounds0) / 20 / 30;
        const probes = (sum((m) => m.metrics().probes.sent) - probes0) / 20 / 30;
        assert.ok(
          Math.abs(rounds - 10) <= 0.1,
          `${rounds.toFixed(3)} gossip rounds per node per second`,
        );
        assert.ok(Math.abs(probes - 1) <= 0.05, `${probes.toFixed(3)} probes per node per second`);
      } finally {
        await c.shutdown();
      }
    });
  }

  it('without a broadcast delegate an idle gossip loop parks: no rounds, at most 4 timers a second', async () => {
    const c = await idleCluster(
      20,
      (vc) => vc,
      () => ({}),
    );
    try {
      const rounds0 = c.nodes.reduce((s, m) => s + m.metrics().gossip.rounds, 0);
      const t0 = c.timers();
      await c.vc.advance(20_000);
      const perNodeSecond = (c.timers() - t0) / 20 / 20;
      const rounds = c.nodes.reduce((s, m) => s + m.metrics().gossip.rounds, 0) - rounds0;
      assert.equal(rounds, 0, 'no gossip round ran while every queue was empty');
      // The probe tick, its two waits, push/pull and reconnect ticks.
      assert.ok(perNodeSecond <= 4, `${perNodeSecond.toFixed(2)} timers per node per second`);
      assert.ok(perNodeSecond >= 2, `the probe loop ran (${perNodeSecond})`);
    } finally {
      await c.shutdown();
    }
  });

  it('a broadcast queued on createBroadcastQueue() wakes the parked loop, reaches peers, and the loop parks again', async () => {
    const got = Array.from({ length: 20 }, () => 0);
    const c = await idleCluster(
      20,
      (vc) => new CoalescingClock(DEFAULT_TIMER_SLACK_MS, vc),
      (i) => ({ notifyMsg: () => got[i]++ }),
    );
    try {
      const queue = c.nodes[3].createBroadcastQueue();
      const rounds = () => c.nodes[3].metrics().gossip.rounds;
      const r0 = rounds();
      queue.queueBroadcast({ message: new TextEncoder().encode('hello'), unique: true });
      // Within one gossip interval plus the grid step (100 + 50 ms) the loop has run.
      await c.vc.advance(150);
      assert.ok(rounds() > r0, 'a gossip round ran within one interval of the broadcast');
      assert.ok(
        await c.vc.runUntil(() => queue.numQueued() === 0, 10_000),
        'the broadcast was handed out its transmit count',
      );
      // Memberlist does not forward user messages (applications re-broadcast, as `isopeer
      // node` does): the sender's own rounds reach gossipNodes peers each.
      const reached = got.filter((n) => n > 0).length;
      assert.ok(reached >= 3 && got[3] === 0, `peers reached: ${got.join(' ')}`);
      await c.vc.advance(1_000);
      const r1 = rounds();
      await c.vc.advance(10_000);
      assert.equal(rounds(), r1, 'with the queue drained the loop parked again');
    } finally {
      await c.shutdown();
    }
  });

  it('a gossip round that throws is counted and the loop keeps its cadence', async () => {
    const c = await idleCluster(
      3,
      (vc) => vc,
      () => ({
        getBroadcasts: () => {
          throw new Error('application bug');
        },
      }),
    );
    try {
      const m = c.nodes[0];
      const r0 = m.metrics().gossip.rounds;
      const e0 = m.metrics().callbackErrors;
      await c.vc.advance(10_000);
      assert.ok(m.metrics().gossip.rounds - r0 >= 95, 'about 10 rounds a second still ran');
      assert.ok(m.metrics().callbackErrors - e0 >= 95, 'each failed round was counted');
    } finally {
      await c.shutdown();
    }
  });

  it('cancelling the timer a wake-up was armed for moves the wake-up to the next live timer', async () => {
    const vc = new VirtualClock();
    const { base, counts } = countingBase(vc);
    const clock = new CoalescingClock(10, base);
    let ran = 0;
    const ackTimeout = clock.setTimeout(() => ran--, 5);
    clock.setTimeout(() => ran++, 95);
    ackTimeout.cancel();
    await vc.advance(100);
    assert.equal(ran, 1, 'only the live timer ran');
    assert.equal(counts.wakeups, 1, 'no wake-up for the cancelled timer');
  });

  it('coalesced timers run in due order, never before they are due, late by under the slack', async () => {
    const vc = new VirtualClock();
    const clock = new CoalescingClock(10, vc);
    const fired: { id: number; due: number; at: number }[] = [];
    for (let id = 0; id < 50; id++) {
      const ms = (id * 37) % 113;
      clock.setTimeout(() => fired.push({ id, due: ms, at: vc.now() }), ms);
    }
    const cancelled = clock.setTimeout(() => fired.push({ id: -1, due: 0, at: vc.now() }), 5);
    cancelled.cancel();
    await vc.advance(200);
    assert.equal(fired.length, 50);
    for (const f of fired) {
      assert.ok(
        f.at >= f.due - 1 && f.at < f.due + 10,
        `timer ${f.id} due ${f.due} ran at ${f.at}`,
      );
    }
    const dues = fired.map((f) => f.due);
    assert.deepEqual(
      dues,
      [...dues].sort((a, b) => a - b),
      'in due order',
    );
    assert.equal(clock.pending(), 0);
    assert.equal(vc.pending(), 0, 'no wake-up is left armed once nothing is scheduled');
  });

  it('a throwing callback does not stop the other timers of the same wake-up', async () => {
    const vc = new VirtualClock();
    const thrown: unknown[] = [];
    const clock = new CoalescingClock(10, vc, (err) => thrown.push(err));
    const ran: number[] = [];
    clock.setTimeout(() => ran.push(1), 1);
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 2);
    clock.setTimeout(() => ran.push(3), 3);
    await vc.advance(20);
    assert.deepEqual(ran, [1, 3]);
    assert.equal((thrown[0] as Error)?.message, 'boom', 'the error is reported');
  });
});
