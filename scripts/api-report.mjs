#!/usr/bin/env node
// Records the public API of every package in api/<report>.api.md with API Extractor, so that a
// change to what users can import shows up in review as a diff of those files.
//   node scripts/api-report.mjs            check: exit 1 when a report is out of date (npm test)
//   node scripts/api-report.mjs --update   rewrite the reports (npm run api)
//   --root DIR                             another repository tree (the script's own tests)
// Both fail when an entry point's API uses a type it does not export (ae-forgotten-export).
// Needs the built declarations (`npx tsc -b`). One report per entry point in a package's
// `exports`: `.` is named after the package (api/memberlist.api.md), a subpath is appended
// (api/bootstrap-server.api.md). Left out: `./internal` entry points, which are documented as
// having no stable API, packages that export no modules (the CLI) and private packages (test
// helpers, never published). Shared settings are in api/api-extractor.json; see api/README.md.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompilerState, Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const args = process.argv.slice(2);
const rootArg = args.indexOf('--root');
const root =
  rootArg >= 0 ? args[rootArg + 1] : new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const update = args.includes('--update');
const configPath = join(root, 'api', 'api-extractor.json');

/** Every reported entry point: its package folder, declaration file and report name. */
function entryPoints() {
  const out = [];
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    const pkgPath = join(root, 'packages', dir, 'package.json');
    if (!existsSync(pkgPath)) continue;
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
    if (pkg.private) continue; // never published (test helpers)
    for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
      if (subpath === './internal' || typeof target?.types !== 'string') continue;
      const unscoped = pkg.name.replace(/^@[^/]+\//, '');
      out.push({
        pkgDir: join(root, 'packages', dir),
        pkgPath,
        types: join(root, 'packages', dir, target.types),
        report: subpath === '.' ? unscoped : `${unscoped}-${subpath.slice(2).replace(/\//g, '-')}`,
      });
    }
  }
  return out;
}

/** API Extractor's configuration for one entry point: the shared file plus what is per entry. */
function configFor(entry) {
  const configObject = ExtractorConfig.loadFile(configPath);
  configObject.projectFolder = entry.pkgDir;
  configObject.mainEntryPointFilePath = entry.types;
  configObject.compiler.overrideTsconfig.files = [entry.types];
  configObject.apiReport.reportFileName = entry.report;
  return ExtractorConfig.prepare({
    configObject,
    configObjectFullPath: configPath,
    packageJsonFullPath: entry.pkgPath,
  });
}

const entries = entryPoints();
for (const entry of entries) {
  if (!existsSync(entry.types)) {
    console.error(`api-report: ${entry.types} is missing; run \`npx tsc -b\` first`);
    process.exit(1);
  }
}
const configs = entries.map(configFor);
// One TypeScript program for every entry point: building it (with @types/node) is most of the
// cost, and the entries share most of their declarations.
const compilerState = CompilerState.create(configs[0], {
  additionalEntryPoints: entries.map((e) => e.types),
});

let failed = 0;
for (const [i, entry] of entries.entries()) {
  const config = configs[i];
  const forgotten = [];
  const result = Extractor.invoke(config, {
    localBuild: update,
    compilerState,
    messageCallback: (message) => {
      // Only the verdict per report matters here; API Extractor's own banner is noise.
      if (message.messageId === 'console-api-report-unchanged') message.logLevel = 'none';
      if (message.messageId === 'console-preamble') message.logLevel = 'none';
      if (message.messageId === 'ae-forgotten-export') {
        forgotten.push(message.text);
        message.handled = true;
      }
    },
  });
  const file = `api/${entry.report}.api.md`;
  for (const text of forgotten) console.error(`api-report: ${file}: ${text}`);
  if (forgotten.length > 0) {
    console.error(
      `api-report: ${file}: ${forgotten.length} type(s) used in public signatures but not exported. Export each from the entry point, or keep it out of the public API (see api/README.md).`,
    );
  }
  if (!result.succeeded) {
    console.error(
      result.apiReportChanged
        ? `api-report: ${file} is out of date. If the API change is intended, run \`npm run api\` and commit the report.`
        : `api-report: ${file}: ${result.errorCount} error(s) (see above)`,
    );
  }
  if (forgotten.length > 0 || !result.succeeded) failed++;
  if (update && result.apiReportChanged) console.log(`api-report: updated ${file}`);
}
if (failed > 0) process.exit(1);
