import type { Sql, TransactionSql } from 'postgres';
import {
  applyOp,
  type BootstrapOp,
  emptyPeers,
  expirePeers,
  type LeaseTimes,
  updateLeases,
} from '../semantics.js';
import { type Store, type StoreOptions, StoreUnavailableError } from '../store.js';
import type { BootstrapData, PeerRecord } from '../types.js';
import { migrate, SCHEMA_NAME } from './postgres-schema.js';

/*
 * The production store: any number of stateless handler processes over one PostgreSQL database.
 *
 * State-changing operations run in transactions that
 *   1. take a transaction-scoped advisory lock (one per schema) and read config and peers,
 *   2. compute each operation's document with the shared pure semantics (semantics.ts), and
 *   3. write only the difference, then commit.
 * The lock makes these transactions run one after another across all processes, so the state
 * is always the one some serial order of the operations produces, and each operation returns
 * the state right after it. /list takes no lock: it is one statement, which PostgreSQL answers
 * from one consistent snapshot (and concurrent /list calls share one, see pumpReads).
 *
 * Group commit: each process runs one such transaction at a time; operations arriving meanwhile
 * queue, and the transaction takes the whole queue once it holds the lock, applying it in order
 * under one commit. A commit waits for the WAL flush (about 8 ms on the test machine) while
 * holding the lock, so one operation per transaction would cap every deployment at roughly
 * 1/fsync writes per second however many processes it ran; batching multiplies that by the
 * batch size, which grows with the load. Each operation still gets the document right after
 * its own step, so batching changes nothing observable.
 *
 * Why an advisory lock and not `SELECT ... FOR UPDATE` on the config row or SERIALIZABLE with
 * retry: a row lock writes the row (xmax), so even a transaction that changes nothing has to
 * flush WAL at commit; an advisory lock lives in memory only. SERIALIZABLE transactions all read
 * the whole peer table and most write it, so concurrent ones conflict and retry in herds. The
 * measurements behind this choice: bench/bootstrap/postgres-RESULTS.md.
 */

export interface PostgresStoreOptions extends StoreOptions {
  /** How long opening a connection may take (ms). Short: a request waits for it. Default 2000. */
  connectTimeoutMs?: number;
  /**
   * Server-side limit per statement, including time spent waiting for the state lock (ms).
   * Lower fails fast under overload; higher rides out short stalls. Default 2000.
   */
  statementTimeoutMs?: number;
  /**
   * Hard bound on one whole operation as the caller sees it (ms): waiting for a pooled
   * connection, connecting, waiting for its batch and every statement. Past it the operation fails with
   * StoreUnavailableError whatever the network does. Default connectTimeoutMs + statementTimeoutMs.
   */
  operationTimeoutMs?: number;
  /**
   * Schema holding the tables (created if missing), a lower-case identifier. One database can
   * host several services in different schemas. Default: the URL's `?schema=` parameter, else
   * `isopeer_bootstrap`.
   */
  schema?: string;
  /**
   * Connections per process. Batching means a process uses two at a time (one write batch, one
   * shared /list read) plus the migration at start, so more only help while a connection is
   * being replaced after a failure. Default 10; 2 suffice.
   */
  maxConnections?: number;
}

const DEFAULT_SCHEMA = 'isopeer_bootstrap';

interface PeerRow extends PeerRecord {
  refreshed_at: string; // int8 arrives as a decimal string
}

interface ConfigRow {
  maxpeers: number;
  minrefillcandidates: number;
}

/**
 * Opens (and creates or migrates) the store. Throws StoreUnavailableError when the database
 * cannot be reached within the timeouts; the caller may simply try again later.
 */
