#!/usr/bin/env node
// Bundles the `isopeer` command with esbuild, after `tsc -b`, into packages/isopeer/dist/bundle/:
// `isopeer node` then loads three of our files instead of 41 ES modules, and loading modules
// was most of its start-up time (bench/startup/RESULTS.md). `npm run build` runs it.
//   node scripts/bundle-cli.mjs [--outdir DIR]      (default: packages/isopeer/dist/bundle)
//
// - Input is tsc's output (dist/src), so the bundle holds exactly the type-checked code; tsc's
//   source maps are chained, so stack traces under --enable-source-maps still name the .ts files.
// - Only our own code is bundled: relative imports and the @isopeer/* workspace packages. npm
//   dependencies (commander, postgres, ...) stay imports, loaded from node_modules as usual.
// - cli.js is the one entry point. Each subcommand it imports lazily becomes its own chunk,
//   loaded only when it is the one asked for; code they share goes to chunks of its own. All
//   chunks sit in chunks/, one folder below cli.js as dist/src/commands/ is, so paths the code
//   builds from import.meta.url mean the same in both builds (../../package.json from cli.js,
//   ../cli.js from a command).
// - The tests that spawn the CLI run tsc's dist/src/cli.js, which `npx tsc -b` alone keeps
//   current; the bundle itself is tested by packages/isopeer/test/bin.test.ts, which runs this
//   script into a temporary copy of the package so that it never tests an old bundle.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const pkg = join(root, 'packages', 'isopeer');
const src = join(pkg, 'dist', 'src');
const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
const outdir = resolve(values.outdir ?? join(pkg, 'dist', 'bundle'));

if (!existsSync(join(src, 'cli.js'))) {
  console.error(`bundle-cli: ${join(src, 'cli.js')} is missing; run \`npx tsc -b\` first`);
  process.exit(1);
}

/** Bare imports other than the workspace packages and Node's built-ins are left to node_modules. */
const npmDependenciesExternal = {
  name: 'npm-dependencies-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@isopeer/') || args.path.startsWith('node:')
        ? undefined
        : { path: args.path, external: true },
    );
  },
};

// Written beside the target and swapped in at the end, so an interrupted build leaves the old
// bundle whole and chunks of earlier builds do not pile up.
const staging = `${outdir}.tmp-${process.pid}`;
rmSync(staging, { recursive: true, force: true });
try {
  await build({
    entryPoints: [join(src, 'cli.js')],
    outdir: staging,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    sourcesContent: false,
    plugins: [npmDependenciesExternal],
    logLevel: 'warning',
  });
  rmSync(outdir, { recursive: true, force: true });
  renameSync(staging, outdir);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
