/*
 * A bootstrap server process over the PostgreSQL store, for tests that need several independent
 * handler processes on one database. Usage: node postgres-server-child.js DATABASE_URL
 * Env: BOOTSTRAP_ADMIN_TOKEN, PG_CONNECT_TIMEOUT_MS, PG_STATEMENT_TIMEOUT_MS.
 * Prints `LISTENING <url>` once it serves; SIGTERM closes it gracefully.
 */
import { startBootstrapServer } from '../src/adapter/node.js';
import { createPostgresStore } from '../src/stores/postgres.js';

const url = process.argv[2];
if (url === undefined) throw new Error('usage: postgres-server-child.js DATABASE_URL');
const ms = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);

const store = await createPostgresStore(url, {
  connectTimeoutMs: ms('PG_CONNECT_TIMEOUT_MS'),
  statementTimeoutMs: ms('PG_STATEMENT_TIMEOUT_MS'),
});
const server = await startBootstrapServer({
  port: 0,
  store,
  adminToken: process.env.BOOTSTRAP_ADMIN_TOKEN,
});
process.stdout.write(`LISTENING ${server.url}\n`);
process.once('SIGTERM', () => {
  server.close().then(() => process.exit(0));
});
