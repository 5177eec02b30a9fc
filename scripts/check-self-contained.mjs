#!/usr/bin/env node
// Fails when a tracked file names a path outside the repository: a user's clone has nothing
// beside it, so code, tests, docs and scripts may only use what the repository holds (vectors
// live in packages/memberlist/test/vectors/, protocol facts in docs/). Binary files are skipped.
// Usage: node scripts/check-self-contained.mjs [--root DIR]   (exit 1, one line per hit)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const rootArg = args.indexOf('--root');
const root = resolve(
  rootArg >= 0 ? args[rootArg + 1] : new URL('..', import.meta.url).pathname.replace(/\/$/, ''),
);

// Written in pieces so that this file does not name what it looks for.
const shelf = 'shared';
const patterns = [`../${shelf}`, `${shelf}/vectors`, `${shelf}/docs`, `/work/${shelf}`];

const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f !== '' && f !== 'package-lock.json');

const hits = [];
for (const file of files) {
  let text;
  try {
    const bytes = readFileSync(join(root, file));
    if (bytes.includes(0)) continue; // binary (images, captures)
    text = bytes.toString('utf8');
  } catch {
    continue; // deleted in the working tree but still tracked
  }
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const found = patterns.find((p) => line.includes(p));
    if (found) hits.push(`${file}:${i + 1}: names ${found}, a path outside the repository`);
  });
}

if (hits.length > 0) {
  process.stderr.write(`${hits.join('\n')}\n`);
  process.stderr.write(
    'check-self-contained: copy the data into the repository (with its origin) or write the facts into docs/\n',
  );
  process.exit(1);
}
process.stdout.write(
  `check-self-contained: ${files.length} tracked files name nothing outside the repository\n`,
);
