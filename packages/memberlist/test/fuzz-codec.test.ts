/**
 * Bounded fuzzing of every decoder: a fixed number of inputs per decoder (mutated Go vectors
 * and captures, plus raw random bytes), so a loaded machine makes the test slower, never
 * weaker. Every input must decode or be rejected with a CodecError; anything else, or a single
 * input taking more than 2 s, fails. The inputs come from one seed, new each run unless
 * FUZZ_SEED is set, and printed on failure; FUZZ_RUNS sets the count per decoder.
 * `fuzz/run.mjs` runs the same harness for longer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { toHex } from './codec-fixtures.js';
import { loadSeeds, mutate, Rng, runTarget, seedPools, TARGETS } from './fuzz-targets.js';

const seeds = loadSeeds();
const pools = seedPools(seeds);
const RUNS = Number(process.env.FUZZ_RUNS ?? 2500);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 0x7fffffff));
// Generous: a hang shows as seconds or never; GC pauses on a loaded CI box stay well below this.
const SLOW_MS = 2000;

function check(target: (typeof TARGETS)[number], input: Uint8Array): void {
  const t0 = performance.now();
  const out = runTarget(target, input);
  const ms = performance.now() - t0;
  const again = `(FUZZ_SEED=${SEED} reproduces this run)`;
  if (!out.ok) {
    assert.fail(
      `${target.name} crashed on ${toHex(input.subarray(0, 256))} (${input.length} bytes) ${again}: ${inspect(out.error)}`,
    );
  }
  assert.ok(
    ms < SLOW_MS,
    `${target.name} took ${ms.toFixed(0)} ms on a ${input.length}-byte input ${again}`,
  );
}

describe('fuzz: every decoder rejects garbage with a CodecError', () => {
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
        { numRuns: RUNS, seed: SEED },
      );
      // The unmutated seeds themselves must never crash either.
      for (const s of seeds) check(target, s);
      assert.ok(pool.length > 0);
      assert.equal(runs, RUNS, `FUZZ_SEED=${SEED}`);
    });
  }
});