export async function createPostgresStore(
  url: string,
  opts: PostgresStoreOptions = {},
): Promise<Store> {
  const fromUrl = takeSchemaParam(url);
  const schema = opts.schema ?? fromUrl.schema ?? DEFAULT_SCHEMA;
  if (!SCHEMA_NAME.test(schema)) {
    throw new TypeError(
      `schema must be a lower-case SQL identifier, got ${JSON.stringify(schema)}`,
    );
  }
  const connectTimeoutMs = positive(opts.connectTimeoutMs ?? 2000, 'connectTimeoutMs');
  const statementTimeoutMs = positive(opts.statementTimeoutMs ?? 2000, 'statementTimeoutMs');
  const operationTimeoutMs = positive(
    opts.operationTimeoutMs ?? connectTimeoutMs + statementTimeoutMs,
    'operationTimeoutMs',
  );
  const postgres = await loadDriver();
  const makePool = () =>
    postgres(fromUrl.url, {
      max: opts.maxConnections ?? 10,
      connect_timeout: connectTimeoutMs / 1000,
      // Drop idle connections so a scaled-down deployment gives its connections back.
      idle_timeout: 30,
      // Probe idle sockets early so a silently dead database connection is noticed.
      keep_alive: 5,
      // No custom types are used; skipping the type query saves a round trip per connection.
      fetch_types: false,
      // A library never prints; PostgreSQL notices ("schema exists, skipping") are not errors.
      onnotice: () => {},
      connection: {
        application_name: 'isopeer-bootstrap',
        search_path: schema,
        statement_timeout: statementTimeoutMs,
        // A handler cut off silently mid-transaction (a dead process closes its socket, which
        // aborts at once) must not hold the state lock for long. Not too short either: a busy
        // process (a storm of requests on a starved CPU) can take seconds between two
        // statements of a healthy transaction; 2 s was measured to be too little on the test
        // machine, and the server then kills the session mid-batch.
        idle_in_transaction_session_timeout: Math.max(5 * statementTimeoutMs, 5000),
      },
    });
  const sql = makePool();
  try {
    await withDeadline(migrate(sql, schema), operationTimeoutMs * 2, 'creating the schema');
  } catch (err) {
    await sql.end({ timeout: 0 }).catch(() => {});
    throw asUnavailable(err) ?? err;
  }
  return new PostgresStore(sql, makePool, schema, opts.peerTtlMs ?? 0, operationTimeoutMs);
}

/**
 * The driver is an optional peer dependency, loaded only when a PostgreSQL store is opened: a
 * user of the client or of the memory and file stores need not install it.
 */
async function loadDriver(): Promise<typeof import('postgres')> {
  try {
    return (await import('postgres')).default;
  } catch (err) {
    throw new StoreUnavailableError(
      'the PostgreSQL store needs the "postgres" package: npm install postgres',
      { cause: err },
    );
  }
}

/**
 * Removes our own `schema` query parameter from a connection URL (postgres.js would send any
 * unknown parameter to the server as a setting, which the server rejects).
 */
function takeSchemaParam(url: string): { url: string; schema?: string } {
  const q = url.indexOf('?');
  if (q === -1) return { url };
  const params = new URLSearchParams(url.slice(q + 1));
  const schema = params.get('schema');
  if (schema === null) return { url };
  params.delete('schema');
  const rest = params.toString();
  return { url: url.slice(0, q) + (rest === '' ? '' : `?${rest}`), schema };
}

function positive(value: number, name: string): number {
  if (!(Number.isFinite(value) && value > 0))
    throw new TypeError(`${name} must be > 0, got ${value}`);
  return value;
}

/** Largest number of queued operations applied in one transaction. */
const MAX_BATCH = 256;

/** One queued state-changing operation. */
interface Pending {
  op: BootstrapOp;
  now: number;
  resolve(data: BootstrapData): void;
  reject(err: unknown): void;
  /** Its caller gave up (deadline): do not apply it any more. */
  abandoned: boolean;
}

class PostgresStore implements Store {
  private readonly queue: Pending[] = [];
  private inFlight = false;
  private readonly readers: {
    now: number;
    resolve(d: BootstrapData): void;
    reject(e: unknown): void;
  }[] = [];
  private reading = false;
  /** When an operation last completed; tells a wedged pool from a merely busy one. */
  private lastSuccess = Date.now();

