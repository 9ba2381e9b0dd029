// Sessions and access tokens: logins (with what they settle), revocations,
// and the reaper's deletion of expired tokens.
import type { TokenStoreTx } from '../../tokens/store.js';
import { auditRecorded, refreshTokenDeleted, sessionCreated } from '../../events/catalog.js';
import { deleteEmptySessions, deleteExpiredTokens } from '../expiry.js';
import type { OrderColumn } from '../list-query.js';
import { refreshTokenFromRow, sessionFromRow, sessionToRow, tokenFromRow, tokenToRow } from '../row-mapping.js';
import { sql, type Expression, type RawBuilder } from 'kysely';
import type { PendingEvent } from '../../events/catalog.js';
import { clearLoginFailuresSql, insertAuditRecordSql, securityVerbs, touchLoginMarkSql } from '../security-verbs.js';
import type {
  ExpiredRemoval,
  ListQuery,
  ListResult,
  LoginSettlement,
  Removal,
  Session,
  SessionFilter,
  TokenRecord,
  UserRevocation,
} from '../types.js';
import type { Db, VerbContext } from './context.js';
import { listPage } from './lists.js';

export type SessionVerbs = Pick<
  TokenStoreTx,
  | 'createSession'
  | 'getSession'
  | 'listSessions'
  | 'deleteSession'
  | 'insertToken'
  | 'settleLogin'
  | 'countLiveSessions'
  | 'findTokenByHash'
  | 'deleteToken'
  | 'deleteUserSessions'
  | 'deleteTokensOfRefreshToken'
  | 'deleteExpired'
>;

const sessionOrders: Readonly<Record<string, OrderColumn>> = {
  uuid: { column: 'sessions.uuid', text: false },
  mobile: { column: 'sessions.mobile', text: false },
  user_uuid: { column: 'sessions.user_uuid', text: false },
  tenant_uuid: { column: 'sessions.tenant_uuid', text: false },
  created_at: { column: 'sessions.created_at', text: false },
};
const sessionSearchColumns = ['uuid', 'user_uuid'] as const;

