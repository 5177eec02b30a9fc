import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { partMissing } from '@isopeer/test-support';
import postgres from 'postgres';

/*
 * Shared parts of the PostgreSQL tests: the real server on this machine, one private schema per
 * test, a cuttable TCP proxy that stands in for a database outage, and child server processes.
 */

/** The real PostgreSQL of the test machine (trust auth). */
export const PG_URL =
  process.env.ISOPEER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * `undefined` when PostgreSQL answers, else the reason to skip. In CI a missing database is a
 * failure, never a skip: the function throws.
 */
export async function postgresSkipReason(): Promise<string | undefined> {
  const sql = postgres(PG_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return undefined;
  } catch (err) {
    return (
      partMissing(`PostgreSQL at ${PG_URL} is unreachable (${(err as Error).message})`) || undefined
    );
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * One test file's PostgreSQL scope: `skip` (see `postgresSkipReason`), `schema(tag)` for a fresh
 * schema, and `track(...servers)`; when the file's tests end every tracked server is stopped and
 * every schema dropped, so a failing test leaves nothing behind.
 */
export async function postgresTestScope(): Promise<{
  skip: string | undefined;
  schema(tag: string): string;
  track(...servers: ServerProcess[]): void;
}> {
  const skip = await postgresSkipReason();
  const schemas: string[] = [];
  const servers: ServerProcess[] = [];
  after(async () => {
    await Promise.all(servers.map((p) => p.stop()));
    if (!skip) for (const s of schemas) await dropSchema(s);
  });
  return {
    skip,
    schema(tag) {
      const s = uniqueSchema(tag);
      schemas.push(s);
      return s;
    },
    track(...more) {
      servers.push(...more);
    },
  };
}

/** A schema name no other test (file, process, run) uses. */
export function uniqueSchema(tag: string): string {
  return `t_${tag}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** `url` with its port replaced, keeping user, database and query. */
export function withPort(url: string, port: number): string {
  const u = new URL(url);
  u.port = String(port);
  return u.toString();
}

/** `url` with `?schema=NAME` added (understood by createPostgresStore). */
export function withSchema(url: string, schema: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`;
}

/** A direct connection for inspecting and cleaning up test schemas. */
export function adminSql(): postgres.Sql {
  return postgres(PG_URL, { max: 2, onnotice: () => {} });
}

export async function dropSchema(schema: string): Promise<void> {
  const sql = adminSql();
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * A TCP proxy between the store and PostgreSQL whose link can be cut and restored.
 *
 * Why not stop PostgreSQL itself: other test suites and developers use the same server at the
 * same time, so stopping it would break them. From the store's point of view a cut proxy is what
 * a database crash or a network partition looks like: open connections die (RST), new ones are
 * reset at once. The real server behind it stays up and keeps its data, as a restarted database
 * would.
 */
export class CuttableProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private mode: 'up' | 'cut' | 'stalled' = 'up';
  port = 0;

  private constructor(private readonly targetPort: number) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(targetPort: number): Promise<CuttableProxy> {
    const proxy = new CuttableProxy(targetPort);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy.port = (proxy.server.address() as { port: number }).port;
    return proxy;
  }

  private accept(client: Socket): void {
    if (this.mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    if (this.mode === 'stalled') {
      // Accept and never answer: a black hole.
      this.sockets.add(client);
      client.on('error', () => {});
      client.resume();
      return;
    }
    const upstream = connect(this.targetPort, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Kills every open connection and resets new ones until restore(). */
  cut(): void {
    this.mode = 'cut';
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
  }

  /**
   * Silently drops all traffic: open connections stay open but nothing passes either way, new
   * ones are accepted and never answered (a partition that loses packets instead of refusing).
   */
  stall(): void {
    this.mode = 'stalled';
    for (const s of this.sockets) {
      s.unpipe();
      s.removeAllListeners('data');
      s.resume(); // read and discard
    }
  }

  /** Forwards new connections again; connections stalled before stay dead. */
  restore(): void {
    this.mode = 'up';
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A bootstrap server with the PostgreSQL store in its own process. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const childScript = fileURLToPath(new URL('./postgres-server-child.js', import.meta.url));

/** Starts postgres-server-child.js and waits (with a deadline) for its URL. */
export function startServerProcess(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [childScript, databaseUrl], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  return waitForUrl(child, /^LISTENING (\S+)$/m, 'bootstrap server child');
}

/**
 * Waits until `child` prints a line matching `pattern` (first group = URL) and returns a handle
 * whose stop() sends SIGTERM and waits for the exit (SIGKILL after 5 s).
 */
export function waitForUrl(
  child: ChildProcess,
  pattern: RegExp,
  what: string,
  deadlineMs = 20_000,
): Promise<ServerProcess> {
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(force);
    }
  };
  return new Promise<ServerProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${what} printed no URL within ${deadlineMs} ms; output:\n${output}`));
    }, deadlineMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = pattern.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child, stop });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code ?? signal}) before listening; output:\n${output}`));
    });
  });
}

/** POSTs `body` to `url + path`; resolves with status, text and elapsed ms, never rejects on HTTP status. */
export async function post(
  base: string,
  path: string,
  body = '',
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  const res = await fetch(base + path, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - started };
}

/** Resolves when `check()` returns true; rejects after `deadlineMs`. Polls every `everyMs`. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  what: string,
  deadlineMs = 15_000,
  everyMs = 50,
): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
