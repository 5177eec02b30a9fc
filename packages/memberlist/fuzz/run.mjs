#!/usr/bin/env node
// Long-running fuzz of every memberlist codec decoder, using the same harness as
// test/fuzz-codec.test.ts (mutated Go vectors/captures plus random bytes).
//
//   npx tsc -b packages/memberlist && node packages/memberlist/fuzz/run.mjs [seconds] [--seed N]
//
// Prints progress every 10 s and a summary table; crashing inputs are written as hex to
// packages/memberlist/fuzz/crashes/ (exit code 1 if any). An input taking over 1 s counts as a hang.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const harness = await import(join(here, '..', 'dist', 'test', 'fuzz-targets.js')).catch((e) => {
  console.error(
    `cannot load the compiled harness (build first: npx tsc -b packages/memberlist): ${e.message}`,
  );
  process.exit(2);
});
const { TARGETS, loadSeeds, mutate, Rng, runTarget, seedPools } = harness;

const args = process.argv.slice(2);
const seconds = Number(args.find((a) => /^\d+(\.\d+)?$/.test(a)) ?? 60);
const seedArg = args.indexOf('--seed');
const seed = seedArg >= 0 ? Number(args[seedArg + 1]) : Date.now() & 0xffffffff;
if (!(seconds > 0)) {
  console.error('usage: run.mjs [seconds] [--seed N]');
  process.exit(2);
}

const seeds = loadSeeds();
const pools = seedPools(seeds);
const rng = new Rng(seed);
const stats = new Map(
  TARGETS.map((t) => [t.name, { tried: 0, accepted: 0, codes: {}, crashes: 0, hangs: 0 }]),
);
const crashes = new Map();
const crashDir = join(here, 'crashes');
let peakRss = 0;
let slowest = { ms: 0, target: '', len: 0 };

console.log(
  `fuzzing ${TARGETS.length} decoders for ${seconds} s, ${seeds.length} seeds, rng seed ${seed}`,
);
const start = performance.now();
const end = start + seconds * 1000;
let nextReport = start + 10_000;
let total = 0;
for (;;) {
  for (const t of TARGETS) {
    const s = stats.get(t.name);
    const pool = pools.get(t.name);
    for (let k = 0; k < 50; k++) {
      // Mostly mutants of this decoder's own seeds, some of any seed, some pure noise.
      const mode = rng.below(8);
      const any = seeds[rng.below(seeds.length)];
      const own = pool[rng.below(pool.length)];
      const input =
        mode === 0
          ? Uint8Array.from({ length: rng.below(96) }, () => rng.below(256))
          : mode === 1
            ? mutate(any, own, rng)
            : mutate(own, any, rng);
      const t0 = performance.now();
      const out = runTarget(t, input);
      const ms = performance.now() - t0;
      s.tried++;
      total++;
      if (ms > slowest.ms) slowest = { ms, target: t.name, len: input.length };
      if (ms > 1000) s.hangs++;
      if (out.ok) {
        if (out.code) s.codes[out.code] = (s.codes[out.code] ?? 0) + 1;
        else s.accepted++;
        continue;
      }
      s.crashes++;
      const key = `${t.name}: ${String(out.error?.stack ?? out.error)
        .split('\n')
        .slice(0, 2)
        .join(' ')}`;
      if (!crashes.has(key)) {
        crashes.set(key, input);
        mkdirSync(crashDir, { recursive: true });
        const id = createHash('sha256').update(input).digest('hex').slice(0, 12);
        writeFileSync(
          join(crashDir, `${t.name}-${id}.hex`),
          `${Buffer.from(input).toString('hex')}\n`,
        );
        console.log(`CRASH ${key}\n  ${inspect(out.error).split('\n')[0]}`);
      }
    }
  }
  const now = performance.now();
  if (now >= nextReport) {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    console.log(
      `${((now - start) / 1000).toFixed(0)} s: ${total} inputs, ${crashes.size} distinct crashes`,
    );
    nextReport += 10_000;
  }
  if (now >= end) break;
}
peakRss = Math.max(peakRss, process.memoryUsage().rss);
const elapsed = (performance.now() - start) / 1000;

console.log(`\n| decoder | inputs | accepted | rejected (by code) | crashes | hangs |`);
console.log('|---|---:|---:|---|---:|---:|');
for (const [name, s] of stats) {
  const codes = Object.entries(s.codes)
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
  console.log(`| ${name} | ${s.tried} | ${s.accepted} | ${codes} | ${s.crashes} | ${s.hangs} |`);
}
console.log(
  `\ntotal ${total} inputs in ${elapsed.toFixed(1)} s (${Math.round(total / elapsed)}/s), ` +
    `${crashes.size} distinct crashes, slowest input ${slowest.ms.toFixed(1)} ms (${slowest.target}, ${slowest.len} bytes), ` +
    `peak RSS ${(peakRss / 1048576).toFixed(0)} MiB, rng seed ${seed}`,
);
process.exit(crashes.size > 0 ? 1 : 0);
