// The Cloud Functions entry points (src/adapter/gcf.ts) over the PostgreSQL store: the
// conformance suite, unchanged, against a real functions-framework process serving `bootstrap`;
// a per-endpoint target through the framework; and every per-endpoint export.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { createServer as createNetServer } from 'node:net';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDocument } from '../src/codec.js';
import { runConformanceSuite } from './conformance.js';
import {
  CuttableProxy,
  PG_URL,
  post,
  postgresTestScope,
  type ServerProcess,
  waitFor,
  waitForUrl,
  withPort,
  withSchema,
} from './postgres-fixtures.js';

const pg = await postgresTestScope();
const skip = pg.skip;

// The package's `functions-framework` bin, next to its main module (the bin is not exported).
const FRAMEWORK = join(
  dirname(createRequire(import.meta.url).resolve('@google-cloud/functions-framework')),
  'main.js',
);
const SOURCE = fileURLToPath(new URL('../src/adapter/gcf.js', import.meta.url));

/** A port free right now (the framework cannot report a kernel-chosen one). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Spawns `functions-framework --target=T --source=gcf.js` on a free port. */
async function startFramework(target: string, env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [FRAMEWORK, `--target=${target}`, `--source=${SOURCE}`, `--port=${port}`],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  // The framework prints `URL: http://localhost:PORT/`; talk to it over 127.0.0.1.
  const p = await waitForUrl(
    child,
    /^URL: (http:\/\/localhost:\d+)\/$/m,
    `functions-framework ${target}`,
  );
  pg.track(p);
  return { ...p, url: p.url.replace('localhost', '127.0.0.1') };
}

function databaseEnv(tag: string): Record<string, string> {
  const schema = pg.schema(tag);
  return { DATABASE_URL: withSchema(PG_URL, schema), BOOTSTRAP_ADMIN_TOKEN: 'fn-admin' };
}

if (skip) {
  test('Cloud Functions entry over PostgreSQL', { skip }, () => {});
} else {
  runConformanceSuite('Cloud Functions `bootstrap` (functions-framework process)', async () => {
    const p = await startFramework('bootstrap', databaseEnv('fn_conf'));
    return { url: p.url, adminToken: 'fn-admin', stop: p.stop };
  });

  describe('Cloud Functions per-endpoint exports', () => {
    test('a per-endpoint target serves its endpoint on any path (functions-framework)', async () => {
      const env = databaseEnv('fn_join');
      const join = await startFramework('join', env);
      const r = await post(join.url, '/', 'alice alice-h 127.0.0.1 7946 tcp 0 1557509977');
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(Object.keys(parseDocument(r.text).Peers), ['alice']);
    });

    test('join, leave, refill, list, reset, ping and config each serve their endpoint', async () => {
      const env = databaseEnv('fn_exports');
      const saved = { ...process.env };
      Object.assign(process.env, env);
      const fns = await import('../src/adapter/gcf.js');
      const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
        join: fns.join,
        leave: fns.leave,
        refill: fns.refill,
        list: fns.list,
        reset: fns.reset,
        ping: fns.ping,
        config: fns.config,
      };
      // The original's deployment: one function per endpoint under a common base URL.
      const server = createServer((req, res) => {
        const name = (req.url ?? '/').split('/')[1];
        const fn = routes[name];
        if (fn === undefined) {
          res.statusCode = 404;
          res.end();
          return;
        }
        req.url = '/';
        void fn(req, res);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const admin = { authorization: 'Bearer fn-admin' };
      try {
        assert.equal((await post(base, '/ping')).text, 'OK');
        assert.equal((await post(base, '/reset')).status, 401);
        assert.equal((await post(base, '/reset', '', admin)).status, 200);
        assert.equal(
          parseDocument((await post(base, '/config', '3 1', admin)).text).Config.maxpeers,
          3,
        );
        await post(base, '/join', 'a a-h 127.0.0.1 1 tcp 0 100');
        await post(base, '/join', 'b b-h 127.0.0.1 2 tcp 0 200');
        await post(base, '/refill', 'c c-h 127.0.0.1 3 tcp 0 150');
        await post(base, '/leave', 'a');
        const list = parseDocument((await post(base, '/list')).text);
        assert.deepEqual(Object.keys(list.Peers).sort(), ['b', 'c']);
        const bad = await post(base, '/join', 'only three fields');
        assert.equal(bad.status, 400);
        assert.match(bad.text, /expected 7 space-separated fields/);
      } finally {
        await new Promise<void>((r) => server.close(() => r()));
        await fns.closeFunctionsStore();
        process.env = saved;
      }
    });

    test('database down at the first request: 503 with a reason, then served once it is back', async () => {
      const proxy = await CuttableProxy.start(Number(new URL(PG_URL).port || 5432));
      try {
        proxy.cut();
        const schema = pg.schema('fn_down');
        const p = await startFramework('bootstrap', {
          DATABASE_URL: withSchema(withPort(PG_URL, proxy.port), schema),
        });
        const down = await post(p.url, '/list');
        assert.equal(down.status, 503);
        assert.match(down.text, /^store unavailable: database unavailable: .+\n$/);
        proxy.restore();
        // The failed open was not cached: the same instance opens the store now.
        const up = await post(p.url, '/list');
        assert.equal(up.status, 200, up.text);
        assert.equal(parseDocument(up.text).Config.maxpeers, 2);
      } finally {
        await proxy.close();
      }
    });

    test('BOOTSTRAP_PEER_TTL: a peer that does not refresh its join drops out', async () => {
      const p = await startFramework('bootstrap', {
        ...databaseEnv('fn_ttl'),
        BOOTSTRAP_PEER_TTL: '1',
      });
      const joined = await post(p.url, '/join', 'eve eve-h 127.0.0.1 7946 tcp 0 1557509977');
      assert.deepEqual(Object.keys(parseDocument(joined.text).Peers), ['eve']);
      await waitFor(
        async () =>
          Object.keys(parseDocument((await post(p.url, '/list')).text).Peers).length === 0,
        'the 1 s lease to run out',
        10_000,
        100,
      );
    });

    test('a malformed BOOTSTRAP_PEER_TTL answers 500 naming the variable', async () => {
      const p = await startFramework('bootstrap', {
        ...databaseEnv('fn_badttl'),
        BOOTSTRAP_PEER_TTL: 'soon',
      });
      const r = await post(p.url, '/list');
      assert.equal(r.status, 500);
      assert.match(r.text, /BOOTSTRAP_PEER_TTL must be a non-negative number, got "soon"/);
    });

    test('a missing DATABASE_URL answers 500 with the reason, per request', async () => {
      const p = await startFramework('bootstrap', { DATABASE_URL: '' });
      const r = await post(p.url, '/list');
      assert.equal(r.status, 500);
      assert.match(r.text, /^bootstrap function misconfigured: DATABASE_URL is not set/);
    });
  });
}
