// Shared pieces of the memberlist harnesses (delivery, idle, leave, run): /proc readings and
// the raw-result record. What a record says about the run (commit, command, load before and
// after) comes from bench/lib/run-meta.mjs, the one place every harness takes it from.
import { readFileSync } from 'node:fs';
import { finishRun, startRun, writeRaw } from '../lib/run-meta.mjs';

/** Starts the record of one harness run: `{ meta }`, to which the harness adds its numbers. */
export function startRecord(harness) {
  return { meta: startRun(harness) };
}

/**
 * Completes the record's meta (load after, finish time) and writes
 * `results/<harness>-latest.json` plus a timestamped copy; returns the latter's path.
 */
export function saveRecord(dir, record) {
  finishRun(record.meta);
  return writeRaw(dir, record, `${record.meta.harness}-`);
}

const CLK_TCK = 100; // Linux USER_HZ on every mainstream kernel

/** CPU seconds (utime + stime) a process has used, from /proc. */
export function procCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** A memory figure of /proc/<pid>/status in MiB (`VmRSS`, `VmHWM`, …), or null. */
export function procMemMiB(pid, field) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return m ? Number(m[1]) / 1024 : null;
}

/** Runs a harness's `main`, then stops every node it left (`closeAll`) and exits 0 or 1. */
export function runHarness(name, main, closeAll) {
  main().then(
    async () => {
      await closeAll();
      process.exit(0);
    },
    async (err) => {
      process.stderr.write(`${name} failed: ${err.stack ?? err}\n`);
      await closeAll();
      process.exit(1);
    },
  );
}
