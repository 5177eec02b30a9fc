#!/usr/bin/env node
// Wall time of `isopeer test examples/tests/default.cmd` from starting the runner process to its
// exit (process start-up of the runner and of the three peers included), N runs, median.
// Usage: node bench/testkit/bench.mjs [runs=5] [script=examples/tests/default.cmd]
// Build first (npx tsc -b). Writes bench/testkit/results/default-<iso>.json.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const runs = Number(process.argv[2] ?? 5);
const script = process.argv[3] ?? 'examples/tests/default.cmd';
const cli = join(root, 'packages/isopeer/dist/src/cli.js');

function once() {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [cli, 'test', script], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`run failed (exit ${code}):\n${out}`));
      else resolve(ms);
    });
  });
}

const times = [];
for (let i = 0; i < runs; i++) {
  const ms = await once();
  times.push(ms);
  process.stdout.write(`run ${i + 1}/${runs}: ${ms.toFixed(0)} ms\n`);
}
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
process.stdout.write(
  `median ${median.toFixed(0)} ms (min ${sorted[0].toFixed(0)}, max ${sorted.at(-1).toFixed(0)}) over ${runs} runs\n`,
);
const results = join(root, 'bench/testkit/results');
mkdirSync(results, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeFileSync(
  join(results, `default-${stamp}.json`),
  `${JSON.stringify({ script, runs, times, medianMs: median, node: process.version, cpus: cpus().length }, null, 2)}\n`,
);