  constructor(
    private sql: Sql,
    private readonly makePool: () => Sql,
    private readonly schema: string,
    private readonly ttlMs: number,
    private readonly operationTimeoutMs: number,
  ) {}

  join(peer: PeerRecord, now: number): Promise<BootstrapData> {
    return this.mutate({ kind: 'join', peer }, now);
  }
  leave(id: string, now: number): Promise<BootstrapData> {
    return this.mutate({ kind: 'leave', id }, now);
  }
  refill(peer: PeerRecord, now: number): Promise<BootstrapData> {
    return this.mutate({ kind: 'refill', peer }, now);
  }
  reset(now: number): Promise<BootstrapData> {
    return this.mutate({ kind: 'reset' }, now);
  }
  config(maxpeers: number, minrefillcandidates: number, now: number): Promise<BootstrapData> {
    return this.mutate({ kind: 'config', maxpeers, minrefillcandidates }, now);
  }

  list(now: number): Promise<BootstrapData> {
    const result = new Promise<BootstrapData>((resolve, reject) => {
      this.readers.push({ now, resolve, reject });
    });
    this.pumpReads();
    return this.guard(result, 'list');
  }

  /**
   * Runs one read for every /list waiting now. A read already in flight may have taken its
   * snapshot before a caller's previous write was acknowledged, so callers arriving meanwhile
   * wait for the next read instead of sharing it: nobody ever sees a state older than their
   * call, yet a storm of /list costs one query per round trip instead of one per request.
   */
  private pumpReads(): void {
    if (this.reading || this.readers.length === 0) return;
    this.reading = true;
    const readers = this.readers.splice(0);
    // One statement, hence one snapshot: config and peers always belong together.
    this.sql<{ config: ConfigRow; peers: PeerRow[] }[]>`
      SELECT json_build_object('maxpeers', c.maxpeers, 'minrefillcandidates', c.minrefillcandidates) AS config,
             coalesce((SELECT json_agg(p) FROM peers p), '[]'::json) AS peers
      FROM config c WHERE c.id = 1`
      .then(
        ([row]) => {
          const { data, leases } = toState(row.config, row.peers);
          // Expired peers are hidden here and deleted by the next write.
          for (const r of readers) r.resolve(expirePeers(data, leases, r.now, this.ttlMs));
        },
        (err: unknown) => {
          for (const r of readers) r.reject(err);
        },
      )
      .finally(() => {
        this.reading = false;
        this.pumpReads();
      });
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 2 });
  }

  private mutate(op: BootstrapOp, now: number): Promise<BootstrapData> {
    let pending: Pending | undefined;
    const result = new Promise<BootstrapData>((resolve, reject) => {
      pending = { op, now, resolve, reject, abandoned: false };
    });
    const p = pending as Pending;
    this.queue.push(p);
    this.pump();
    return this.guard(result, op.kind, () => {
      p.abandoned = true;
    });
  }

  /** Starts the next batch unless one is in flight. */
  private pump(): void {
    if (this.inFlight || this.queue.length === 0) return;
    this.inFlight = true;
    // The batch is taken only once the lock is held: everything that queued while this process
    // waited for another holder joins it, so batches grow with contention instead of splitting.
    let batch: Pending[] | undefined;
    const take = () => {
      batch = this.queue.splice(0, MAX_BATCH).filter((p) => !p.abandoned);
      return batch;
    };
    this.sql
      .begin((tx) => this.transition(tx, take))
      .then(
        (answers) => {
          const done = batch ?? [];
          for (let i = 0; i < done.length; i++) done[i].resolve((answers as BootstrapData[])[i]);
        },
        (err: unknown) => {
          // Failed before taking a batch (database unreachable): fail what is queued now rather
          // than retrying it in a tight loop; callers see the error at once.
          for (const p of batch ?? take()) p.reject(err);
        },
      )
      .finally(() => {
        this.inFlight = false;
        this.pump();
      });
  }

  /** Locks, takes the batch, applies it in order through the shared semantics, writes the difference. */
  private async transition(
    tx: TransactionSql,
    take: () => readonly Pending[],
  ): Promise<BootstrapData[]> {
    await tx`SELECT pg_advisory_xact_lock(hashtext('isopeer.bootstrap.state'), hashtext(${this.schema}))`;
    const batch = take();
    if (batch.length === 0) return [];
    // Pipelined. In READ COMMITTED each statement takes its snapshot when it starts, after the
    // lock was granted, so the reads see every write of the previous lock holder.
    const [configRows, rows] = await Promise.all([
      tx<ConfigRow[]>`SELECT maxpeers, minrefillcandidates FROM config WHERE id = 1`,
      tx<PeerRow[]>`SELECT * FROM peers`,
    ]);
    const { data, leases } = toState(configRows[0], rows);
    const before = new Map(leases);
    const answers: BootstrapData[] = [];
    let state = data;
    let peakMaxpeers = data.Config.maxpeers;
    for (const { op, now } of batch) {
      // semantics.step, except that refresh times are kept even with the lease off, so enabling
      // a TTL later starts from true ages rather than from "everyone refreshed just now".
      state = applyOp(expirePeers(state, leases, now, this.ttlMs), op);
      updateLeases(leases, state, op, now);
      answers.push(state);
      peakMaxpeers = Math.max(peakMaxpeers, state.Config.maxpeers);
    }
    await writeDifference(tx, data, before, state, leases, peakMaxpeers);
    return answers;
  }

  /**
   * Bounds an operation in time and turns connectivity failures into StoreUnavailableError.
   * `onTimeout` lets a queued operation withdraw so it is not applied after its caller gave up.
   */
  private async guard<T>(work: Promise<T>, what: string, onTimeout?: () => void): Promise<T> {
    try {
      const result = await withDeadline(work, this.operationTimeoutMs, what, onTimeout);
      this.lastSuccess = Date.now();
      return result;
    } catch (err) {
      if (err instanceof DeadlineError) this.recycleIfWedged();
      throw asUnavailable(err) ?? err;
    }
  }

  /**
   * A deadline passed and nothing at all succeeded for a whole operation timeout: the pool's
   * connections are probably stuck on a network that drops packets silently (TCP would take
   * minutes to notice). Replace the pool; ending the old one at once fails whatever still waits
   * on it, including a stuck batch, so the next batch can start on fresh connections. A pool
   * that is only busy keeps completing operations and is left alone.
   */
  private recycleIfWedged(): void {
    if (Date.now() - this.lastSuccess < this.operationTimeoutMs) return;
    const old = this.sql;
    this.sql = this.makePool();
    this.lastSuccess = Date.now();
    old.end({ timeout: 0 }).catch(() => {});
  }
}

