// The events outbox's own steps: the relay's (publish, then delete what the
// broker confirmed), its backlog, and the expire-soon scan that writes events.
import type { OutboxEvent } from '../../events/catalog.js';
import { sessionExpireSoon } from '../../events/catalog.js';
import type { OutboxStore } from '../../events/store.js';
import { IN_LIST_SLICE } from '../expiry.js';
import type { StoreDialect } from '../store-dialect.js';
import { verbContext, type Db, type VerbContext } from './context.js';

export type OutboxVerbs = Pick<OutboxStore, 'relayEvents' | 'outboxBacklog' | 'noteExpiringSoon'>;

/** Name of the expire-soon scan's row in event_cursors. */
const EXPIRE_SOON_CURSOR = 'expire_soon';

function outboxEventFromRow(row: {
  id: number;
  name: string;
  routing_key: string;
  tenant_uuid: string | null;
  user_uuid: string | null;
  data: string;
  created_at: number;
}): OutboxEvent {
  return {
    id: Number(row.id),
    name: row.name,
    routingKey: row.routing_key,
    tenantUuid: row.tenant_uuid,
    userUuid: row.user_uuid,
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: Number(row.created_at),
  };
}

/**
 * The outbox verbs over the store's connection (`ctx.db`, not a
 * transaction); `committed` runs after the expire-soon scan commits (wakes
 * the relay if `ctx` wrote events).
 */
export function outboxVerbs(ctx: VerbContext, dialect: Pick<StoreDialect, 'tryLockRelay'>, committed: () => void) {
  const db = ctx.db;
  return {
    async relayEvents(limit: number, publish: (events: OutboxEvent[]) => Promise<number>): Promise<number | null> {
      const step = async (conn: Db): Promise<number> => {
        const rows = await conn.selectFrom('outbox').selectAll().orderBy('id').limit(limit).execute();
        if (rows.length === 0) return 0;
        const events = rows.map(outboxEventFromRow);
        const confirmed = Math.min(await publish(events), events.length);
        // By id, never "id <= last": on PostgreSQL a smaller id may still be
        // uncommitted now and become visible later; it must stay.
        const ids = events.slice(0, confirmed).map((e) => e.id);
        for (let i = 0; i < ids.length; i += IN_LIST_SLICE) {
          await conn
            .deleteFrom('outbox')
            .where('id', 'in', ids.slice(i, i + IN_LIST_SLICE))
            .execute();
        }
        return confirmed;
      };
      const { tryLockRelay } = dialect;
      if (tryLockRelay === undefined) return step(db);
      return db.transaction().execute(async (trx) => ((await tryLockRelay(trx)) ? step(trx) : null));
    },

    async outboxBacklog(): Promise<{ pending: number; oldestCreatedAt: number | null }> {
      const row = await db
        .selectFrom('outbox')
        .select(({ fn }) => [fn.countAll<number>().as('n'), fn.min<number>('created_at').as('oldest')])
        .executeTakeFirstOrThrow();
      return { pending: Number(row.n), oldestCreatedAt: row.oldest === null ? null : Number(row.oldest) };
    },

    async noteExpiringSoon(now: number, until: number, limit: number): Promise<number> {
      const seen = await db.transaction().execute(async (trx) => {
        const inner = verbContext(trx, ctx.dialect, ctx.recordEvents);
        const count = await scanExpiringSoon(inner, now, until, limit);
        if (inner.wroteEvents) ctx.wroteEvents = true;
        return count;
      });
      committed();
      return seen;
    },
  } satisfies OutboxVerbs;
}

/** The scan of noteExpiringSoon (OutboxStore), in the transaction `ctx` was built over. */
async function scanExpiringSoon(ctx: VerbContext, now: number, until: number, limit: number): Promise<number> {
  const db = ctx.db;
  // The cursor: every token up to (expires_at, hash) was seen. Created at the
  // first scan from `now`: tokens already near expiry then are not announced.
  await db
    .insertInto('event_cursors')
    .values({ name: EXPIRE_SOON_CURSOR, expires_at: now, hash: '' })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  let read = db.selectFrom('event_cursors').selectAll().where('name', '=', EXPIRE_SOON_CURSOR);
  // One instance scans a window at a time; the others wait, then continue after it.
  if (ctx.rowLocks) read = read.forUpdate();
  const cursor = await read.executeTakeFirstOrThrow();
  const from = Number(cursor.expires_at);
  if (from > until) return 0;
  const rows = await db
    .selectFrom('tokens')
    .innerJoin('sessions', 'sessions.uuid', 'tokens.session_uuid')
    .select(['tokens.hash', 'tokens.expires_at', 'sessions.uuid', 'sessions.tenant_uuid', 'sessions.user_uuid'])
    .where(({ or, and, eb }) =>
      or([eb('tokens.expires_at', '>', from), and([eb('tokens.expires_at', '=', from), eb('tokens.hash', '>', cursor.hash)])]),
    )
    .where('tokens.expires_at', '<=', until)
    .orderBy('tokens.expires_at')
    .orderBy('tokens.hash')
    .limit(limit)
    .execute();
  const sessions = new Map<string, { uuid: string; tenantUuid: string; userUuid: string | null }>();
  for (const r of rows) sessions.set(r.uuid, { uuid: r.uuid, tenantUuid: r.tenant_uuid, userUuid: r.user_uuid });
  await ctx.emit(db, [...sessions.values()].map(sessionExpireSoon));
  // A full batch stops at its last token; a short one finished the window:
  // "everything up to `until` included", i.e. (until + 1 ms, '').
  const last = rows.length === limit ? rows[rows.length - 1] : null;
  await db
    .updateTable('event_cursors')
    .set(last === null ? { expires_at: until + 1, hash: '' } : { expires_at: Number(last.expires_at), hash: last.hash })
    .where('name', '=', EXPIRE_SOON_CURSOR)
    .execute();
  return rows.length;
}
