// What every aggregate's verbs (./tenants.ts, ./users.ts, …) run with: the
// connection or transaction, the engine's few differences, and the outbox
// that events go to with the changes that cause them.
import type { Kysely } from 'kysely';
import { sessionDeleted, type PendingEvent } from '../../events/catalog.js';
import type { DatabaseSchema } from '../database-schema.js';
import { insertOutbox } from '../expiry.js';
import type { StoreDialect } from '../store-dialect.js';
import type { Removal } from '../types.js';

/** A Kysely instance or a transaction (Transaction extends Kysely). */
export type Db = Kysely<DatabaseSchema>;

/** The engine differences the verbs depend on. */
export type VerbDialect = Pick<
  StoreDialect,
  'rowLocks' | 'notifyRevoked' | 'notifyTenantsChanged' | 'lockLogins' | 'jsonArrayAgg'
>;

export interface VerbContext {
  /** The store's connection, or the transaction the verbs were built over. */
  readonly db: Db;
  readonly dialect: VerbDialect;
  /** SELECT … FOR UPDATE SKIP LOCKED is available. */
  readonly rowLocks: boolean;
  /** Write events to the outbox with the changes that cause them. */
  readonly recordEvents: boolean;
  /** Set when these verbs wrote events; cleared by whoever wakes the relay after commit. */
  wroteEvents: boolean;
  /** Writes events into the outbox, in the caller's transaction (db). */
  emit(db: Db, events: PendingEvent[]): Promise<void>;
  /** Writes the removal's deleted sessions as events. */
  emitRemoval(db: Db, removal: Removal): Promise<void>;
  /** Runs `fn` atomically when events are recorded (it then writes more than one row). */
  atomicIfRecording<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /** Runs a multi-statement verb atomically: in the caller's transaction, or in its own. */
  atomic<T>(fn: (db: Db) => Promise<T>): Promise<T>;
}

export function verbContext(db: Db, dialect: VerbDialect, recordEvents = false): VerbContext {
  const ctx: VerbContext = {
    db,
    dialect,
    rowLocks: dialect.rowLocks,
    recordEvents,
    wroteEvents: false,
    async emit(conn: Db, events: PendingEvent[]): Promise<void> {
      if (!recordEvents || events.length === 0) return;
      await insertOutbox(conn, events);
      ctx.wroteEvents = true;
    },
    async emitRemoval(conn: Db, removal: Removal): Promise<void> {
      await ctx.emit(conn, removal.sessions.map(sessionDeleted));
    },
    atomicIfRecording<T>(fn: (conn: Db) => Promise<T>): Promise<T> {
      return recordEvents ? ctx.atomic(fn) : fn(db);
    },
    atomic<T>(fn: (conn: Db) => Promise<T>): Promise<T> {
      return db.isTransaction ? fn(db) : db.transaction().execute(fn);
    },
  };
  return ctx;
}
