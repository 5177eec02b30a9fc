#!/usr/bin/env node
// Builds BENCHMARKS.md from the summary in bench/SUMMARY.md and every bench/<area>/*RESULTS.md
// (each harness's own write-up: method, numbers, how to rerun). Headings are demoted one level
// and relative links (plots, raw result files) are rewritten to stay valid from the repo root.
//   node scripts/assemble-benchmarks.mjs
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const order = [
  [
    'memberlist',
    ['RESULTS.md', 'sim-RESULTS.md', 'scale-RESULTS.md', 'codec-RESULTS.md', 'fuzz-RESULTS.md'],
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

const parts = [readFileSync(join(root, 'bench', 'SUMMARY.md'), 'utf8').trimEnd()];
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
writeFileSync(join(root, 'BENCHMARKS.md'), `${parts.join('\n\n---\n\n')}\n`);
process.stdout.write(`BENCHMARKS.md written from ${parts.length - 1} result files\n`);