export function sessionVerbs(ctx: VerbContext) {
  return {
    async createSession(s: Session): Promise<void> {
      await ctx.atomicIfRecording(async (db) => {
        await db.insertInto('sessions').values(sessionToRow(s)).execute();
        await ctx.emit(db, [sessionCreated(s)]);
      });
    },

    async getSession(uuid: string): Promise<Session | null> {
      const row = await ctx.db.selectFrom('sessions').selectAll().where('uuid', '=', uuid).executeTakeFirst();
      return row ? sessionFromRow(row) : null;
    },

    async listSessions(f: SessionFilter, q: ListQuery): Promise<ListResult<Session>> {
      if (f.tenantUuids.length === 0) return { total: 0, filtered: 0, items: [] };
      let scoped = ctx.db.selectFrom('sessions').where('sessions.tenant_uuid', 'in', f.tenantUuids);
      if (f.userUuid !== undefined) scoped = scoped.where('sessions.user_uuid', '=', f.userUuid);
      return listPage(scoped, sessionSearchColumns, sessionOrders, sessionOrders.uuid, 'sessions.uuid', q, sessionFromRow);
    },

    async deleteSession(uuid: string): Promise<Removal | null> {
      return ctx.atomic(async (db) => {
        const tokens = await db.deleteFrom('tokens').where('session_uuid', '=', uuid).returning('hash').execute();
        const row = await db.deleteFrom('sessions').where('uuid', '=', uuid).returningAll().executeTakeFirst();
        if (!row) return null;
        const tokenHashes = tokens.map((t) => t.hash);
        await ctx.dialect.notifyRevoked(db, tokenHashes);
        const removal = { tokenHashes, sessions: [sessionFromRow(row)] };
        await ctx.emitRemoval(db, removal);
        return removal;
      });
    },

    async insertToken(t: TokenRecord): Promise<void> {
      await ctx.db.insertInto('tokens').values(tokenToRow(t)).execute();
    },

    async settleLogin(s: LoginSettlement): Promise<void> {
      // Errors are mapped by whoever runs the transaction.
      const security = securityVerbs(ctx.db, (err) => err);
      if (s.clearKeys.length > 0) await security.clearLoginFailures(s.clearKeys);
      if (s.mark !== null) await security.touchLoginMark(s.mark.key, s.mark.at);
      if (s.audit !== null) {
        await security.insertAuditRecord(s.audit);
        await ctx.emit(ctx.db, [auditRecorded(s.audit)]);
      }
    },

    async countLiveSessions(userUuid: string, now: number, atMost?: number): Promise<number> {
      const row = await liveSessionsCount(ctx.db, userUuid, now, atMost).executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async findTokenByHash(hash: string): Promise<TokenRecord | null> {
      const row = await ctx.db.selectFrom('tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
      return row ? tokenFromRow(row) : null;
    },

    async deleteToken(hash: string): Promise<Removal | null> {
      return ctx.atomic(async (db) => {
        const deleted = await db.deleteFrom('tokens').where('hash', '=', hash).returning('session_uuid').executeTakeFirst();
        if (!deleted) return null;
        const sessions = await deleteEmptySessions(db, [deleted.session_uuid], ctx.rowLocks);
        await ctx.dialect.notifyRevoked(db, [hash]);
        const removal = { tokenHashes: [hash], sessions };
        await ctx.emitRemoval(db, removal);
        return removal;
      });
    },

    async deleteUserSessions(userUuid: string, options: { refreshTokens?: boolean } = {}): Promise<UserRevocation> {
      return ctx.atomic(async (db) => {
        const removal = await removeUserSessions(db, userUuid, ctx.rowLocks);
        const refreshTokens =
          options.refreshTokens === true
            ? (await db.deleteFrom('refresh_tokens').where('user_uuid', '=', userUuid).returningAll().execute()).map(
                refreshTokenFromRow,
              )
            : [];
        await ctx.dialect.notifyRevoked(db, removal.tokenHashes);
        await ctx.emitRemoval(db, removal);
        await ctx.emit(db, refreshTokens.map(refreshTokenDeleted));
        return { ...removal, refreshTokens };
      });
    },

    async deleteTokensOfRefreshToken(refreshTokenUuid: string): Promise<Removal> {
      return ctx.atomic((db) => removeTokensOfRefreshToken(ctx, db, refreshTokenUuid));
    },

    async deleteExpired(now: number, limit: number, from?: number): Promise<ExpiredRemoval> {
      if (limit <= 0) return { tokenHashes: [], sessions: [] };
      return ctx.atomic(async (db) => {
        const removal = await deleteExpiredTokens(db, ctx.rowLocks, now, limit, from);
        await ctx.emitRemoval(db, removal);
        return removal;
      });
    },
  } satisfies SessionVerbs;
}

/**
 * Deletes the access tokens issued from a refresh token (a rotation keeps
 * its uuid: every token of the family names it) and the sessions left
 * empty, tells every instance, and writes the sessions' events; in `db`,
 * the caller's transaction.
 */
export async function removeTokensOfRefreshToken(ctx: VerbContext, db: Db, refreshTokenUuid: string): Promise<Removal> {
  const deleted = await db
    .deleteFrom('tokens')
    .where('refresh_token_uuid', '=', refreshTokenUuid)
    .returning(['hash', 'session_uuid'])
    .execute();
  const removal = {
    tokenHashes: deleted.map((t) => t.hash),
    sessions: await deleteEmptySessions(db, [...new Set(deleted.map((t) => t.session_uuid))], ctx.rowLocks),
  };
  await ctx.dialect.notifyRevoked(db, removal.tokenHashes);
  await ctx.emitRemoval(db, removal);
  return removal;
}

/** Every token of the user (by token or by session), and the sessions left empty. */
export async function removeUserSessions(db: Db, userUuid: string, rowLocks: boolean): Promise<Removal> {
  // Two deletes rather than one with an OR: each stays an index lookup
  // (tokens by user_uuid; tokens by session_uuid of the user's sessions).
  const byUser = await db.deleteFrom('tokens').where('user_uuid', '=', userUuid).returning(['hash', 'session_uuid']).execute();
  const bySession = await db
    .deleteFrom('tokens')
    .where('session_uuid', 'in', db.selectFrom('sessions').select('uuid').where('user_uuid', '=', userUuid))
    .returning(['hash', 'session_uuid'])
    .execute();
  // The user's pending password-reset tokens (emailed, issue 21): they carry
  // no user identity, their link names the user (migrations/self-service.ts).
  const resets = db
    .selectFrom('emailed_tokens')
    .select('token_hash')
    .where('user_uuid', '=', userUuid)
    .where('purpose', '=', 'password_reset');
  const byReset = await db.deleteFrom('tokens').where('hash', 'in', resets).returning(['hash', 'session_uuid']).execute();
  await db.deleteFrom('emailed_tokens').where('user_uuid', '=', userUuid).where('purpose', '=', 'password_reset').execute();
  const deleted = [...byUser, ...bySession, ...byReset];
  // The user's sessions, and any other session that just lost its last token.
  const own = await db.selectFrom('sessions').select('uuid').where('user_uuid', '=', userUuid).execute();
  const touched = new Set([...own.map((s) => s.uuid), ...deleted.map((t) => t.session_uuid)]);
  return {
    tokenHashes: deleted.map((t) => t.hash),
    sessions: await deleteEmptySessions(db, [...touched], rowLocks),
  };
}

/**
 * `select count(*) as n`: the sessions of `user` (a uuid, or a reference to
 * one in an outer query) with a token live at `now`, counted up to `atMost`.
 * A token belongs to its session's user: tokens_user_uuid_expires_at_idx
 * answers this without reading a row (migration 7).
 */
export function liveSessionsCount(db: Db, user: string | Expression<string>, now: number, atMost?: number) {
  let live = db
    .selectFrom('tokens')
    .select('tokens.session_uuid')
    .distinct()
    .where('tokens.user_uuid', '=', user)
    .where('tokens.expires_at', '>', now);
  if (atMost !== undefined) live = live.limit(atMost);
  return db.selectFrom(live.as('live')).select(({ fn }) => fn.countAll<number>().as('n'));
}

/** A login's writes, gathered by a transaction of deferred writes (../kysely-store.ts). */
export interface LoginWrites {
  session: Session | null;
  token: TokenRecord | null;
  settlement: LoginSettlement | null;
}

/** The events a login's writes commit with (as createSession and settleLogin write them). */
export function loginEvents(w: LoginWrites): PendingEvent[] {
  const events: PendingEvent[] = [];
  if (w.session !== null) events.push(sessionCreated(w.session));
  if (w.settlement?.audit != null) events.push(auditRecorded(w.settlement.audit));
  return events;
}

/** `insert into <table> (<columns>) values (<values>)` of one row object. */
function insertRow(table: string, row: Record<string, unknown>): RawBuilder<unknown> {
  const columns = Object.keys(row);
  return sql`insert into ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c)))}) values (${sql.join(columns.map((c) => row[c]))})`;
}

/**
 * A login's writes as ONE statement of data-modifying CTEs (PostgreSQL):
 * the session, the token, the throttle's counters cleared, the trust mark,
 * the audit record and their events. Atomic by itself: all or none, no
 * BEGIN/COMMIT. The CTEs run on one snapshot and touch different rows (the
 * counters cleared and the trust mark are different keys); the token's
 * foreign key to its session is checked at the statement's end, when both
 * rows are there. Null: nothing to write.
 */
export function loginWritesSql(w: LoginWrites, events: readonly PendingEvent[], at = Date.now()): RawBuilder<unknown> | null {
  const parts: RawBuilder<unknown>[] = [];
  if (w.session !== null) parts.push(insertRow('sessions', sessionToRow(w.session) as Record<string, unknown>));
  if (w.token !== null) parts.push(insertRow('tokens', tokenToRow(w.token) as Record<string, unknown>));
  const s = w.settlement;
  if (s !== null && s.clearKeys.length > 0) parts.push(clearLoginFailuresSql(s.clearKeys));
  if (s !== null && s.mark !== null) parts.push(touchLoginMarkSql(s.mark.key, s.mark.at));
  if (s?.audit != null) parts.push(insertAuditRecordSql(s.audit));
  if (events.length > 0) {
    const rows = events.map(
      (e) =>
        sql`(${e.name}, ${e.routingKey}, ${e.tenantUuid}, ${e.userUuid}, ${JSON.stringify(e.data)}, cast(${Math.trunc(at)} as bigint))`,
    );
    parts.push(sql`insert into outbox (name, routing_key, tenant_uuid, user_uuid, data, created_at) values ${sql.join(rows)}`);
  }
  if (parts.length === 0) return null;
  const ctes = parts.map((part, i) => sql`${sql.raw(`w${i}`)} as (${part})`);
  return sql`with ${sql.join(ctes)} select 1 as one`;
}
