/**
 * Bounded fuzzing of every decoder (about 20 s in total): mutated Go vectors and captures,
 * plus raw random bytes. Every input must decode or be rejected with a CodecError; anything
 * else, or a single input taking more than 2 s, fails. `fuzz/run.mjs` runs the same
 * harness for longer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { skipWithoutVectors, toHex } from './codec-fixtures.js';
import { loadSeeds, mutate, Rng, runTarget, seedPools, TARGETS } from './fuzz-targets.js';

const skip = skipWithoutVectors();
const seeds = skip ? [] : loadSeeds();
const pools = seedPools(seeds);
const BUDGET_MS = Math.floor(18_000 / Math.max(1, TARGETS.length));
// Generous: a hang shows as seconds or never; GC pauses on a loaded CI box stay well below this.
const SLOW_MS = 2000;

function check(target: (typeof TARGETS)[number], input: Uint8Array): void {
  const t0 = performance.now();
  const out = runTarget(target, input);
  const ms = performance.now() - t0;
  if (!out.ok) {
    assert.fail(
      `${target.name} crashed on ${toHex(input.subarray(0, 256))} (${input.length} bytes): ${inspect(out.error)}`,
    );
  }
  assert.ok(
    ms < SLOW_MS,
    `${target.name} took ${ms.toFixed(0)} ms on a ${input.length}-byte input`,
  );
}

describe('fuzz: every decoder rejects garbage with a CodecError', { skip }, () => {
  for (const target of TARGETS) {
    it(target.name, () => {
      const pool = pools.get(target.name) ?? seeds;
      let runs = 0;
      fc.assert(
        fc.property(
          fc.nat(pool.length - 1),
          fc.nat(seeds.length - 1),
          fc.integer(),
          fc.uint8Array({ maxLength: 64 }),
          fc.nat(7),
          (i, j, rngSeed, random, mode) => {
            runs++;
            // Mostly mutants of this decoder's own seeds, some of any seed, some pure noise.
            const input =
              mode === 0
                ? random
                : mode === 1
                  ? mutate(seeds[j], pool[i], new Rng(rngSeed))
                  : mutate(pool[i], seeds[j], new Rng(rngSeed));
            check(target, input);
          },
        ),
        { numRuns: 1_000_000, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false },
      );
      // The unmutated seeds themselves must never crash either.
      for (const s of seeds) check(target, s);
      assert.ok(pool.length > 0);
      assert.ok(runs > 30, `only ${runs} inputs ran within ${BUDGET_MS} ms`);
    });
  }
});
