import { fileURLToPath } from 'node:url';

/** The repository root (this file compiles to tests/dist/support/paths.js). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The built `isopeer` CLI. */
export const isopeerCli = fileURLToPath(
  new URL('../../../packages/isopeer/dist/src/cli.js', import.meta.url),
);
