#!/usr/bin/env node
// Builds BENCHMARKS.md from the summary in bench/SUMMARY.md and every bench/<area>/*RESULTS.md
// (each harness's own write-up: method, numbers, how to rerun). Headings are demoted one level
// and relative links (plots, raw result files) are rewritten to stay valid from the repo root.
// Every row of the summary's headline table must name the commit it measured (in backticks),
// so that no headline number floats free of the code behind it.
//   node scripts/assemble-benchmarks.mjs           # write BENCHMARKS.md
//   node scripts/assemble-benchmarks.mjs --check   # exit 1 if BENCHMARKS.md is not up to date
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const order = [
  [
    'memberlist',
    [
      'RESULTS.md',
      'issue17-RESULTS.md',
      'sim-RESULTS.md',
      'scale-RESULTS.md',
      'codec-RESULTS.md',
      'fuzz-RESULTS.md',
    ],
  ],
  ['bootstrap', ['RESULTS.md', 'postgres-RESULTS.md']],
  ['chat', ['RESULTS.md']],
  ['testkit', ['RESULTS.md', 'false-positives-RESULTS.md']],
  ['startup', ['RESULTS.md']],
];

function rewrite(text, dir) {
  const demoted = text.replace(/^(#{1,5}) /gm, '#$1 ');
  // ](target) where target is relative: prefix with the file's folder.
  return demoted.replace(/\]\((?!https?:|\/|#|mailto:)([^)\s]+)\)/g, (_m, target) => {
    const clean = target.startsWith('./') ? target.slice(2) : target;
    return `](${dir}/${clean})`;
  });
}

/** Rows of the table under "## Headlines" that name no commit (a backticked hex id). */
function headlinesWithoutCommit(summary) {
  const section = summary.split(/^## /m).find((s) => s.startsWith('Headlines'));
  if (!section) return ['(no "## Headlines" section in bench/SUMMARY.md)'];
  const rows = section.split('\n').filter((l) => l.startsWith('|') && !/^\|[-| :]+\|$/.test(l));
  return rows
    .slice(1) // the header row
    .filter((row) => !/`[0-9a-f]{7,40}`/.test(row))
    .map((row) => row.split('|')[1].trim());
}

const summary = readFileSync(join(root, 'bench', 'SUMMARY.md'), 'utf8').trimEnd();
const missing = headlinesWithoutCommit(summary);
if (missing.length > 0) {
  console.error(`assemble-benchmarks: headline rows without a commit: ${missing.join('; ')}`);
  process.exit(1);
}
const parts = [summary];
for (const [area, files] of order) {
  const dir = join(root, 'bench', area);
  const known = new Set(files);
  const extra = existsSync(dir)
    ? readdirSync(dir).filter((f) => f.endsWith('RESULTS.md') && !known.has(f))
    : [];
  for (const f of [...files, ...extra.sort()]) {
    const path = join(dir, f);
    if (!existsSync(path)) continue;
    parts.push(
      `<!-- from bench/${area}/${f} -->\n${rewrite(readFileSync(path, 'utf8').trimEnd(), `bench/${area}`)}`,
    );
  }
}
const text = `${parts.join('\n\n---\n\n')}\n`;
const target = join(root, 'BENCHMARKS.md');
if (process.argv.includes('--check')) {
  const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
  if (current !== text) {
    console.error(
      'assemble-benchmarks: BENCHMARKS.md differs from bench/SUMMARY.md + bench/*/*RESULTS.md; run node scripts/assemble-benchmarks.mjs',
    );
    process.exit(1);
  }
  process.stdout.write('BENCHMARKS.md is up to date\n');
} else {
  writeFileSync(target, text);
  process.stdout.write(`BENCHMARKS.md written from ${parts.length - 1} result files\n`);
}