function toState(
  config: ConfigRow,
  rows: readonly PeerRow[],
): { data: BootstrapData; leases: LeaseTimes } {
  const peers = emptyPeers();
  const leases: LeaseTimes = new Map();
  for (const r of rows) {
    peers[r.id] = {
      id: r.id,
      name: r.name,
      ip: r.ip,
      port: r.port,
      protocol: r.protocol,
      status: r.status,
      timestamp: r.timestamp,
    };
    leases.set(r.id, Number(r.refreshed_at));
  }
  return {
    data: {
      Config: {
        maxpeers: config.maxpeers,
        minrefillcandidates: config.minrefillcandidates,
        numpeers: rows.length,
      },
      Peers: peers,
    },
    leases,
  };
}

/**
 * Writes what changed between the stored rows (`prev`, `prevLeases`) and `next`. A removed and
 * an added peer are written as one UPDATE that renames the row: the database's maxpeers trigger
 * only guards INSERTs, which therefore happen only when the number of peers grows. Statements
 * are issued in order on the transaction's connection (pipelined), deletes before inserts.
 */
async function writeDifference(
  tx: TransactionSql,
  prev: BootstrapData,
  prevLeases: ReadonlyMap<string, number>,
  next: BootstrapData,
  leases: ReadonlyMap<string, number>,
  peakMaxpeers: number,
): Promise<void> {
  const removed = Object.keys(prev.Peers).filter((id) => !Object.hasOwn(next.Peers, id));
  const added = Object.keys(next.Peers).filter((id) => !Object.hasOwn(prev.Peers, id));
  const changed = Object.keys(next.Peers).filter(
    (id) =>
      Object.hasOwn(prev.Peers, id) &&
      (prev.Peers[id] !== next.Peers[id] || prevLeases.get(id) !== leases.get(id)),
  );
  const row = (id: string) => ({ ...next.Peers[id], refreshed_at: leases.get(id) ?? 0 });
  const writes: Promise<unknown>[] = [];
  const renames = Math.min(removed.length, added.length);
  for (let i = 0; i < renames; i++) {
    writes.push(tx`UPDATE peers SET ${tx(row(added[i]))} WHERE id = ${removed[i]}`);
  }
  if (removed.length > renames) {
    writes.push(tx`DELETE FROM peers WHERE id IN ${tx(removed.slice(renames))}`);
  }
  let stored = prev.Config;
  const setConfig = (maxpeers: number, minrefillcandidates: number) => {
    writes.push(
      tx`UPDATE config SET maxpeers = ${maxpeers},
           minrefillcandidates = ${minrefillcandidates} WHERE id = 1`,
    );
    stored = { ...stored, maxpeers, minrefillcandidates };
  };
  if (added.length > renames) {
    // The trigger checks each insert against the stored maxpeers. Within a batch maxpeers may
    // have been raised and lowered again after the joins it allowed, so insert under the
    // largest value the batch had (every state's count stayed within it), then store the final.
    if (peakMaxpeers !== stored.maxpeers) setConfig(peakMaxpeers, stored.minrefillcandidates);
    writes.push(tx`INSERT INTO peers ${tx(added.slice(renames).map(row))}`);
  }
  for (const id of changed) {
    writes.push(tx`UPDATE peers SET ${tx(row(id))} WHERE id = ${id}`);
  }
  if (
    stored.maxpeers !== next.Config.maxpeers ||
    stored.minrefillcandidates !== next.Config.minrefillcandidates
  ) {
    setConfig(next.Config.maxpeers, next.Config.minrefillcandidates);
  }
  await Promise.all(writes);
}

