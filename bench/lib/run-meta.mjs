// What every benchmark harness records next to its raw numbers, so each number can be tied to
// the code it measured and the conditions it was measured under: the commit (and whether the
// working tree differed from it), the exact command, Node and Go versions, the machine, and the
// load average before and after. On a shared 2-core machine the load decides whether a
// wall-clock number means anything, so it is never left out.
//
//   const meta = startRun('bootstrap');  ...measure...  finishRun(meta);
//   writeRaw(dir, { meta, ...results });   // <dir>/<stamp>.json and <dir>/latest.json
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: repo, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** /proc/loadavg: the 1, 5 and 15 minute averages, runnable/total tasks, and the raw line. */
export function readLoad() {
  try {
    const raw = readFileSync('/proc/loadavg', 'utf8').trim();
    const [m1, m5, m15, tasks] = raw.split(' ');
    return { m1: Number(m1), m5: Number(m5), m15: Number(m15), tasks, raw };
  } catch {
    const [m1, m5, m15] = loadavg();
    return { m1, m5, m15, tasks: null, raw: null };
  }
}

/** The command as it could be typed again from the repository root. */
function command() {
  const quote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const script = process.argv[1] ? relative(repo, process.argv[1]) : '-e';
  return ['node', script, ...process.argv.slice(2)].map(quote).join(' ');
}

/** Starts the record of one harness run; call it before measuring. */
export function startRun(harness) {
  const changed = run('git', ['diff', '--name-only', 'HEAD']);
  return {
    harness,
    command: command(),
    commit: run('git', ['rev-parse', 'HEAD']),
    // Files that differ from the commit: the numbers measured them, not the commit alone.
    uncommitted: changed ? changed.split('\n') : [],
    startedAt: new Date().toISOString(),
    finishedAt: null,
    node: process.version,
    go: run('go', ['version']),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? null,
      memGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
    },
    loadBefore: readLoad(),
    loadAfter: null,
  };
}

/** Completes the record once measuring is over (call again after a later phase: last wins). */
export function finishRun(meta) {
  meta.finishedAt = new Date().toISOString();
  meta.loadAfter = readLoad();
  return meta;
}

/** One line for logs and Markdown: commit, load before → after. */
export function describeRun(meta) {
  const load = (l) => (l ? l.m1.toFixed(2) : '?');
  const dirty = meta.uncommitted.length > 0 ? ' + uncommitted changes' : '';
  return `commit ${meta.commit?.slice(0, 7) ?? 'unknown'}${dirty}, load ${load(meta.loadBefore)} → ${load(meta.loadAfter)} (1-min average, ${meta.machine.cpus} CPUs), node ${meta.node}`;
}

/**
 * Writes `record` (which should carry `meta`) as `<dir>/<prefix><stamp>.json` and
 * `<dir>/<prefix>latest.json`; returns the stamped file's path.
 */
export function writeRaw(dir, record, prefix = '') {
  mkdirSync(dir, { recursive: true });
  const stamp = (record.meta?.startedAt ?? new Date().toISOString()).replace(/[:.]/g, '-');
  const text = `${JSON.stringify(record, null, 2)}\n`;
  const file = join(dir, `${prefix}${stamp}.json`);
  writeFileSync(file, text);
  writeFileSync(join(dir, `${prefix}latest.json`), text);
  return file;
}
