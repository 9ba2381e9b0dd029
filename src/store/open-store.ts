// Opens the store named by db_uri: `sqlite:<path>` (embedded default) or
// `postgresql://…` / `postgres://…`. Opening does not touch the schema; call
// migrate() (db_upgrade_on_startup, `xivo-auth migrate`).

import { LONG_JOB_TIMEOUT_MS, withLongDbBudget } from '../db-budget.js';
import { createKyselyStore } from './kysely-store.js';
import { openPostgresDialect } from './postgres/postgres-store-dialect.js';
import { openSqliteDialect } from './sqlite/sqlite-store-dialect.js';
import type { StoreDialect, StoreLogger } from './store-dialect.js';
import type { Store } from './types.js';

export interface OpenStoreOptions {
  logger?: StoreLogger;
  /** PostgreSQL only: connections per instance (default 10). */
  poolMax?: number;
  /**
   * Longest wait on the database of one store call, and of all the calls of
   * one request together (./db-budget.ts), in ms: db_timeout_seconds
   * (default 3000). PostgreSQL: connection, statements, transaction; SQLite:
   * the connection and locks held by other connections.
   */
  timeoutMs?: number;
  /** Write events to the outbox with the changes (amqp.enabled); default false. */
  recordEvents?: boolean;
}

const silentLogger: StoreLogger = { warn() {}, info() {} };

export async function openStore(dbUri: string, opts: OpenStoreOptions = {}): Promise<Store> {
  const logger = opts.logger ?? silentLogger;
  return withLongMigrations(
    createKyselyStore(openStoreDialect(dbUri, opts), logger, { recordEvents: opts.recordEvents ?? false }),
  );
}

/**
 * Migrations are not requests: each of their transactions may wait up to
 * LONG_JOB_TIMEOUT_MS (another instance migrating, an index built on a
 * large table), not db_timeout_seconds.
 */
function withLongMigrations(store: Store): Store {
  const migrate = store.migrate.bind(store);
  store.migrate = () => withLongDbBudget(LONG_JOB_TIMEOUT_MS, migrate);
  return store;
}

/**
 * The engine behind db_uri, without the store's verbs: for the few tools that
 * write through the typed schema themselves (`xivo-auth import wazo-auth`).
 * Closing it is `dialect.db.destroy()`.
 */
export function openStoreDialect(dbUri: string, opts: OpenStoreOptions = {}): StoreDialect {
  const logger = opts.logger ?? silentLogger;
  if (dbUri.startsWith('sqlite:')) return openSqliteDialect(sqlitePath(dbUri), { timeoutMs: opts.timeoutMs });
  if (/^postgres(ql)?:\/\//.test(dbUri)) {
    return openPostgresDialect(dbUri, { logger, poolMax: opts.poolMax, timeoutMs: opts.timeoutMs });
  }
  // Only the scheme is quoted: the rest may hold a password.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(dbUri)?.[1];
  throw new Error(
    `unsupported db_uri${scheme ? ` scheme "${scheme}"` : ''}: expected sqlite:<path> or postgresql://user@host/database`,
  );
}

/**
 * `sqlite:/var/lib/xivo-auth/auth.db`, `sqlite:data/auth.db` (relative to the
 * working directory), `sqlite::memory:`; the URL-like `sqlite:///abs/path`
 * is accepted too.
 */
export function sqlitePath(dbUri: string): string {
  let path = dbUri.slice('sqlite:'.length);
  if (path.startsWith('//')) path = path.slice(2);
  if (path === '') throw new Error('db_uri "sqlite:" needs a path, e.g. sqlite:/var/lib/xivo-auth/auth.db');
  return path;
}
