// The embedded engine: one better-sqlite3 connection (Kysely serialises its use).

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver } from 'kysely';
import type { DatabaseConnection, Driver, SqliteDialectConfig } from 'kysely';
import type { DatabaseSchema } from '../database-schema.js';
import { sqliteMigrations } from '../migrations/sqlite.js';
import type { StoreDialect } from '../store-dialect.js';
import { mapSqliteError } from './map-sqlite-error.js';
import { withStatementCache } from './statement-cache.js';
import { SqliteCheckpointThread } from './checkpoint-thread.js';

const BUSY_TIMEOUT_MS = 5000;

/**
 * Every transaction starts with BEGIN IMMEDIATE: another process (the CLI, a
 * second instance) may write to the same file, and a deferred transaction that
 * reads and then writes cannot wait for the lock (it fails at once with
 * SQLITE_BUSY), whereas taking the write lock up front waits up to busy_timeout.
 * This also makes migrations safe across processes.
 */
class ImmediateTransactionDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateTransactionDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateTransactionDriver(this.#config);
  }
}

/** `path` is a file path or `:memory:`. */
export function openSqliteDialect(path: string): StoreDialect {
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
  const checkpointer = inMemory ? null : new SqliteCheckpointThread(path, { busyTimeoutMs: BUSY_TIMEOUT_MS });
  const statements = withStatementCache(database);

  const db = new Kysely<DatabaseSchema>({
    dialect: new ImmediateTransactionDialect({
      database: { prepare: (sql) => statements.prepare(sql), close: () => { checkpointer?.close(); statements.close(); } },
    }),
  });

  return {
    engine: 'sqlite',
    db,
    rowLocks: false,
    migrations: sqliteMigrations,
    mapError: mapSqliteError,
    // BEGIN IMMEDIATE (above) already holds the database's single write lock.
    lockMigrations: async () => {},
    // Kysely prepares one statement at a time; a migration script has many.
    // The transaction holds Kysely's connection, so nothing else interleaves.
    // One instance per database file: its own revocations reach its cache directly.
    notifyRevoked: async () => {},
    watchRevocations: (handler) => {
      handler.connected();
      return { close: async () => {} };
    },
    execScript: async (_trx, script) => {
      database.exec(script);
    },
  };
}
