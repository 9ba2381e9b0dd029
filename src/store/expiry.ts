// Removing expired tokens, and the sessions they leave empty: the one
// implementation, used by the store's deleteExpired (./kysely/sessions.ts) on
// both engines and by the SQLite purge thread (./sqlite/purge-worker.ts)
// over its own connection.
import { sql, type Kysely } from 'kysely';
import type { PendingEvent } from '../events/catalog.js';
import type { DatabaseSchema } from './database-schema.js';
import { sessionFromRow } from './row-mapping.js';
import type { ExpiredRemoval, Session } from './types.js';

type Db = Kysely<DatabaseSchema>;

/**
 * Session uuids go into `IN (...)` lists in slices of this size, well below
 * both engines' limits on bound parameters, whatever the reaper's batch size.
 */
export const IN_LIST_SLICE = 500;

/** Outbox rows per INSERT: 7 parameters each, far below both engines' limits. */
const OUTBOX_INSERT_SLICE = 100;

/**
 * Deletes the sessions of `sessionUuids` that hold no token any more; returns them.
 *
 * With row locks (PostgreSQL), the sessions are locked first, in a fixed
 * order: when two transactions each delete one of a session's last two tokens
 * (a revocation and the reaper, on two instances), the second to get the lock
 * sees the first one's deletion committed and removes the session, instead of
 * both seeing the other's token and leaving an empty session behind forever.
 */
export async function deleteEmptySessions(db: Db, sessionUuids: string[], rowLocks: boolean): Promise<Session[]> {
  const removed: Session[] = [];
  const ordered = rowLocks ? [...sessionUuids].sort() : sessionUuids;
  for (let i = 0; i < ordered.length; i += IN_LIST_SLICE) {
    const slice = ordered.slice(i, i + IN_LIST_SLICE);
    if (rowLocks) {
      await db.selectFrom('sessions').select('uuid').where('uuid', 'in', slice).orderBy('uuid').forUpdate().execute();
    }
    const rows = await db
      .deleteFrom('sessions')
      .where('uuid', 'in', slice)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('tokens').select(sql.lit(1).as('one')).whereRef('tokens.session_uuid', '=', 'sessions.uuid'))),
      )
      .returningAll()
      .execute();
    for (const row of rows) removed.push(sessionFromRow(row));
  }
  return removed;
}

/**
 * Deletes up to `limit` tokens expired at `now` (oldest first; from `from`
 * on when given, see types.ts deleteExpired) and the sessions they leave
 * empty, in the caller's transaction.
 */
export async function deleteExpiredTokens(
  db: Db,
  rowLocks: boolean,
  now: number,
  limit: number,
  from?: number,
): Promise<ExpiredRemoval> {
  let batch = db.selectFrom('tokens').select('hash').where('expires_at', '<=', now).orderBy('expires_at').limit(limit);
  // The index scan starts where the previous batch ended, not at the dead
  // entries of the rows already deleted (types.ts, deleteExpired).
  if (from !== undefined) batch = batch.where('expires_at', '>=', from);
  // Two reapers on two instances take disjoint batches instead of
  // queueing on (and redoing) the same rows.
  if (rowLocks) batch = batch.forUpdate().skipLocked();
  const deleted = await db
    .deleteFrom('tokens')
    .where('hash', 'in', batch)
    .returning(['hash', 'session_uuid', 'expires_at'])
    .execute();
  const touched = [...new Set(deleted.map((t) => t.session_uuid))];
  const removal: ExpiredRemoval = {
    tokenHashes: deleted.map((t) => t.hash),
    sessions: await deleteEmptySessions(db, touched, rowLocks),
  };
  for (const t of deleted) {
    const expiresAt = Number(t.expires_at);
    if (removal.lastExpiresAt === undefined || expiresAt > removal.lastExpiresAt) removal.lastExpiresAt = expiresAt;
  }
  return removal;
}

/** Writes events into the outbox in the caller's transaction, stamped `at` (epoch ms). */
export async function insertOutbox(db: Db, events: PendingEvent[], at = Date.now()): Promise<void> {
  for (let i = 0; i < events.length; i += OUTBOX_INSERT_SLICE) {
    await db
      .insertInto('outbox')
      .values(
        events.slice(i, i + OUTBOX_INSERT_SLICE).map((e) => ({
          name: e.name,
          routing_key: e.routingKey,
          tenant_uuid: e.tenantUuid,
          user_uuid: e.userUuid,
          data: JSON.stringify(e.data),
          created_at: at,
        })),
      )
      .execute();
  }
}
