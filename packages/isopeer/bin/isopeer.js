#!/usr/bin/env node
// The `isopeer` command as npm links it. This file is committed (the CLI it loads is built), so
// the link exists as soon as `npm ci` or `npm install` has run, before any build; until the
// build has run it says what to do instead of failing with a missing-module stack trace.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The bundled CLI (scripts/bundle-cli.mjs): the same code as dist/src/cli.js, quicker to start.
const cli = new URL('../dist/bundle/cli.js', import.meta.url);

if (existsSync(cli)) {
  await import(cli.href);
} else {
  process.stderr.write(
    `isopeer: the command is not built yet (${fileURLToPath(cli)} is missing).\n` +
      'Run `npm run build` in the isopeer repository, then try again.\n',
  );
  process.exitCode = 1;
}
