// What every issue-17 harness records next to its numbers: the commit measured, the machine
// load before and after (a 2-core machine shared with other work makes wall-clock numbers
// noise, and the load says how much), and the exact command to rerun it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function git(...args) {
  try {
    return execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/** `uptime`'s output (load averages over 1, 5 and 15 min), or os.loadavg when it is missing. */
export function load() {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(', ')}`;
  }
}

/** Starts the record of one harness run. */
export function startRecord(harness) {
  return {
    harness,
    command: `node ${process.argv
      .slice(1)
      .map((a) => (a.startsWith(repo) ? a.slice(repo.length + 1) : a))
      .join(' ')}`,
    commit: git('rev-parse', 'HEAD'),
    dirty: (git('status', '--porcelain', '--untracked-files=no') ?? '') !== '',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    loadBefore: load(),
    loadAfter: null,
  };
}

/** Writes `results/<harness>-latest.json` and a timestamped copy; returns the latter's path. */
export function saveRecord(dir, record) {
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(record, null, 2)}\n`;
  const stamped = join(dir, `${record.harness}-${record.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(join(dir, `${record.harness}-latest.json`), text);
  writeFileSync(stamped, text);
  return stamped;
}

/** Command-line `--name value` options with defaults. */
export function options(argv) {
  return (name, def) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
  };
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
