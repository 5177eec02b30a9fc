#!/usr/bin/env node
// Fails when an import goes against the layering of docs/architecture.md. The table of who may
// import whom is read from that document (between `<!-- layers: begin -->` and `<!-- layers:
// end -->`), so the rule and its documentation are one text. Checked, in packages/*/src,
// packages/*/test and tests/:
//   - `@isopeer/<q>` only where the table allows it (tests/ may import every package); a package
//     whose row says "test files only" from any test and from no library code;
//   - only entry points a package declares in its package.json `exports`, and its `./internal`
//     entry only from tests (packages/*/test, tests/);
//   - no relative import that leaves its package (a deep import into another package's src or
//     dist), and none from a package into tests/.
// Usage: node scripts/check-layers.mjs [--root DIR]   (exit 1 and one line per violation)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';

const require = createRequire(import.meta.url);
const ts = require('typescript');

const args = process.argv.slice(2);
const rootArg = args.indexOf('--root');
const root = resolve(
  rootArg >= 0 ? args[rootArg + 1] : new URL('..', import.meta.url).pathname.replace(/\/$/, ''),
);

/**
 * `@isopeer/<dir>` (or the CLI, `isopeer`) → the packages it may import, from the table in
 * docs/architecture.md; rows saying "test files only" name packages any test may import and no
 * library code may.
 */
function readLayers() {
  const doc = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
  const m = /<!-- layers: begin -->([\s\S]*?)<!-- layers: end -->/.exec(doc);
  if (!m) throw new Error('docs/architecture.md: no <!-- layers: begin/end --> table');
  const layers = new Map();
  const testOnly = new Set();
  for (const line of m[1].split('\n')) {
    const row = /^\|\s*`(@isopeer\/[\w-]+|isopeer)`\s*\|\s*(.*?)\s*\|/.exec(line);
    if (!row) continue;
    const allowed = [...row[2].matchAll(/`(@isopeer\/[\w-]+)`/g)].map((x) => x[1]);
    layers.set(row[1], new Set(allowed));
    if (/test files only/.test(row[2])) testOnly.add(row[1]);
  }
  if (layers.size === 0) throw new Error('docs/architecture.md: the layers table has no rows');
  return { layers, testOnly };
}

/** Package name → { dir, entries (subpaths of `exports`) }. */
function readPackages() {
  const packages = new Map();
  const dir = join(root, 'packages');
  for (const name of readdirSync(dir)) {
    const file = join(dir, name, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    const entries = new Set(Object.keys(pkg.exports ?? { '.': '' }));
    packages.set(pkg.name, { dir: join(dir, name), entries });
  }
  return packages;
}

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Module specifiers of static imports, re-exports and `import()` calls, with their positions. */
function importsOf(file, text) {
  const found = [];
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const visit = (node) => {
    const spec =
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier
        ? node.moduleSpecifier
        : ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword
          ? node.arguments[0]
          : undefined;
    if (spec && ts.isStringLiteralLike(spec)) {
      found.push({ spec: spec.text, pos: spec.getStart(source) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const inside = (dir, file) => file === dir || file.startsWith(dir + sep);

function check() {
  const { layers, testOnly } = readLayers();
  const packages = readPackages();
  const testsDir = join(root, 'tests');
  const problems = [];
  const sources = [];
  for (const [name, p] of packages) {
    if (!layers.has(name)) problems.push(`docs/architecture.md: no row for ${name}`);
    for (const file of walk(join(p.dir, 'src'))) sources.push({ file, owner: name, test: false });
    for (const file of walk(join(p.dir, 'test'))) sources.push({ file, owner: name, test: true });
  }
  for (const sub of ['src', 'support']) {
    for (const file of walk(join(testsDir, sub))) sources.push({ file, owner: null, test: true });
  }
  for (const { file, owner, test } of sources) {
    const text = readFileSync(file, 'utf8');
    const where = (pos) => `${relative(root, file)}:${text.slice(0, pos).split('\n').length}`;
    const home = owner ? packages.get(owner).dir : testsDir;
    for (const { spec, pos } of importsOf(file, text)) {
      const bad = (why) => problems.push(`${where(pos)}: import '${spec}' ${why}`);
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (!inside(home, target)) {
          bad(`leaves ${relative(root, home)}: import other packages by name, not by path`);
        }
        continue;
      }
      const m = /^(@isopeer\/[\w-]+)(\/.*)?$/.exec(spec);
      if (!m) continue;
      const [, name, rest] = m;
      const target = packages.get(name);
      if (!target) {
        bad('names no package of this repository');
        continue;
      }
      const entry = rest ? `.${rest}` : '.';
      if (!target.entries.has(entry)) {
        bad(
          `is not an entry point of ${name} (its package.json exports ${[...target.entries].join(', ')})`,
        );
        continue;
      }
      if (entry === './internal' && !test) bad('is for tests and tools only, not for library code');
      if (testOnly.has(name)) {
        if (!test) bad('is for test files only, not for library code (docs/architecture.md)');
        continue;
      }
      if (owner === null || name === owner) continue;
      if (!layers.get(owner)?.has(name)) {
        bad(
          `goes against the layers: ${owner} may import ${[...(layers.get(owner) ?? [])].join(', ') || 'no other package'} (docs/architecture.md)`,
        );
      }
    }
  }
  return { problems, files: sources.length };
}

const { problems, files } = check();
if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(`check-layers: ${problems.length} import(s) against docs/architecture.md`);
  process.exit(1);
}
console.log(`check-layers: ${files} files, every import follows docs/architecture.md`);
