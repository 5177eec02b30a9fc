import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Awareness } from '../src/awareness.js';
import { VirtualClock } from '../src/clock.js';
import {
  pushPullScaleMultiplier,
  remainingSuspicionMs,
  retransmitLimit,
  Suspicion,
  suspicionTimeoutMs,
} from '../src/suspicion.js';

describe('Lifeguard formulas (docs/spec/memberlist-wire.md §10, §7.4, §11.3)', () => {
  it('suspicionTimeout matches the §10.1 examples', () => {
    const lan: [number, number][] = [
      [1, 4000],
      [10, 4000],
      [11, 4164],
      [50, 6792],
      [100, 8000],
      [1000, 12000],
      [10000, 16000],
    ];
    for (const [n, ms] of lan) assert.equal(suspicionTimeoutMs(4, n, 1000), ms, `n=${n}`);
    const wan: [number, number][] = [
      [10, 30000],
      [100, 60000],
      [1000, 90000],
    ];
    for (const [n, ms] of wan) assert.equal(suspicionTimeoutMs(6, n, 5000), ms, `wan n=${n}`);
  });

  it('confirmations shrink the timeout as in §10.2', () => {
    assert.equal(remainingSuspicionMs(0, 2, 0, 4000, 24000), 24000);
    assert.equal(remainingSuspicionMs(1, 2, 0, 4000, 24000), 11381);
    assert.equal(remainingSuspicionMs(2, 2, 0, 4000, 24000), 4000);
    assert.equal(remainingSuspicionMs(1, 2, 5000, 4000, 24000), 6381);
  });

  it('pushPullScale multiplier table of §7.4', () => {
    const table: [number, number][] = [
      [1, 1],
      [32, 1],
      [33, 2],
      [64, 2],
      [65, 3],
      [128, 3],
      [129, 4],
      [256, 4],
      [1000, 6],
    ];
    for (const [n, m] of table) assert.equal(pushPullScaleMultiplier(n), m, `n=${n}`);
  });

  it('retransmitLimit table of §11.3', () => {
    const table: [number, number][] = [
      [0, 0],
      [1, 4],
      [9, 4],
      [10, 8],
      [99, 8],
      [100, 12],
      [999, 12],
      [1000, 16],
      [9999, 16],
    ];
    for (const [n, l] of table) assert.equal(retransmitLimit(4, n), l, `n=${n}`);
  });

  it('awareness clamps to [0, max-1] and scales the interval (§9.5)', () => {
    const a = new Awareness(8);
    assert.equal(a.apply(-1), 0);
    assert.equal(a.scaleTimeout(1000), 1000);
    assert.equal(a.apply(3), 3);
    assert.equal(a.scaleTimeout(1000), 4000);
    assert.equal(a.apply(100), 7);
    assert.equal(a.healthScore, 7);
    assert.equal(a.apply(-2), 5);
  });
});

describe('Suspicion timer', () => {
  it('with k ≥ 1 fires at max without confirmations', async () => {
    const clock = new VirtualClock();
    let firedAt = -1;
    new Suspicion(clock, 'a', 2, 4000, 24000, () => {
      firedAt = clock.now();
    });
    await clock.advance(23999);
    assert.equal(firedAt, -1);
    await clock.advance(1);
    assert.equal(firedAt, 24000);
  });

  it('with k = 0 fires at min', async () => {
    const clock = new VirtualClock();
    let firedAt = -1;
    new Suspicion(clock, 'a', 0, 3000, 18000, () => {
      firedAt = clock.now();
    });
    await clock.advance(5000);
    assert.equal(firedAt, 3000);
  });

  it('counts only new confirmations from others, up to k, and re-arms', async () => {
    const clock = new VirtualClock();
    let fired = 0;
    let firedAt = -1;
    const s = new Suspicion(clock, 'a', 2, 4000, 24000, (c) => {
      fired++;
      firedAt = clock.now();
      assert.equal(c, 2);
    });
    assert.equal(s.confirm('a'), false, 'the accuser is no confirmation');
    await clock.advance(1000);
    assert.equal(s.confirm('b'), true);
    assert.equal(s.confirm('b'), false, 'duplicate');
    await clock.advance(1000);
    assert.equal(s.confirm('c'), true);
    assert.equal(s.confirm('d'), false, 'beyond k');
    // Two confirmations: timeout = min = 4 s from the start, 2 s already elapsed.
    await clock.advance(1999);
    assert.equal(fired, 0);
    await clock.advance(1);
    assert.equal(fired, 1);
    assert.equal(firedAt, 4000);
  });

  it('fires at once when a confirmation comes after the shortened timeout', async () => {
    const clock = new VirtualClock();
    let firedAt = -1;
    const s = new Suspicion(clock, 'a', 1, 3000, 18000, () => {
      firedAt = clock.now();
    });
    await clock.advance(5000);
    assert.equal(s.confirm('b'), true);
    await clock.advance(0);
    assert.equal(firedAt, 5000);
  });

  it('cancel prevents firing', async () => {
    const clock = new VirtualClock();
    let fired = false;
    const s = new Suspicion(clock, 'a', 0, 1000, 6000, () => {
      fired = true;
    });
    s.cancel();
    await clock.advance(10000);
    assert.equal(fired, false);
    assert.equal(s.confirm('b'), false);
  });
});
