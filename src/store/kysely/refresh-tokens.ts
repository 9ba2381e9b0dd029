// Refresh tokens: one per user and client, their rotation and reuse
// detection (issue 19; migration 12), and their expiry.
import type { Expression, SqlBool } from 'kysely';
import { refreshTokenCreated, refreshTokenDeleted } from '../../events/catalog.js';
import type { TokenStoreTx } from '../../tokens/store.js';
import { deleteEmptySessions } from '../expiry.js';
import { containsAny, type OrderColumn } from '../list-query.js';
import { refreshTokenFromRow, refreshTokenToRow, toDbBool } from '../row-mapping.js';
import type {
  ListResult,
  RefreshToken,
  RefreshTokenExpiry,
  RefreshTokenFilter,
  RefreshTokenUse,
  RetiredRefreshToken,
  UserRevocation,
} from '../types.js';
import type { Db, VerbContext } from './context.js';
import { countRows, paged } from './lists.js';
import { removeTokensOfRefreshToken } from './sessions.js';

export type RefreshTokenVerbs = Pick<
  TokenStoreTx,
  | 'replaceRefreshToken'
  | 'deleteMobileRefreshTokens'
  | 'findRefreshTokenByHash'
  | 'listRefreshTokens'
  | 'deleteRefreshToken'
  | 'deleteRefreshTokenByHash'
  | 'useRefreshToken'
  | 'findRetiredRefreshToken'
  | 'revokeRefreshTokenFamily'
  | 'deleteExpiredRefreshTokens'
>;

const refreshTokenOrders: Readonly<Record<string, OrderColumn>> = {
  client_id: { column: 'refresh_tokens.client_id', text: true },
  created_at: { column: 'refresh_tokens.created_at', text: false },
  mobile: { column: 'refresh_tokens.mobile', text: false },
};

