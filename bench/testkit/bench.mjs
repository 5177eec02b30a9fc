#!/usr/bin/env node
// Wall time of `isopeer test examples/tests/default.cmd` from starting the runner process to its
// exit (process start-up of the runner and of the three peers included), N runs, median.
// Usage: node bench/testkit/bench.mjs [runs=5] [script=examples/tests/default.cmd]
// Build first (npx tsc -b). Writes bench/testkit/results/default-<iso>.json (and
// default-latest.json) with the run's record: commit, command, load before and after.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRun, finishRun, startRun, writeRaw } from '../lib/run-meta.mjs';

const root = new URL('../../', import.meta.url).pathname;
const runs = Number(process.argv[2] ?? 5);
const script = process.argv[3] ?? 'examples/tests/default.cmd';
const cli = join(root, 'packages/isopeer/dist/src/cli.js');

/**
 * One run: wall time from spawn to exit, split into phases from the JSON report: runner boot
 * (spawn to run start), first line (includes the first peer's process start-up), the other
 * lines, and the tail (last line to exit: settle, summary, stopping peers, reports).
 */
function once() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-testkit-'));
  const json = join(dir, 'report.json');
  return new Promise((resolve, reject) => {
    const spawnedAt = Date.now();
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [cli, 'test', script, '--json', json], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) {
        reject(new Error(`run failed (exit ${code}):\n${out}`));
        return;
      }
      const s = JSON.parse(readFileSync(json, 'utf8')).scripts[0];
      rmSync(dir, { recursive: true, force: true });
      const cmds = s.cases.filter((c) => c.kind === 'command');
      const first = cmds[0].durationMs;
      const linesEnd = Math.max(...cmds.map((c) => c.startMs + c.durationMs));
      const boot = s.startedAt - spawnedAt;
      resolve({
        ms,
        phases: {
          boot,
          firstLine: first,
          otherLines: linesEnd - first,
          tail: ms - boot - linesEnd,
        },
      });
    });
  });
}

const meta = startRun('testkit');
const runs_ = [];
for (let i = 0; i < runs; i++) {
  const load = loadavg()[0];
  const r = await once();
  runs_.push({ ...r, load1: load });
  const p = r.phases;
  process.stdout.write(
    `run ${i + 1}/${runs}: ${r.ms.toFixed(0)} ms (boot ${p.boot}, first line ${p.firstLine}, other lines ${p.otherLines}, tail ${p.tail.toFixed(0)}; load ${load.toFixed(1)})\n`,
  );
}
const times = runs_.map((r) => r.ms);
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
process.stdout.write(
  `median ${median.toFixed(0)} ms (min ${sorted[0].toFixed(0)}, max ${sorted.at(-1).toFixed(0)}) over ${runs} runs\n`,
);
finishRun(meta);
const raw = writeRaw(
  join(root, 'bench/testkit/results'),
  { meta, script, runs: runs_, medianMs: median },
  'default-',
);
process.stdout.write(`${describeRun(meta)}; raw results: ${raw}\n`);
