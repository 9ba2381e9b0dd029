// The scale-out engine: a pg.Pool shared by the instance's requests; any number
// of instances share the database.

import { storeTracing } from '../../tracing/store.js';
import pg from 'pg';
import type { CustomTypesConfig } from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { DatabaseSchema } from '../database-schema.js';
import { postgresMigrations } from '../migrations/postgres.js';
import type { StoreDialect, StoreLogger } from '../store-dialect.js';
import { REVOCATION_CHANNEL, revocationPayloads, TENANT_CHANNEL, tenantPayloads } from '../revocations.js';
import { mapPostgresError } from './map-postgres-error.js';
import { PreparingPool } from './prepared-statements.js';
import { jsonPairs } from '../row-mapping.js';
import { listenForRevocations } from './revocation-listener.js';

const DEFAULT_POOL_MAX = 10;
/**
 * An unreachable server must fail a request quickly (503), not hang it:
 * waiting for a connection and the statements of one checkout (a verb, or a
 * whole transaction) give up together after this long, and a request's
 * checkouts share it (../db-budget.ts). `db_timeout_seconds`.
 */
const DEFAULT_TIMEOUT_MS = 3000;
const IDLE_TIMEOUT_MS = 30_000;
/**
 * TCP keepalive probes start after this long idle: a pooled connection to a
 * server that vanished (network partition) is found dead and dropped
 * instead of waiting for the system default (two hours on Linux).
 */
const KEEPALIVE_IDLE_MS = 10_000;

/**
 * Key of the advisory lock taken by migrations: "xivoauth" in ASCII, as a
 * bigint (passed as text: it exceeds JavaScript's safe integers).
 */
const MIGRATION_LOCK_KEY = BigInt('0x7869766f61757468').toString();

/** Key of the advisory lock of username and email writes: "xivologn" in ASCII. */
const LOGINS_LOCK_KEY = BigInt('0x7869766f6c6f676e').toString();

/** Key of the outbox relay's advisory lock: "xivoevnt" in ASCII. */
const RELAY_LOCK_KEY = BigInt('0x7869766f65766e74').toString();

const INT8_OID = 20;

/**
 * BIGINT comes back as a JS number instead of pg's default string: our BIGINT
 * columns hold epoch milliseconds and counts, far below 2^53. Set per pool,
 * not with the global pg.types.setTypeParser.
 */
const bigintAsNumber: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};

export function openPostgresDialect(
  uri: string,
  opts: { logger: StoreLogger; poolMax?: number; timeoutMs?: number },
): StoreDialect {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString: uri,
    max: opts.poolMax ?? DEFAULT_POOL_MAX,
    connectionTimeoutMillis: timeoutMs,
    // Client-side, per statement (PreparingPool passes what the checkout has
    // left): also bounds a server that stopped answering without closing
    // the connection (a network partition), where no error comes. Such a
    // connection is then destroyed, never pooled again.
    query_timeout: timeoutMs,
    // Server-side: a statement is cancelled after the timeout (its locks go
    // with it), and a session left idle inside a transaction (its client
    // gone mid-transaction, e.g. behind a partition) is ended after it, so
    // that no row or advisory lock outlives the request that took it.
    statement_timeout: timeoutMs,
    idle_in_transaction_session_timeout: timeoutMs,
    idleTimeoutMillis: IDLE_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
    application_name: 'xivo-auth',
    types: bigintAsNumber,
  });
  // An idle client whose server went away (restart, failover) emits 'error';
  // unhandled, that would crash the process. The pool drops the client and
  // opens a fresh one on the next request.
  pool.on('error', function onIdleClientError(err) {
    opts.logger.warn({ err }, 'PostgreSQL connection lost; the pool will reconnect');
  });

  // A client checked out of the pool has no 'error' listener of the pool's:
  // a socket reset during a query would then be an uncaught exception and
  // take the process down. The query itself fails (→ StoreUnavailableError,
  // 503) and the pool discards the broken client on release.
  pool.on('connect', function guardClient(client) {
    client.on('error', function ignoreReportedByQuery() {});
  });

  // Named statements: parsed once per connection (prepared-statements.ts).
  // Store spans when tracing is on (src/tracing/store.ts); off: no log at all.
  const db = new Kysely<DatabaseSchema>({
    dialect: new PostgresDialect({ pool: new PreparingPool(pool, undefined, { timeoutMs }) }),
    ...storeTracing('postgresql'),
  });

  return {
    engine: 'postgresql',
    db,
    rowLocks: true,
    migrations: postgresMigrations,
    mapError: mapPostgresError,
    // Held until the migration's transaction ends; every instance waits for it.
    lockMigrations: async (trx) => {
      await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}::bigint)`.execute(trx);
    },
    lockLogins: async (trx) => {
      await sql`select pg_advisory_xact_lock(${LOGINS_LOCK_KEY}::bigint)`.execute(trx);
    },
    // NOTIFY inside the revoking transaction: delivered only if it commits.
    notifyRevoked: async (conn, hashes) => {
      for (const payload of revocationPayloads(hashes)) {
        await sql`select pg_notify(${REVOCATION_CHANNEL}, ${payload})`.execute(conn);
      }
    },
    // Likewise: every instance forgets what it remembered of these tenants.
    notifyTenantsChanged: async (conn, uuids) => {
      for (const payload of tenantPayloads(uuids)) {
        await sql`select pg_notify(${TENANT_CHANNEL}, ${payload})`.execute(conn);
      }
    },
    watchRevocations: (handler, logger) => listenForRevocations(uri, handler, logger, { timeoutMs }),
    // Without parameters, pg sends the simple query protocol, which accepts
    // several statements in one string.
    tryLockRelay: async (trx) => {
      const { rows } = await sql<{
        locked: boolean;
      }>`select pg_try_advisory_xact_lock(${RELAY_LOCK_KEY}::bigint) as locked`.execute(trx);
      return rows[0]?.locked === true;
    },
    execScript: async (trx, script) => {
      await sql.raw(script).execute(trx);
    },
    jsonArrayAgg: (fields) => sql`coalesce(json_agg(json_build_object(${jsonPairs(fields)})), '[]'::json)`,
    writesInOneStatement: true,
  };
}