/** Rejects with a timeout error when `work` takes longer than `ms`. */
function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  what: string,
  onTimeout?: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new DeadlineError(`database did not complete ${what} within ${ms} ms`));
    }, ms);
  });
  // The losing promise may still settle later; keep its rejection from going unhandled.
  work.catch(() => {});
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

class DeadlineError extends Error {}

// Socket-level failures (Node) and postgres.js's own connection error codes.
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
]);

// SQLSTATEs meaning "the database cannot serve now", as opposed to a bug in a statement.
const UNAVAILABLE_SQLSTATES = new Set([
  '57014', // query_canceled: statement_timeout (overload or a long lock queue)
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovery)
  '53300', // too_many_connections
  '53000', // insufficient_resources
  '40001', // serialization_failure (e.g. a hot standby cancelling for replay)
  '40P01', // deadlock_detected
  '25P03', // idle_in_transaction_session_timeout
]);

/** The StoreUnavailableError for an error that means "database unreachable or overloaded". */
function asUnavailable(err: unknown): StoreUnavailableError | undefined {
  if (err instanceof StoreUnavailableError) return err;
  if (err instanceof DeadlineError) return new StoreUnavailableError(err.message, { cause: err });
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (CONNECTION_CODES.has(code) || code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code)) {
    const detail = (err as Error).message.split('\n')[0];
    return new StoreUnavailableError(`database unavailable: ${detail}`, { cause: err });
  }
  return undefined;
}
