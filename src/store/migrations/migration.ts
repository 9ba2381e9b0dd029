// A numbered, plain-SQL schema change for one dialect. Kept as TypeScript
// string constants (not .sql files) so the compiled output carries them.
// A migration that must look at the data it changes (and say what it did)
// adds a `run` step, after its SQL, in the same transaction.

import type { Transaction } from 'kysely';
import type { DatabaseSchema } from '../database-schema.js';

/** Where a migration reports what it did to stored data (the store's logger). */
export interface MigrationLogger {
  warn(o: object, msg?: string): void;
  info(o: object, msg?: string): void;
}

export interface Migration {
  /** Strictly increasing, never reused, never edited once released. */
  version: number;
  name: string;
  /** One or more statements; run inside the migration's transaction. */
  sql: string;
  /**
   * Runs after `sql`, in the same transaction. Kept to raw SQL (sql`…`): the
   * typed schema describes the latest version, not this one.
   */
  run?(trx: Transaction<DatabaseSchema>, logger: MigrationLogger): Promise<void>;
}
