// What the feature verb modules (external accounts, MFA) share: a
// transaction whose events go to the outbox with its changes. Driver errors
// are mapped by ./mapped-errors.ts.
import type { Kysely } from 'kysely';
import type { PendingEvent } from '../events/catalog.js';
import type { DatabaseSchema } from './database-schema.js';

type Db = Kysely<DatabaseSchema>;

export interface EventWriting {
  /** Write events with the changes (amqp.enabled). */
  recordEvents: boolean;
  /** Inserts events into the outbox, in the given transaction. */
  writeEvents(db: Db, events: PendingEvent[]): Promise<void>;
  /** After a commit that wrote events: wakes the relay. */
  committed(): void;
}

export type Emit = (events: PendingEvent[]) => Promise<void>;

/** Runs `fn` in one transaction of `db`; its events commit with it, and wake the relay after. */
export function eventsTransaction(db: Db, deps: EventWriting) {
  return async function inTransaction<T>(fn: (trx: Db, emit: Emit) => Promise<T>): Promise<T> {
    let wrote = false;
    const result = await db.transaction().execute((trx) =>
      fn(trx, async (events) => {
        if (!deps.recordEvents || events.length === 0) return;
        await deps.writeEvents(trx, events);
        wrote = true;
      }),
    );
    if (wrote) deps.committed();
    return result;
  };
}
