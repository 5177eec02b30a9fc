import type { Sql } from 'postgres';

/*
 * The PostgreSQL store's schema and its versioned migrations.
 *
 * Migrations run in one transaction under a transaction-scoped advisory lock keyed by the schema
 * name, so any number of handler processes (or Cloud Functions instances) may start at the same
 * moment: the first applies what is missing, the others wait for it and then find nothing to do.
 * `CREATE SCHEMA IF NOT EXISTS` alone is not enough for that: two concurrent creators can still
 * collide on the catalog's unique index.
 *
 * Every statement names its tables without a schema; the connection's `search_path` is the
 * store's schema (see postgres.ts), so one database can host many independent services (and every
 * test run its own schema).
 */

/** Ordered migrations; index + 1 is the version. Never edit a released entry: append a new one. */
const MIGRATIONS: readonly string[] = [
  // v1: one config row, one row per peer with its lease time, and maxpeers enforced by the
  // database itself (see the trigger's comment).
  `
  CREATE TABLE config (
    id smallint PRIMARY KEY CHECK (id = 1),
    maxpeers integer NOT NULL,
    minrefillcandidates integer NOT NULL
  );
  INSERT INTO config (id, maxpeers, minrefillcandidates) VALUES (1, 2, 2);

  CREATE TABLE peers (
    id text PRIMARY KEY,
    name text NOT NULL,
    ip text NOT NULL,
    port text NOT NULL,
    protocol text NOT NULL,
    status text NOT NULL,
    timestamp text NOT NULL,
    -- Caller's clock (ms) of the last join/refill naming this id: the lease.
    refreshed_at bigint NOT NULL
  );

  -- A row may only be inserted while fewer than maxpeers rows exist. The function first locks
  -- the config row, so the count it takes cannot be raced by another inserter: the limit holds
  -- for any client writing to these tables, not only for this store's own code. Replacing a
  -- peer (refill) is an UPDATE of its row, so it is allowed even when the list is full, and a
  -- list left over-full by lowering maxpeers can still have members replaced.
  CREATE FUNCTION peers_within_maxpeers() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
  DECLARE
    limit_ integer;
    stored bigint;
  BEGIN
    SELECT maxpeers INTO limit_ FROM config WHERE id = 1 FOR UPDATE;
    SELECT count(*) INTO stored FROM peers;
    IF stored >= limit_ THEN
      RAISE EXCEPTION 'peers: insert of % would exceed maxpeers %', NEW.id, limit_
        USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END
  $$;
  CREATE TRIGGER peers_within_maxpeers BEFORE INSERT ON peers
    FOR EACH ROW EXECUTE FUNCTION peers_within_maxpeers();
  `,
];

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** A schema name usable unquoted and safely interpolated: lower-case identifier, ≤ 63 bytes. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Creates the schema or brings it to SCHEMA_VERSION. Idempotent and safe to run concurrently.
 * Throws when the database holds a newer version than this code knows (an older deployment
 * must not write to a newer layout).
 */
export async function migrate(sql: Sql, schema: string): Promise<void> {
  if (!SCHEMA_NAME.test(schema))
    throw new TypeError(`invalid schema name ${JSON.stringify(schema)}`);
  await sql.begin(async (tx) => {
    // Two int4 keys: a fixed namespace for isopeer plus the schema, so unrelated advisory locks
    // of other applications in the same database never collide with ours.
    await tx`SELECT pg_advisory_xact_lock(hashtext('isopeer.bootstrap.migrate'), hashtext(${schema}))`;
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
      version integer PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const [row] = await tx.unsafe<{ version: number | null }[]>(
      `SELECT max(version) AS version FROM ${schema}.schema_migrations`,
    );
    const current = row?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `schema ${schema} is at version ${current}, newer than this isopeer supports (${SCHEMA_VERSION})`,
      );
    }
    for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
      // search_path makes the migration's unqualified names land in the schema.
      await tx.unsafe(`SET LOCAL search_path TO ${schema}`);
      await tx.unsafe(MIGRATIONS[v - 1]);
      await tx.unsafe(`INSERT INTO ${schema}.schema_migrations (version) VALUES (${v})`);
    }
  });
}
