// The package's public entry points: each exports exactly the names chosen for it, and importing
// the client or the Node server loads neither optional peer dependency (postgres, the
// functions-framework) — checked in a child process whose module resolver refuses them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('each entry point exports exactly its intended names', async () => {
  const root = await import('@isopeer/bootstrap');
  assert.deepEqual(Object.keys(root).sort(), [
    'BootstrapClient',
    'BootstrapClientError',
    'BootstrapConfigError',
    'BootstrapHttpError',
    'BootstrapMalformedResponseError',
    'BootstrapProtocolError',
    'BootstrapTimeoutError',
    'BootstrapUnreachableError',
    'DEFAULT_MAXPEERS',
    'DEFAULT_MINREFILLCANDIDATES',
    'MAX_BODY_BYTES',
    'PEER_FIELDS',
    'STORE_SPEC_USAGE',
    'StoreSpecError',
    'StoreUnavailableError',
    'contactAddresses',
    'contactsFor',
    'createBootstrapHandler',
    'createBootstrapService',
    'createFileStore',
    'createMemoryStore',
    'createPostgresStore',
    'createStoreFromSpec',
    'formatConfigLine',
    'formatDocument',
    'formatPeerLine',
    'parseConfigLine',
    'parseDocument',
    'parseLeaveLine',
    'parsePeerLine',
  ]);
  const server = await import('@isopeer/bootstrap/server');
  assert.deepEqual(Object.keys(server).sort(), [
    'HttpRequestError',
    'createHttp1Server',
    'headerValue',
    'startBootstrapServer',
  ]);
  const gcf = await import('@isopeer/bootstrap/gcf');
  assert.deepEqual(Object.keys(gcf).sort(), [
    'bootstrap',
    'closeFunctionsStore',
    'config',
    'join',
    'leave',
    'list',
    'ping',
    'refill',
    'reset',
  ]);
});

// A resolve hook that fails any import of an optional peer dependency.
const REFUSE_PEERS = `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === 'postgres' || specifier.startsWith('@google-cloud/functions-framework')) {
    throw new Error('optional peer dependency loaded: ' + specifier);
  }
  return next(specifier, context);
}`)}`;

const CHILD = `
import { register } from 'node:module';
register(${JSON.stringify(REFUSE_PEERS)});
const b = await import('@isopeer/bootstrap');
const { startBootstrapServer } = await import('@isopeer/bootstrap/server');
const server = await startBootstrapServer({ port: 0, store: 'memory' });
const client = new b.BootstrapClient({ url: server.url });
await client.ping();
const joined = await client.join({ id: 'a', name: 'n', ip: '127.0.0.1', port: '7946', protocol: 'tcp', status: '', timestamp: '1' });
await server.close();
let pg = 'opened';
try { await b.createPostgresStore('postgres://127.0.0.1:1/x'); } catch (err) { pg = err.code + ': ' + err.message; }
console.log(JSON.stringify({ stored: Object.keys(joined.Peers), pg }));
`;

test('the client, handler, stores and Node server work without the optional peer dependencies', async () => {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: new URL('..', import.meta.url).pathname,
    timeout: 20_000,
  });
  const out = JSON.parse(stdout.trim());
  assert.deepEqual(out.stored, ['a']);
  // Only opening a PostgreSQL store needs the driver, and it says how to get it.
  assert.equal(
    out.pg,
    'BOOTSTRAP_STORE_UNAVAILABLE: the PostgreSQL store needs the "postgres" package: npm install postgres',
  );
});
