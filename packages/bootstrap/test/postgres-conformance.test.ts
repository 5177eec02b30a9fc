// The protocol conformance suite, unchanged, against the PostgreSQL store: behind the Node server
// in this process, and behind a real `isopeer bootstrap-server --store postgres://...` process.
import { test } from 'node:test';
import { startBootstrapServer } from '../src/adapter/node.js';
import { createPostgresStore } from '../src/stores/postgres.js';
import { startCliServer } from './cli-server.js';
import { runConformanceSuite } from './conformance.js';
import { PG_URL, postgresTestScope, withSchema } from './postgres-fixtures.js';

const pg = await postgresTestScope();
const skip = pg.skip;

if (skip) {
  test('conformance over PostgreSQL', { skip }, () => {});
} else {
  runConformanceSuite('PostgreSQL store (Node server)', async () => {
    const schema = pg.schema('conf_node');
    const store = await createPostgresStore(PG_URL, { schema });
    const server = await startBootstrapServer({ port: 0, store, adminToken: 'pg-admin' });
    return { url: server.url, adminToken: 'pg-admin', stop: () => server.close() };
  });

  runConformanceSuite(
    'PostgreSQL store (isopeer bootstrap-server --store postgres://)',
    async () => {
      const schema = pg.schema('conf_cli');
      const s = await startCliServer(['--store', withSchema(PG_URL, schema)]);
      return { url: s.url, stop: async () => void (await s.stop()) };
    },
  );
}
