// Applies pending migrations, one transaction each. Each transaction first
// takes the dialect's migration lock, then reads what is applied: instances
// starting together queue on the lock, and the later ones find nothing to do.

import { sql } from 'kysely';
import type { StoreDialect, StoreLogger } from '../store-dialect.js';
import type { SchemaVersion } from '../types.js';
import type { Migration } from './migration.js';

// The same statement suits both engines (SQLite maps BIGINT to INTEGER).
const createMigrationsTable = sql.raw(`
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY NOT NULL,
  name       TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`);

export async function runMigrations(dialect: StoreDialect, logger: StoreLogger): Promise<void> {
  assertOrdered(dialect.migrations);
  for (;;) {
    const applied = await applyNext(dialect, logger);
    if (applied === null) return;
    logger.info({ version: applied.version, name: applied.name }, 'database migration applied');
  }
}

async function applyNext(dialect: StoreDialect, logger: StoreLogger): Promise<Migration | null> {
  return dialect.db.transaction().execute(async (trx) => {
    await dialect.lockMigrations(trx);
    await createMigrationsTable.execute(trx);
    const rows = await trx.selectFrom('schema_migrations').select('version').execute();
    const done = new Set(rows.map((r) => Number(r.version)));
    const next = dialect.migrations.find((m) => !done.has(m.version));
    if (next === undefined) {
      const known = new Set(dialect.migrations.map((m) => m.version));
      const unknown = [...done].filter((v) => !known.has(v));
      if (unknown.length > 0) {
        // A newer release migrated this database; this one may lack columns it relies on.
        logger.warn({ versions: unknown }, 'database has migrations this version does not know');
      }
      return null;
    }
    if (next.sql.trim() !== '') await dialect.execScript(trx, next.sql);
    await next.run?.(trx, logger);
    await trx
      .insertInto('schema_migrations')
      .values({ version: next.version, name: next.name, applied_at: Date.now() })
      .execute();
    return next;
  });
}

/** The schema version this build expects: its last migration's. */
export function expectedSchemaVersion(migrations: readonly Migration[]): number {
  return migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
}

/**
 * What the database holds against what this build expects (readiness). A
 * database never migrated (no schema_migrations table) has version null.
 * Throws the driver's error when the database cannot be read.
 */
export async function readSchemaVersion(dialect: StoreDialect): Promise<SchemaVersion> {
  const expected = expectedSchemaVersion(dialect.migrations);
  let versions: number[];
  try {
    const rows = await dialect.db.selectFrom('schema_migrations').select('version').execute();
    versions = rows.map((r) => Number(r.version));
  } catch (err) {
    const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
    const missingTable = code === '42P01' || (typeof message === 'string' && message.includes('no such table'));
    if (!missingTable) throw err;
    versions = [];
  }
  const applied = new Set(versions);
  const known = new Set(dialect.migrations.map((m) => m.version));
  return {
    expected,
    current: versions.length === 0 ? null : Math.max(...versions),
    missing: dialect.migrations.filter((m) => !applied.has(m.version)).map((m) => m.version),
    unknown: versions.filter((v) => !known.has(v)).sort((a, b) => a - b),
  };
}

function assertOrdered(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (i > 0 && m.version <= migrations[i - 1].version) {
      throw new Error(`migrations out of order: ${m.version} after ${migrations[i - 1].version}`);
    }
  });
}
