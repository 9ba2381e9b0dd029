// The embedded engine: one better-sqlite3 connection, used by one caller at a
// time (bounded-driver.ts).

import { storeTracing } from '../../tracing/store.js';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Driver, SqliteDialectConfig } from 'kysely';
import type { DatabaseSchema } from '../database-schema.js';
import { sqliteMigrations } from '../migrations/sqlite.js';
import type { StoreDialect } from '../store-dialect.js';
import { mapSqliteError } from './map-sqlite-error.js';
import { jsonPairs } from '../row-mapping.js';
import { withStatementCache } from './statement-cache.js';
import { SqliteCheckpointThread } from './checkpoint-thread.js';
import { BoundedSqliteDriver, type BoundedSqliteDatabase } from './bounded-driver.js';

/**
 * How long better-sqlite3 itself waits for a lock held by another connection,
 * on the event loop's thread: short. Longer waits are retried off the loop,
 * within the request's allowance (bounded-driver.ts).
 */
const BUSY_TIMEOUT_MS = 10;
/** The purge and checkpoint threads' connections: waiting blocks their own thread only. */
const THREAD_BUSY_TIMEOUT_MS = 5000;
/** A checkout's longest wait unless db_timeout_seconds says otherwise. */
const DEFAULT_TIMEOUT_MS = 3000;

class BoundedSqliteDialect extends SqliteDialect {
  constructor(
    config: SqliteDialectConfig,
    private readonly database: BoundedSqliteDatabase,
    private readonly timeoutMs: number,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    return new BoundedSqliteDriver(this.database, this.timeoutMs);
  }
}

/** `path` is a file path or `:memory:`. */
export function openSqliteDialect(path: string, opts: { timeoutMs?: number } = {}): StoreDialect {
  const inMemory = path === ':memory:';
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });

  let opened: Database.Database | undefined;
  try {
    opened = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    opened.pragma('journal_mode = WAL');
    opened.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    opened.pragma('foreign_keys = ON');
    // Safe with WAL (a power cut may lose the last commits, never corrupts).
    opened.pragma('synchronous = NORMAL');
  } catch (err) {
    opened?.close();
    throw mapSqliteError(err);
  }
  const database = opened;
  // Checkpoints off the event loop's thread (checkpoint-thread.ts).
  const checkpointer = inMemory ? null : new SqliteCheckpointThread(path, { busyTimeoutMs: THREAD_BUSY_TIMEOUT_MS });
  const statements = withStatementCache(database);

  const bounded: BoundedSqliteDatabase = {
    prepare: (sql) => statements.prepare(sql),
    get inTransaction() {
      return database.inTransaction;
    },
    close: async () => {
      const ended = checkpointer?.close();
      statements.close();
      await ended;
    },
  };
  const db = new Kysely<DatabaseSchema>({
    dialect: new BoundedSqliteDialect({ database: bounded }, bounded, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    // Store spans when tracing is on (src/tracing/store.ts); off: no log at all.
    ...storeTracing('sqlite'),
  });

  return {
    engine: 'sqlite',
    db,
    rowLocks: false,
    migrations: sqliteMigrations,
    mapError: mapSqliteError,
    // BEGIN IMMEDIATE (bounded-driver.ts) already holds the database's single write lock.
    lockMigrations: async () => {},
    lockLogins: async () => {},
    // One instance per database file: its own revocations reach its cache directly.
    notifyRevoked: async () => {},
    notifyTenantsChanged: async () => {},
    jsonArrayAgg: (fields) => sql`json_group_array(json_object(${jsonPairs(fields)}))`,
    writesInOneStatement: false,
    // Tenants changed by another connection (`xivo-auth import` from another
    // process; the purge thread changes no tenant but its commits count too):
    // PRAGMA data_version moves when another connection commits; reading it
    // looks at the WAL index in shared memory (no disk read). The tenant tree
    // polls it before trusting what it remembers.
    watchRevocations: (handler) => {
      const dataVersion = database.prepare('PRAGMA data_version').pluck();
      let seen: unknown = null;
      let closed = false;
      const poll = () => {
        let version: unknown;
        try {
          version = closed ? null : dataVersion.get();
        } catch {
          version = null;
        }
        // Unreadable (closing, I/O error): changed, as far as anyone knows.
        if (version === null || version !== seen) {
          seen = version;
          handler.tenantsChanged(null);
        }
      };
      poll();
      handler.connected();
      return {
        close: async () => {
          closed = true;
        },
        poll,
      };
    },
    // Kysely prepares one statement at a time; a migration script has many.
    // The transaction holds Kysely's connection, so nothing else interleaves.
    execScript: async (_trx, script) => {
      database.exec(script);
    },
  };
}
