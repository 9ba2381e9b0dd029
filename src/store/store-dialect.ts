// What differs between the engines, gathered in one small object. Everything
// else (the verbs, the migration runner) is shared.

import type { Kysely, RawBuilder, Transaction } from 'kysely';
import type { DatabaseSchema } from './database-schema.js';
import type { Migration } from './migrations/migration.js';
import type { RevocationHandler, RevocationWatch } from './revocations.js';

export interface StoreLogger {
  warn(o: object, msg?: string): void;
  info(o: object, msg?: string): void;
}

export interface StoreDialect {
  readonly engine: 'sqlite' | 'postgresql';
  readonly db: Kysely<DatabaseSchema>;
  /** `SELECT … FOR UPDATE SKIP LOCKED` is available (PostgreSQL). */
  readonly rowLocks: boolean;
  readonly migrations: readonly Migration[];
  /**
   * Turns a driver error into a typed store error (./errors.ts); returns
   * anything it does not recognise unchanged.
   */
  mapError(err: unknown): unknown;
  /** Serialises migration runs of every instance; called first in each migration's transaction. */
  lockMigrations(trx: Transaction<DatabaseSchema>): Promise<void>;
  /**
   * Serialises, across instances, the transactions that write a username or
   * an email address, until the surrounding transaction ends: the rule that
   * no username equals another user's email is checked by reading, which
   * no unique index can do (PostgreSQL: an advisory lock; SQLite: BEGIN
   * IMMEDIATE already holds the write lock).
   */
  lockLogins(trx: Kysely<DatabaseSchema>): Promise<void>;
  /**
   * Tells every instance, when the surrounding transaction commits, that
   * these tokens were revoked (PostgreSQL NOTIFY; nothing for SQLite).
   */
  notifyRevoked(db: Kysely<DatabaseSchema>, hashes: readonly string[]): Promise<void>;
  /**
   * Tells every instance, when the surrounding transaction commits, that
   * these tenants were deleted, moved or created (null: any tenant), so that
   * they forget the parents they remember (PostgreSQL NOTIFY; nothing for
   * SQLite, whose watch polls PRAGMA data_version instead).
   */
  notifyTenantsChanged(db: Kysely<DatabaseSchema>, uuids: readonly string[] | null): Promise<void>;
  /** Delivers revocation and tenant notices from every instance to `handler`. */
  watchRevocations(handler: RevocationHandler, logger: StoreLogger): RevocationWatch;
  /**
   * Takes the outbox relay's lock for the transaction if free (PostgreSQL:
   * an advisory lock, so one instance relays at a time); absent on SQLite,
   * where one process owns the database and publishes outside transactions.
   */
  tryLockRelay?(trx: Transaction<DatabaseSchema>): Promise<boolean>;
  /**
   * The rows of the surrounding select as one JSON array of objects, `fields`
   * naming each object's keys and values: `json_agg(json_build_object(...))`
   * on PostgreSQL (an empty array, not null, for no rows; the driver parses
   * it), `json_group_array(json_object(...))` on SQLite (text). Read it with
   * jsonRows (./row-mapping.ts). Lets one statement read a row and its
   * children (a user and its addresses).
   */
  jsonArrayAgg(fields: readonly (readonly [string, RawBuilder<unknown>])[]): RawBuilder<unknown>;
  /**
   * `login` must be the only writes of a transaction run with
   * `{ deferWrites: true }` (./kysely-store.ts): PostgreSQL sends them as one
   * statement of data-modifying CTEs, atomic by itself (no BEGIN/COMMIT);
   * SQLite, whose CTEs cannot modify data, runs them in a transaction.
   */
  readonly writesInOneStatement: boolean;
  /** Runs a multi-statement script inside the given transaction. */
  execScript(trx: Transaction<DatabaseSchema>, script: string): Promise<void>;
}
