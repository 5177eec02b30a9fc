#!/usr/bin/env node
// Which parts of the compiled codec a fuzz run reaches: runs fuzz/run.mjs under V8 block
// coverage and reports, per codec module, the share of source bytes executed and the first
// lines never executed (what the mutator does not get to).
//
//   node packages/memberlist/fuzz/coverage.mjs [seconds] [lines to list per module, default 4]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const seconds = process.argv[2] ?? '30';
const listLines = Number(process.argv[3] ?? 4);
const dir = mkdtempSync(join(tmpdir(), 'codec-cov-'));
const r = spawnSync(process.execPath, [join(here, 'run.mjs'), seconds, '--seed', '7'], {
  env: { ...process.env, NODE_V8_COVERAGE: dir },
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (r.status !== 0) console.log(`fuzz run exited with ${r.status}`);

const codecDir = join(here, '..', 'dist', 'src', 'codec');
const results = new Map();
for (const f of readdirSync(dir)) {
  const data = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  for (const s of data.result) {
    if (!s.url.startsWith('file://')) continue;
    const file = fileURLToPath(s.url);
    if (dirname(file) !== codecDir) continue;
    const src = readFileSync(file, 'utf8');
    // V8 block ranges nest; the innermost range covering a byte decides its count.
    const count = new Int32Array(src.length).fill(-1);
    const ranges = s.functions.flatMap((fn) => fn.ranges);
    ranges.sort((a, b) => b.endOffset - b.startOffset - (a.endOffset - a.startOffset));
    for (const rg of ranges) count.fill(rg.count, rg.startOffset, rg.endOffset);
    const prev = results.get(file);
    if (prev)
      for (let i = 0; i < count.length; i++) prev.count[i] = Math.max(prev.count[i], count[i]);
    else results.set(file, { src, count });
  }
}
rmSync(dir, { recursive: true, force: true });

console.log(`| module | source bytes executed | never-executed lines (first ${listLines}) |`);
console.log('|---|---:|---|');
for (const [file, { src, count }] of [...results].sort()) {
  let code = 0;
  let hit = 0;
  const missed = new Set();
  let line = 1;
  for (let i = 0; i < src.length; i++) {
    if (src[i] === '\n') line++;
    else if (!/\s/.test(src[i])) {
      code++;
      if (count[i] !== 0) hit++;
      else missed.add(line);
    }
  }
  const lines = src.split('\n');
  const sample = [...missed]
    .filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(lines[l - 1]))
    .slice(0, listLines)
    .map((l) => `\`${l}: ${lines[l - 1].trim().slice(0, 50)}\``)
    .join(' ');
  console.log(`| ${file.split('/').pop()} | ${((hit / code) * 100).toFixed(1)}% | ${sample} |`);
}
