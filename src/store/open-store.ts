// Opens the store named by db_uri: `sqlite:<path>` (embedded default) or
// `postgresql://…` / `postgres://…`. Opening does not touch the schema; call
// migrate() (db_upgrade_on_startup, `xivo-auth migrate`).

import { createKyselyStore } from './kysely-store.js';
import { openPostgresDialect } from './postgres/postgres-store-dialect.js';
import { openSqliteDialect } from './sqlite/sqlite-store-dialect.js';
import type { StoreLogger } from './store-dialect.js';
import type { Store } from './types.js';

export interface OpenStoreOptions {
  logger?: StoreLogger;
  /** PostgreSQL only: connections per instance (default 10). */
  poolMax?: number;
  /** PostgreSQL only: connect and query timeout in ms (default 5000). */
  timeoutMs?: number;
  /** Write events to the outbox with the changes (amqp.enabled); default false. */
  recordEvents?: boolean;
}

const silentLogger: StoreLogger = { warn() {}, info() {} };

export async function openStore(dbUri: string, opts: OpenStoreOptions = {}): Promise<Store> {
  const logger = opts.logger ?? silentLogger;
  if (dbUri.startsWith('sqlite:')) {
    return createKyselyStore(openSqliteDialect(sqlitePath(dbUri)), logger, { recordEvents: opts.recordEvents ?? false });
  }
  if (/^postgres(ql)?:\/\//.test(dbUri)) {
    return createKyselyStore(openPostgresDialect(dbUri, { logger, poolMax: opts.poolMax, timeoutMs: opts.timeoutMs }), logger, { recordEvents: opts.recordEvents ?? false });
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