export function refreshTokenVerbs(ctx: VerbContext) {
  return {
    async replaceRefreshToken(rt: RefreshToken): Promise<RefreshToken | null> {
      return ctx.atomic(async (db) => {
        const old = await db
          .deleteFrom('refresh_tokens')
          .where('user_uuid', '=', rt.userUuid)
          .where('client_id', '=', rt.clientId)
          .returningAll()
          .executeTakeFirst();
        await db.insertInto('refresh_tokens').values(refreshTokenToRow(rt)).execute();
        const replaced = old ? refreshTokenFromRow(old) : null;
        await ctx.emit(
          db,
          replaced === null ? [refreshTokenCreated(rt)] : [refreshTokenDeleted(replaced), refreshTokenCreated(rt)],
        );
        return replaced;
      });
    },

    async deleteMobileRefreshTokens(userUuid: string): Promise<UserRevocation> {
      return ctx.atomic(async (db) => {
        // One mobile login of a user at a time: the second waits for the first
        // to commit, then sees (and supersedes) its refresh token.
        if (ctx.rowLocks) await db.selectFrom('users').select('uuid').where('uuid', '=', userUuid).forUpdate().execute();
        const rows = await db
          .deleteFrom('refresh_tokens')
          .where('user_uuid', '=', userUuid)
          .where('mobile', '=', toDbBool(true))
          .returningAll()
          .execute();
        const refreshTokens = rows.map(refreshTokenFromRow);
        if (refreshTokens.length === 0) return { tokenHashes: [], sessions: [], refreshTokens };
        const deleted = await db
          .deleteFrom('tokens')
          .where(
            'refresh_token_uuid',
            'in',
            refreshTokens.map((rt) => rt.uuid),
          )
          .returning(['hash', 'session_uuid'])
          .execute();
        const removal = {
          tokenHashes: deleted.map((t) => t.hash),
          sessions: await deleteEmptySessions(db, [...new Set(deleted.map((t) => t.session_uuid))], ctx.rowLocks),
        };
        await ctx.dialect.notifyRevoked(db, removal.tokenHashes);
        // As wazo-auth publishes them: each session, then the refresh token.
        await ctx.emitRemoval(db, removal);
        await ctx.emit(db, refreshTokens.map(refreshTokenDeleted));
        return { ...removal, refreshTokens };
      });
    },

    async findRefreshTokenByHash(hash: string): Promise<RefreshToken | null> {
      const row = await ctx.db.selectFrom('refresh_tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
      return row ? refreshTokenFromRow(row) : null;
    },

    async listRefreshTokens(f: RefreshTokenFilter): Promise<ListResult<RefreshToken>> {
      if (f.tenantUuids !== undefined && f.tenantUuids.length === 0) {
        return { total: 0, filtered: 0, items: [] };
      }
      let selected = ctx.db.selectFrom('refresh_tokens');
      if (f.userUuid !== undefined) selected = selected.where('refresh_tokens.user_uuid', '=', f.userUuid);
      if (f.tenantUuids !== undefined) {
        selected = selected.where('refresh_tokens.tenant_uuid', 'in', f.tenantUuids);
      }
      // total: the scope (tenants, user); filtered: after search and the exact filters.
      let matching = f.search ? selected.where(containsAny(['client_id'], f.search)) : selected;
      if (f.clientId !== undefined) matching = matching.where('refresh_tokens.client_id', '=', f.clientId);
      if (f.mobile !== undefined) matching = matching.where('refresh_tokens.mobile', '=', toDbBool(f.mobile));
      const narrowed = Boolean(f.search) || f.clientId !== undefined || f.mobile !== undefined;
      const order = refreshTokenOrders[f.order ?? ''] ?? refreshTokenOrders.created_at;

      const total = await countRows(selected);
      const filtered = narrowed ? await countRows(matching) : total;
      const rows = await paged(matching.selectAll(), order, 'refresh_tokens.uuid', f).execute();
      return { total, filtered, items: rows.map(refreshTokenFromRow) };
    },

    async deleteRefreshToken(userUuid: string, clientId: string): Promise<RefreshToken | null> {
      return ctx.atomicIfRecording(async (db) => {
        const row = await db
          .deleteFrom('refresh_tokens')
          .where('user_uuid', '=', userUuid)
          .where('client_id', '=', clientId)
          .returningAll()
          .executeTakeFirst();
        if (!row) return null;
        const deleted = refreshTokenFromRow(row);
        await ctx.emit(db, [refreshTokenDeleted(deleted)]);
        return deleted;
      });
    },

    async deleteRefreshTokenByHash(hash: string): Promise<RefreshToken | null> {
      return ctx.atomicIfRecording(async (db) => {
        const row = await db.deleteFrom('refresh_tokens').where('hash', '=', hash).returningAll().executeTakeFirst();
        if (!row) return null;
        const deleted = refreshTokenFromRow(row);
        await ctx.emit(db, [refreshTokenDeleted(deleted)]);
        return deleted;
      });
    },

    // lifecycle (issue 19; migration 12)

    async useRefreshToken(use: RefreshTokenUse): Promise<boolean> {
      const rotateTo = use.rotateTo;
      const update = (db: Db) =>
        db
          .updateTable('refresh_tokens')
          .set(rotateTo === undefined ? { last_used_at: use.at } : { last_used_at: use.at, hash: rotateTo.hash })
          .where('uuid', '=', use.uuid)
          .where('hash', '=', use.hash)
          .returning('uuid')
          .executeTakeFirst();
      if (rotateTo === undefined) return (await update(ctx.db)) !== undefined;
      return ctx.atomic(async (db) => {
        // Conditional on the hash: of two concurrent rotations of one token the
        // second waits for the first (the row lock; SQLite: one writer), then
        // finds the hash changed and updates nothing.
        if ((await update(db)) === undefined) return false;
        await db
          .insertInto('refresh_token_retired')
          .values({ hash: use.hash, family_uuid: use.uuid, retired_at: use.at })
          .execute();
        // The newest `keepRetired` of the family are kept (a bound per family).
        const kept = db
          .selectFrom('refresh_token_retired')
          .select('hash')
          .where('family_uuid', '=', use.uuid)
          .orderBy('retired_at', 'desc')
          .orderBy('hash')
          .limit(rotateTo.keepRetired);
        await db.deleteFrom('refresh_token_retired').where('family_uuid', '=', use.uuid).where('hash', 'not in', kept).execute();
        return true;
      });
    },

    async findRetiredRefreshToken(hash: string): Promise<RetiredRefreshToken | null> {
      const row = await ctx.db.selectFrom('refresh_token_retired').selectAll().where('hash', '=', hash).executeTakeFirst();
      return row ? { hash: row.hash, familyUuid: row.family_uuid, retiredAt: Number(row.retired_at) } : null;
    },

    async revokeRefreshTokenFamily(familyUuid: string): Promise<UserRevocation> {
      return ctx.atomic(async (db) => {
        // Its retired hashes go with it (ON DELETE CASCADE); said here for a
        // family whose refresh token is already gone.
        await db.deleteFrom('refresh_token_retired').where('family_uuid', '=', familyUuid).execute();
        const refreshTokens = (await db.deleteFrom('refresh_tokens').where('uuid', '=', familyUuid).returningAll().execute()).map(
          refreshTokenFromRow,
        );
        // As for a mobile login's supersession: each session, then the refresh token.
        const removal = await removeTokensOfRefreshToken(ctx, db, familyUuid);
        await ctx.emit(db, refreshTokens.map(refreshTokenDeleted));
        return { ...removal, refreshTokens };
      });
    },

    async deleteExpiredRefreshTokens(expiry: RefreshTokenExpiry, limit: number): Promise<RefreshToken[]> {
      const { lastUsedBefore, createdBefore } = expiry;
      if (limit <= 0 || (lastUsedBefore === null && createdBefore === null)) return [];
      return ctx.atomic(async (db) => {
        let batch = db
          .selectFrom('refresh_tokens')
          .select('uuid')
          .where((eb) => {
            const expired: Expression<SqlBool>[] = [];
            if (lastUsedBefore !== null) {
              expired.push(eb('last_used_at', '<=', lastUsedBefore));
              expired.push(eb.and([eb('last_used_at', 'is', null), eb('created_at', '<=', lastUsedBefore)]));
            }
            if (createdBefore !== null) expired.push(eb('created_at', '<=', createdBefore));
            return eb.or(expired);
          })
          .limit(limit);
        if (ctx.rowLocks) batch = batch.forUpdate().skipLocked();
        const rows = await db.deleteFrom('refresh_tokens').where('uuid', 'in', batch).returningAll().execute();
        const refreshTokens = rows.map(refreshTokenFromRow);
        await ctx.emit(db, refreshTokens.map(refreshTokenDeleted));
        return refreshTokens;
      });
    },
  } satisfies RefreshTokenVerbs;
}
