// The one implementation of the store verbs, over Kysely, for both engines.
// Engine differences come in through StoreDialect (./store-dialect.ts).

import { sql } from 'kysely';
import type { Kysely, SelectQueryBuilder, Updateable } from 'kysely';
import type {
  DatabaseSchema, GroupsTable, PoliciesTable, TenantsTable, UsersTable,
} from './database-schema.js';
import { StoreError, StoreUnavailableError } from './errors.js';
import { containsAny, orderTerms, pageLimit } from './list-query.js';
import type { OrderColumn } from './list-query.js';
import {
  auditRecorded, type OutboxEvent, type PendingEvent, refreshTokenCreated, refreshTokenDeleted, sessionCreated, sessionDeleted,
  sessionExpireSoon, tenantAdded, tenantDeleted, tenantUpdated,
} from '../events/catalog.js';
import { runMigrations } from './migrations/run-migrations.js';
import { securityVerbs } from './security-verbs.js';
import {
  groupFromRow, groupToRow, policyFromRow, policyToRow, refreshTokenFromRow, refreshTokenToRow, sessionFromRow,
  sessionToRow, tenantFromRow, tenantToRow, toDbBool, tokenFromRow, tokenToRow, userFromRow,
  userToRow,
} from './row-mapping.js';
import type { StoreDialect, StoreLogger } from './store-dialect.js';
import type {
  AuditRecord, Group, GroupFilter, GroupPatch, ListQuery, ListResult, LoginSettlement, NewUser, Policy, PolicyFilter,
  PolicyPatch, RefreshToken, RefreshTokenFilter, Removal, ExpiredRemoval, Session, SessionFilter, Store, StoreTx,
  Tenant, TenantPatch, TokenRecord, User, UserFilter, UserPatch,
} from './types.js';
import { ALL_USERS_SLUG } from './types.js';
import type { LdapConfig } from './types.js';
import { ldapConfigFromRow, ldapConfigToRow } from './ldap-config-rows.js';

/** A Kysely instance or a transaction (Transaction extends Kysely). */
type Db = Kysely<DatabaseSchema>;

const userOrders: Readonly<Record<string, OrderColumn>> = {
  uuid: { column: 'users.uuid', text: false },
  username: { column: 'users.username', text: true },
  firstname: { column: 'users.firstname', text: true },
  lastname: { column: 'users.lastname', text: true },
  email_address: { column: 'users.email_address', text: true },
  purpose: { column: 'users.purpose', text: false },
  enabled: { column: 'users.enabled', text: false },
};
const userSearchColumns = ['username', 'firstname', 'lastname', 'email_address'] as const;

const tenantOrders: Readonly<Record<string, OrderColumn>> = {
  uuid: { column: 'tenants.uuid', text: false },
  name: { column: 'tenants.name', text: true },
  slug: { column: 'tenants.slug', text: true },
};
const tenantSearchColumns = ['name', 'slug'] as const;

const groupOrders: Readonly<Record<string, OrderColumn>> = {
  uuid: { column: 'groups.uuid', text: false },
  name: { column: 'groups.name', text: true },
  slug: { column: 'groups.slug', text: true },
};
const groupSearchColumns = ['name', 'slug'] as const;

const policyOrders: Readonly<Record<string, OrderColumn>> = {
  uuid: { column: 'policies.uuid', text: false },
  name: { column: 'policies.name', text: true },
  slug: { column: 'policies.slug', text: true },
  description: { column: 'policies.description', text: true },
};
const policySearchColumns = ['name', 'slug', 'description'] as const;

const sessionOrders: Readonly<Record<string, OrderColumn>> = {
  uuid: { column: 'sessions.uuid', text: false },
  mobile: { column: 'sessions.mobile', text: false },
  user_uuid: { column: 'sessions.user_uuid', text: false },
  tenant_uuid: { column: 'sessions.tenant_uuid', text: false },
  created_at: { column: 'sessions.created_at', text: false },
};
const sessionSearchColumns = ['uuid', 'user_uuid'] as const;

/** Depth bound of tenant-tree walks: a safety net, trees are shallow. */
const MAX_TENANT_DEPTH = 64;

const refreshTokenOrders: Readonly<Record<string, OrderColumn>> = {
  client_id: { column: 'refresh_tokens.client_id', text: true },
  created_at: { column: 'refresh_tokens.created_at', text: false },
  mobile: { column: 'refresh_tokens.mobile', text: false },
};

/**
 * Session uuids go into `IN (...)` lists in slices of this size, well below
 * both engines' limits on bound parameters, whatever the reaper's batch size.
 */
const IN_LIST_SLICE = 500;

/** Outbox rows per INSERT: 7 parameters each, far below both engines' limits. */
const OUTBOX_INSERT_SLICE = 100;

/** Name of the expire-soon scan's row in event_cursors. */
const EXPIRE_SOON_CURSOR = 'expire_soon';

function outboxEventToRow(e: PendingEvent) {
  return {
    name: e.name,
    routing_key: e.routingKey,
    tenant_uuid: e.tenantUuid,
    user_uuid: e.userUuid,
    data: JSON.stringify(e.data),
    created_at: Date.now(),
  };
}

async function insertOutbox(db: Db, events: PendingEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += OUTBOX_INSERT_SLICE) {
    await db.insertInto('outbox').values(events.slice(i, i + OUTBOX_INSERT_SLICE).map(outboxEventToRow)).execute();
  }
}

function outboxEventFromRow(row: {
  id: number; name: string; routing_key: string; tenant_uuid: string | null; user_uuid: string | null;
  data: string; created_at: number;
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

export interface KyselyStoreOptions {
  /** Write events to the outbox with the changes that cause them. */
  recordEvents: boolean;
}

export function createKyselyStore(
  dialect: StoreDialect,
  logger: StoreLogger,
  options: KyselyStoreOptions = { recordEvents: false },
): Store {
  const { db, mapError } = dialect;
  const committedListeners: (() => void)[] = [];
  /** After a commit that wrote events: wake the relay (never throws). */
  const notifyCommitted = (): void => {
    for (const listener of committedListeners) listener();
  };
  const eventsCommitted = (verbs: KyselyVerbs): void => {
    if (!verbs.wroteEvents) return;
    verbs.wroteEvents = false;
    notifyCommitted();
  };
  const topLevel = new KyselyVerbs(db, dialect, options.recordEvents);
  const verbs = withMappedErrors(topLevel, mapError, () => eventsCommitted(topLevel));

  return {
    ...verbs,
    // security (issue 7): ./security-verbs.ts
    ...securityVerbs(db, mapError),
    // With events on, an audit record and its event commit together.
    ...(options.recordEvents ? {
      async insertAuditRecord(r: AuditRecord): Promise<void> {
        try {
          await db.transaction().execute(async (trx) => {
            await securityVerbs(trx, mapError).insertAuditRecord(r);
            await insertOutbox(trx, [auditRecorded(r)]);
          });
        } catch (err) {
          throw mapError(err);
        }
        notifyCommitted();
      },
    } : {}),
    engine: dialect.engine,

    async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
      let inner: KyselyVerbs | null = null;
      try {
        const result = await db.transaction().execute((trx) => {
          inner = new KyselyVerbs(trx, dialect, options.recordEvents);
          return fn(withMappedErrors(inner, mapError));
        });
        if (inner !== null) eventsCommitted(inner);
        return result;
      } catch (err) {
        throw mapError(err);
      }
    },

    onEventsCommitted(listener) {
      committedListeners.push(listener);
    },

    async relayEvents(limit, publish) {
      const step = async (conn: Db): Promise<number> => {
        const rows = await conn.selectFrom('outbox').selectAll().orderBy('id').limit(limit).execute();
        if (rows.length === 0) return 0;
        const events = rows.map(outboxEventFromRow);
        const confirmed = Math.min(await publish(events), events.length);
        // By id, never "id <= last": on PostgreSQL a smaller id may still be
        // uncommitted now and become visible later; it must stay.
        const ids = events.slice(0, confirmed).map((e) => e.id);
        for (let i = 0; i < ids.length; i += IN_LIST_SLICE) {
          await conn.deleteFrom('outbox').where('id', 'in', ids.slice(i, i + IN_LIST_SLICE)).execute();
        }
        return confirmed;
      };
      try {
        const { tryLockRelay } = dialect;
        if (tryLockRelay === undefined) return await step(db);
        return await db.transaction().execute(async (trx) => ((await tryLockRelay(trx)) ? step(trx) : null));
      } catch (err) {
        throw mapError(err);
      }
    },

    async outboxBacklog() {
      try {
        const row = await db.selectFrom('outbox')
          .select(({ fn }) => [fn.countAll<number>().as('n'), fn.min<number>('created_at').as('oldest')])
          .executeTakeFirstOrThrow();
        return { pending: Number(row.n), oldestCreatedAt: row.oldest === null ? null : Number(row.oldest) };
      } catch (err) {
        throw mapError(err);
      }
    },

    async noteExpiringSoon(now, until, limit) {
      try {
        const seen = await db.transaction().execute(async (trx) => {
          const inner = new KyselyVerbs(trx, dialect, options.recordEvents);
          const count = await inner.noteExpiringSoon(now, until, limit);
          if (inner.wroteEvents) topLevel.wroteEvents = true;
          return count;
        });
        eventsCommitted(topLevel);
        return seen;
      } catch (err) {
        throw mapError(err);
      }
    },

    async migrate(): Promise<void> {
      try {
        await runMigrations(dialect, logger);
      } catch (err) {
        throw mapError(err);
      }
    },

    watchRevocations(handler) {
      return dialect.watchRevocations(handler, logger);
    },

    async ping(): Promise<void> {
      try {
        await sql`select 1`.execute(db);
      } catch (err) {
        const mapped = mapError(err);
        throw mapped instanceof StoreError
          ? mapped
          : new StoreUnavailableError('database did not answer', { cause: err });
      }
    },

    async close(): Promise<void> {
      await db.destroy();
    },
  };
}

/** Every verb of StoreTx; `satisfies` makes the compiler flag a missing one. */
const storeTxVerbs = {
  createTenant: true, getTenant: true, getTopTenant: true,
  listTenantSubtree: true, listTenants: true, updateTenant: true, hasChildTenants: true, deleteTenant: true,
  createPolicy: true, getPolicy: true, listPolicies: true, updatePolicy: true, deletePolicy: true,
  removeUserPolicy: true, listGrantedPolicies: true,
  createGroup: true, getGroup: true, getAllUsersGroup: true, listGroups: true, updateGroup: true,
  deleteGroup: true, addGroupUser: true, removeGroupUser: true, addGroupPolicy: true,
  removeGroupPolicy: true, ensureAllUsersGroups: true,
  getSession: true, listSessions: true, deleteSession: true,
  createUser: true, getUser: true, findUserByLogin: true, listUsers: true, updateUser: true,
  setUserPassword: true, deleteUser: true,
  upsertPolicy: true, getPolicyBySlug: true, addUserPolicy: true, listUserPolicies: true,
  createSession: true, insertToken: true, settleLogin: true, countLiveSessions: true, findTokenByHash: true,
  deleteToken: true, deleteUserSessions: true, deleteExpired: true, deleteTokensOfRefreshToken: true,
  deleteRefreshTokenByHash: true,
  replaceRefreshToken: true, findRefreshTokenByHash: true, listRefreshTokens: true,
  deleteRefreshToken: true,
  // LDAP configuration (issue 6)
  getLdapConfig: true, putLdapConfig: true, deleteLdapConfig: true, findTenantByDomainName: true,
  findTenantBySlug: true, findTenantUser: true,
} satisfies Record<keyof StoreTx, true>;

/**
 * The verbs of `target`, each turning driver errors into typed store errors;
 * `succeeded` runs after each verb that completed (outside a transaction:
 * committed).
 */
function withMappedErrors(target: StoreTx, mapError: (err: unknown) => unknown, succeeded?: () => void): StoreTx {
  const guarded: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of Object.keys(storeTxVerbs) as (keyof StoreTx)[]) {
    const verb = target[name] as (...args: unknown[]) => Promise<unknown>;
    guarded[name] = async function mappingErrors(...args: unknown[]) {
      let result: unknown;
      try {
        result = await verb.apply(target, args);
      } catch (err) {
        throw mapError(err);
      }
      succeeded?.();
      return result;
    };
  }
  return guarded as unknown as StoreTx;
}

class KyselyVerbs implements StoreTx {
  /** SELECT … FOR UPDATE SKIP LOCKED is available. */
  private readonly rowLocks: boolean;
  /** Set when these verbs wrote events; cleared by whoever wakes the relay after commit. */
  wroteEvents = false;

  constructor(
    private readonly db: Db,
    private readonly dialect: Pick<StoreDialect, 'rowLocks' | 'notifyRevoked'>,
    private readonly recordEvents = false,
  ) {
    this.rowLocks = dialect.rowLocks;
  }

  /** Writes events into the outbox, in the caller's transaction (db). */
  private async emit(db: Db, events: PendingEvent[]): Promise<void> {
    if (!this.recordEvents || events.length === 0) return;
    await insertOutbox(db, events);
    this.wroteEvents = true;
  }

  /** Writes the removal's deleted sessions as events. */
  private async emitRemoval(db: Db, removal: Removal): Promise<void> {
    await this.emit(db, removal.sessions.map(sessionDeleted));
  }

  /** Runs `fn` atomically when events are recorded (it then writes more than one row). */
  private atomicIfRecording<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return this.recordEvents ? this.atomic(fn) : fn(this.db);
  }

  /** Runs a multi-statement verb atomically: in the caller's transaction, or in its own. */
  private atomic<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return this.db.isTransaction ? fn(this.db) : this.db.transaction().execute(fn);
  }

  // ---- tenants

  async createTenant(t: Tenant): Promise<Tenant> {
    return this.atomicIfRecording(async (db) => {
      await db.insertInto('tenants').values(tenantToRow(t)).execute();
      const created = { ...t, domainNames: [...(t.domainNames ?? [])] };
      await this.emit(db, [tenantAdded(created)]);
      return created;
    });
  }

  async getTenant(uuid: string): Promise<Tenant | null> {
    const row = await this.db.selectFrom('tenants').selectAll()
      .where('uuid', '=', uuid).executeTakeFirst();
    return row ? tenantFromRow(row) : null;
  }

  async getTopTenant(): Promise<Tenant | null> {
    const row = await this.db.selectFrom('tenants').selectAll()
      .where('parent_uuid', 'is', null).orderBy('uuid').limit(1).executeTakeFirst();
    return row ? tenantFromRow(row) : null;
  }

  async listTenantSubtree(rootUuid: string): Promise<string[]> {
    const result = await sql<{ uuid: string }>`
      with recursive subtree (uuid, depth) as (
        select uuid, 0 from tenants where uuid = ${rootUuid}
        union all
        select t.uuid, s.depth + 1 from tenants t join subtree s on t.parent_uuid = s.uuid
        where s.depth < ${MAX_TENANT_DEPTH}
      )
      select uuid from subtree order by depth, uuid`.execute(this.db);
    return result.rows.map((r) => r.uuid);
  }

  async listTenants(tenantUuids: string[], q: ListQuery): Promise<ListResult<Tenant>> {
    if (tenantUuids.length === 0) return { total: 0, filtered: 0, items: [] };
    const scoped = this.db.selectFrom('tenants').where('tenants.uuid', 'in', tenantUuids);
    return listPage(scoped, tenantSearchColumns, tenantOrders, tenantOrders.name, 'tenants.uuid', q, tenantFromRow);
  }

  async updateTenant(uuid: string, patch: TenantPatch): Promise<Tenant | null> {
    const changes: Updateable<TenantsTable> = {};
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.slug !== undefined) changes.slug = patch.slug;
    if (patch.domainNames !== undefined) changes.domain_names = JSON.stringify(patch.domainNames);
    if (Object.keys(changes).length === 0) return this.getTenant(uuid);
    return this.atomicIfRecording(async (db) => {
      const row = await db.updateTable('tenants').set(changes).where('uuid', '=', uuid)
        .returningAll().executeTakeFirst();
      if (!row) return null;
      const updated = tenantFromRow(row);
      await this.emit(db, [tenantUpdated(updated)]);
      return updated;
    });
  }

  async hasChildTenants(uuid: string): Promise<boolean> {
    const row = await this.db.selectFrom('tenants').select('uuid')
      .where('parent_uuid', '=', uuid).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async deleteTenant(uuid: string): Promise<Removal | null> {
    return this.atomic(async (db) => {
      const tenantRow = await db.selectFrom('tenants').selectAll().where('uuid', '=', uuid).executeTakeFirst();
      if (tenantRow === undefined) return null;
      const usersOfTenant = db.selectFrom('users').select('uuid').where('tenant_uuid', '=', uuid);
      const refreshTokens = this.recordEvents
        ? await db.selectFrom('refresh_tokens').selectAll().where('user_uuid', 'in', usersOfTenant).execute()
        : [];
      const sessionsOfTenant = db.selectFrom('sessions').select('uuid')
        .where(({ or, eb }) => or([eb('tenant_uuid', '=', uuid), eb('user_uuid', 'in', usersOfTenant)]));
      // Tokens of the tenant's users whatever their session, then of its sessions.
      const byUser = await db.deleteFrom('tokens').where('user_uuid', 'in', usersOfTenant)
        .returning(['hash', 'session_uuid']).execute();
      const bySession = await db.deleteFrom('tokens').where('session_uuid', 'in', sessionsOfTenant)
        .returning(['hash', 'session_uuid']).execute();
      const own = await sessionsOfTenant.execute();
      const touched = new Set([...own.map((r) => r.uuid), ...byUser.map((t) => t.session_uuid)]);
      const sessions = await deleteEmptySessions(db, [...touched], this.rowLocks);
      // Links, memberships and refresh tokens go with their rows (ON DELETE CASCADE).
      await db.deleteFrom('users').where('tenant_uuid', '=', uuid).execute();
      await db.deleteFrom('groups').where('tenant_uuid', '=', uuid).execute();
      await db.deleteFrom('policies').where('tenant_uuid', '=', uuid).execute();
      await db.deleteFrom('tenants').where('uuid', '=', uuid).execute();
      const tokenHashes = [...byUser, ...bySession].map((t) => t.hash);
      await this.dialect.notifyRevoked(db, tokenHashes);
      await this.emit(db, [
        ...sessions.map(sessionDeleted),
        ...refreshTokens.map((row) => refreshTokenDeleted(refreshTokenFromRow(row))),
        tenantDeleted(tenantFromRow(tenantRow)),
      ]);
      return { tokenHashes, sessions };
    });
  }

  // ---- users

  async createUser(u: NewUser): Promise<User> {
    return this.atomic(async (db) => {
      await db.insertInto('users').values(userToRow(u)).execute();
      await db.insertInto('group_users').columns(['group_uuid', 'user_uuid'])
        .expression(db.selectFrom('groups')
          .select((eb) => ['groups.uuid as group_uuid', eb.val(u.uuid).as('user_uuid')])
          .where('tenant_uuid', '=', u.tenantUuid).where('system_managed', '=', toDbBool(true)))
        .execute();
      return { ...u };
    });
  }

  async getUser(uuid: string): Promise<User | null> {
    const row = await this.db.selectFrom('users').selectAll()
      .where('uuid', '=', uuid).executeTakeFirst();
    return row ? userFromRow(row) : null;
  }

  async findUserByLogin(login: string): Promise<User | null> {
    // lower() on both sides matches the unique indexes on lower(username) and
    // lower(email_address), so both lookups are index seeks. SQLite's lower()
    // folds ASCII only: "É" and "é" are different logins there.
    // A username and another user's confirmed email could be equal: the
    // username wins.
    const lowered = sql<string>`lower(${login})`;
    const row = await this.db.selectFrom('users').selectAll()
      .where(({ eb, or, and, ref, fn }) => or([
        eb(fn('lower', [ref('username')]), '=', lowered),
        and([
          eb(ref('email_confirmed'), '=', toDbBool(true)),
          eb(fn('lower', [ref('email_address')]), '=', lowered),
        ]),
      ]))
      .orderBy(sql`case when lower(username) = ${lowered} then 0 else 1 end`)
      .limit(1)
      .executeTakeFirst();
    return row ? userFromRow(row) : null;
  }

  async listUsers(tenantUuids: string[], q: ListQuery, f: UserFilter = {}): Promise<ListResult<User>> {
    if (tenantUuids.length === 0) return { total: 0, filtered: 0, items: [] };
    let inTenants = this.db.selectFrom('users').where('users.tenant_uuid', 'in', tenantUuids);
    if (f.groupUuid !== undefined) {
      inTenants = inTenants.where('users.uuid', 'in',
        this.db.selectFrom('group_users').select('user_uuid').where('group_uuid', '=', f.groupUuid));
    }
    const matching = q.search
      ? inTenants.where(containsAny(userSearchColumns, q.search))
      : inTenants;
    const order = userOrders[q.order ?? ''] ?? userOrders.username;

    const total = await countRows(inTenants);
    const filtered = q.search ? await countRows(matching) : total;
    const rows = await paged(matching.selectAll(), order, 'users.uuid', q).execute();
    return { total, filtered, items: rows.map(userFromRow) };
  }

  async updateUser(uuid: string, patch: UserPatch): Promise<User | null> {
    const changes: Updateable<UsersTable> = {};
    if (patch.username !== undefined) changes.username = patch.username;
    if (patch.firstname !== undefined) changes.firstname = patch.firstname;
    if (patch.lastname !== undefined) changes.lastname = patch.lastname;
    if (patch.emailAddress !== undefined) changes.email_address = patch.emailAddress;
    if (patch.emailConfirmed !== undefined) changes.email_confirmed = toDbBool(patch.emailConfirmed);
    if (patch.purpose !== undefined) changes.purpose = patch.purpose;
    if (patch.enabled !== undefined) changes.enabled = toDbBool(patch.enabled);
    if (Object.keys(changes).length === 0) return this.getUser(uuid);

    const row = await this.db.updateTable('users')
      .set(changes)
      .where('uuid', '=', uuid)
      .returningAll()
      .executeTakeFirst();
    return row ? userFromRow(row) : null;
  }

  async setUserPassword(uuid: string, passwordHash: string | null): Promise<boolean> {
    const result = await this.db.updateTable('users').set({ password_hash: passwordHash })
      .where('uuid', '=', uuid).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async deleteUser(uuid: string): Promise<Removal | null> {
    return this.atomic(async (db) => {
      const refreshTokens = this.recordEvents
        ? await db.selectFrom('refresh_tokens').selectAll().where('user_uuid', '=', uuid).execute()
        : [];
      // Refresh tokens and policy links go with the row (ON DELETE CASCADE).
      const deleted = await db.deleteFrom('users').where('uuid', '=', uuid).executeTakeFirst();
      if (deleted.numDeletedRows === 0n) return null;
      const removal = await removeUserSessions(db, uuid, this.rowLocks);
      await this.dialect.notifyRevoked(db, removal.tokenHashes);
      await this.emit(db, [
        ...removal.sessions.map(sessionDeleted),
        ...refreshTokens.map((row) => refreshTokenDeleted(refreshTokenFromRow(row))),
      ]);
      return removal;
    });
  }

  // ---- policies

  async upsertPolicy(p: Policy): Promise<Policy> {
    const row = await this.db.insertInto('policies').values(policyToRow(p))
      .onConflict((oc) => oc.columns(['tenant_uuid', 'slug']).doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        description: eb.ref('excluded.description'),
        acl: eb.ref('excluded.acl'),
        shared: eb.ref('excluded.shared'),
        read_only: eb.ref('excluded.read_only'),
      })))
      .returningAll()
      .executeTakeFirstOrThrow();
    return policyFromRow(row);
  }

  async getPolicyBySlug(tenantUuid: string, slug: string): Promise<Policy | null> {
    const row = await this.db.selectFrom('policies').selectAll()
      .where('tenant_uuid', '=', tenantUuid).where('slug', '=', slug).executeTakeFirst();
    return row ? policyFromRow(row) : null;
  }

  async addUserPolicy(userUuid: string, policyUuid: string): Promise<void> {
    await this.db.insertInto('user_policy')
      .values({ user_uuid: userUuid, policy_uuid: policyUuid })
      .onConflict((oc) => oc.columns(['user_uuid', 'policy_uuid']).doNothing())
      .execute();
  }

  async listUserPolicies(userUuid: string): Promise<Policy[]> {
    const rows = await this.db.selectFrom('policies')
      .innerJoin('user_policy', 'user_policy.policy_uuid', 'policies.uuid')
      .selectAll('policies')
      .where('user_policy.user_uuid', '=', userUuid)
      .orderBy('policies.name').orderBy('policies.uuid')
      .execute();
    return rows.map(policyFromRow);
  }

  async createPolicy(p: Policy): Promise<Policy> {
    const row = await this.db.insertInto('policies').values(policyToRow(p)).returningAll().executeTakeFirstOrThrow();
    return policyFromRow(row);
  }

  async getPolicy(uuid: string): Promise<Policy | null> {
    const row = await this.db.selectFrom('policies').selectAll().where('uuid', '=', uuid).executeTakeFirst();
    return row ? policyFromRow(row) : null;
  }

  async listPolicies(f: PolicyFilter, q: ListQuery): Promise<ListResult<Policy>> {
    const shared = f.sharedTenantUuids ?? [];
    if (f.tenantUuids.length === 0 && shared.length === 0) return { total: 0, filtered: 0, items: [] };
    let scoped = this.db.selectFrom('policies').where(({ or, and, eb }) => {
      const visible = [];
      if (f.tenantUuids.length > 0) visible.push(eb('policies.tenant_uuid', 'in', f.tenantUuids));
      if (shared.length > 0) {
        visible.push(and([eb('policies.tenant_uuid', 'in', shared), eb('policies.shared', '=', toDbBool(true))]));
      }
      return or(visible);
    });
    if (f.userUuid !== undefined) {
      scoped = scoped.where('policies.uuid', 'in',
        this.db.selectFrom('user_policy').select('policy_uuid').where('user_uuid', '=', f.userUuid));
    }
    if (f.groupUuid !== undefined) {
      scoped = scoped.where('policies.uuid', 'in',
        this.db.selectFrom('group_policy').select('policy_uuid').where('group_uuid', '=', f.groupUuid));
    }
    return listPage(scoped, policySearchColumns, policyOrders, policyOrders.name, 'policies.uuid', q, policyFromRow);
  }

  async updatePolicy(uuid: string, patch: PolicyPatch): Promise<Policy | null> {
    const changes: Updateable<PoliciesTable> = {};
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.slug !== undefined) changes.slug = patch.slug;
    if (patch.description !== undefined) changes.description = patch.description;
    if (patch.acl !== undefined) changes.acl = JSON.stringify(patch.acl);
    if (patch.shared !== undefined) changes.shared = toDbBool(patch.shared);
    if (Object.keys(changes).length === 0) return this.getPolicy(uuid);
    const row = await this.db.updateTable('policies').set(changes).where('uuid', '=', uuid)
      .returningAll().executeTakeFirst();
    return row ? policyFromRow(row) : null;
  }

  async deletePolicy(uuid: string): Promise<boolean> {
    const result = await this.db.deleteFrom('policies').where('uuid', '=', uuid).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async removeUserPolicy(userUuid: string, policyUuid: string): Promise<boolean> {
    const result = await this.db.deleteFrom('user_policy')
      .where('user_uuid', '=', userUuid).where('policy_uuid', '=', policyUuid).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listGrantedPolicies(userUuid: string): Promise<Policy[]> {
    const rows = await this.db.selectFrom('policies').selectAll()
      .where(({ or, eb, selectFrom }) => or([
        eb('uuid', 'in', selectFrom('user_policy').select('policy_uuid').where('user_uuid', '=', userUuid)),
        eb('uuid', 'in', selectFrom('group_policy')
          .innerJoin('group_users', 'group_users.group_uuid', 'group_policy.group_uuid')
          .select('group_policy.policy_uuid')
          .where('group_users.user_uuid', '=', userUuid)),
      ]))
      .orderBy('name').orderBy('uuid')
      .execute();
    return rows.map(policyFromRow);
  }

  // ---- groups

  async createGroup(g: Group): Promise<Group> {
    await this.db.insertInto('groups').values(groupToRow(g)).execute();
    return { ...g };
  }

  async getGroup(uuid: string): Promise<Group | null> {
    const row = await this.db.selectFrom('groups').selectAll().where('uuid', '=', uuid).executeTakeFirst();
    return row ? groupFromRow(row) : null;
  }

  async getAllUsersGroup(tenantUuid: string): Promise<Group | null> {
    const row = await this.db.selectFrom('groups').selectAll()
      .where('tenant_uuid', '=', tenantUuid).where('system_managed', '=', toDbBool(true)).executeTakeFirst();
    return row ? groupFromRow(row) : null;
  }

  async listGroups(f: GroupFilter, q: ListQuery): Promise<ListResult<Group>> {
    if (f.tenantUuids.length === 0) return { total: 0, filtered: 0, items: [] };
    let scoped = this.db.selectFrom('groups').where('groups.tenant_uuid', 'in', f.tenantUuids);
    if (f.userUuid !== undefined) {
      scoped = scoped.where('groups.uuid', 'in',
        this.db.selectFrom('group_users').select('group_uuid').where('user_uuid', '=', f.userUuid));
    }
    return listPage(scoped, groupSearchColumns, groupOrders, groupOrders.name, 'groups.uuid', q, groupFromRow);
  }

  async updateGroup(uuid: string, patch: GroupPatch): Promise<Group | null> {
    const changes: Updateable<GroupsTable> = {};
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.slug !== undefined) changes.slug = patch.slug;
    if (Object.keys(changes).length === 0) return this.getGroup(uuid);
    const row = await this.db.updateTable('groups').set(changes).where('uuid', '=', uuid)
      .returningAll().executeTakeFirst();
    return row ? groupFromRow(row) : null;
  }

  async deleteGroup(uuid: string): Promise<boolean> {
    const result = await this.db.deleteFrom('groups').where('uuid', '=', uuid).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async addGroupUser(groupUuid: string, userUuid: string): Promise<void> {
    await this.db.insertInto('group_users').values({ group_uuid: groupUuid, user_uuid: userUuid })
      .onConflict((oc) => oc.columns(['group_uuid', 'user_uuid']).doNothing()).execute();
  }

  async removeGroupUser(groupUuid: string, userUuid: string): Promise<boolean> {
    const result = await this.db.deleteFrom('group_users')
      .where('group_uuid', '=', groupUuid).where('user_uuid', '=', userUuid).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async addGroupPolicy(groupUuid: string, policyUuid: string): Promise<void> {
    await this.db.insertInto('group_policy').values({ group_uuid: groupUuid, policy_uuid: policyUuid })
      .onConflict((oc) => oc.columns(['group_uuid', 'policy_uuid']).doNothing()).execute();
  }

  async removeGroupPolicy(groupUuid: string, policyUuid: string): Promise<boolean> {
    const result = await this.db.deleteFrom('group_policy')
      .where('group_uuid', '=', groupUuid).where('policy_uuid', '=', policyUuid).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async ensureAllUsersGroups(newUuid: () => string, nameOf: (tenantUuid: string) => string): Promise<Group[]> {
    return this.atomic(async (db) => {
      const lacking = await db.selectFrom('tenants').select('uuid')
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('groups').select(sql.lit(1).as('one'))
          .whereRef('groups.tenant_uuid', '=', 'tenants.uuid')
          .where('groups.system_managed', '=', toDbBool(true)))))
        .orderBy('uuid').execute();
      const created: Group[] = [];
      for (const { uuid } of lacking) {
        const group: Group = { uuid: newUuid(), tenantUuid: uuid, name: nameOf(uuid), slug: ALL_USERS_SLUG, systemManaged: true };
        await db.insertInto('groups').values(groupToRow(group)).execute();
        created.push(group);
      }
      // Users created before their tenant had the group (or before version 2).
      await db.insertInto('group_users').columns(['group_uuid', 'user_uuid'])
        .expression(db.selectFrom('users')
          .innerJoin('groups', (join) => join.onRef('groups.tenant_uuid', '=', 'users.tenant_uuid')
            .on('groups.system_managed', '=', toDbBool(true)))
          .select(['groups.uuid as group_uuid', 'users.uuid as user_uuid'])
          .where(({ not, exists, selectFrom }) => not(exists(selectFrom('group_users as gu').select(sql.lit(1).as('one'))
            .whereRef('gu.group_uuid', '=', 'groups.uuid')
            .whereRef('gu.user_uuid', '=', 'users.uuid')))))
        .execute();
      return created;
    });
  }

  // ---- sessions and tokens

  async createSession(s: Session): Promise<void> {
    await this.atomicIfRecording(async (db) => {
      await db.insertInto('sessions').values(sessionToRow(s)).execute();
      await this.emit(db, [sessionCreated(s)]);
    });
  }

  async getSession(uuid: string): Promise<Session | null> {
    const row = await this.db.selectFrom('sessions').selectAll().where('uuid', '=', uuid).executeTakeFirst();
    return row ? sessionFromRow(row) : null;
  }

  async listSessions(f: SessionFilter, q: ListQuery): Promise<ListResult<Session>> {
    if (f.tenantUuids.length === 0) return { total: 0, filtered: 0, items: [] };
    let scoped = this.db.selectFrom('sessions').where('sessions.tenant_uuid', 'in', f.tenantUuids);
    if (f.userUuid !== undefined) scoped = scoped.where('sessions.user_uuid', '=', f.userUuid);
    return listPage(scoped, sessionSearchColumns, sessionOrders, sessionOrders.uuid, 'sessions.uuid', q, sessionFromRow);
  }

  async deleteSession(uuid: string): Promise<Removal | null> {
    return this.atomic(async (db) => {
      const tokens = await db.deleteFrom('tokens').where('session_uuid', '=', uuid).returning('hash').execute();
      const row = await db.deleteFrom('sessions').where('uuid', '=', uuid).returningAll().executeTakeFirst();
      if (!row) return null;
      const tokenHashes = tokens.map((t) => t.hash);
      await this.dialect.notifyRevoked(db, tokenHashes);
      const removal = { tokenHashes, sessions: [sessionFromRow(row)] };
      await this.emitRemoval(db, removal);
      return removal;
    });
  }

  async insertToken(t: TokenRecord): Promise<void> {
    await this.db.insertInto('tokens').values(tokenToRow(t)).execute();
  }

  async settleLogin(s: LoginSettlement): Promise<void> {
    // Errors are mapped by whoever runs the transaction.
    const security = securityVerbs(this.db, (err) => err);
    if (s.clearKeys.length > 0) await security.clearLoginFailures(s.clearKeys);
    if (s.mark !== null) await security.touchLoginMark(s.mark.key, s.mark.at);
    if (s.audit !== null) {
      await security.insertAuditRecord(s.audit);
      await this.emit(this.db, [auditRecorded(s.audit)]);
    }
  }

  async countLiveSessions(userUuid: string, now: number, atMost?: number): Promise<number> {
    // A token belongs to its session's user: tokens_user_uuid_expires_at_idx
    // answers this without reading a row (migration 7).
    let live = this.db.selectFrom('tokens')
      .select('session_uuid')
      .distinct()
      .where('user_uuid', '=', userUuid)
      .where('expires_at', '>', now);
    if (atMost !== undefined) live = live.limit(atMost);
    const row = await this.db.selectFrom(live.as('live'))
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | null> {
    const row = await this.db.selectFrom('tokens').selectAll()
      .where('hash', '=', hash).executeTakeFirst();
    return row ? tokenFromRow(row) : null;
  }

  async deleteToken(hash: string): Promise<Removal | null> {
    return this.atomic(async (db) => {
      const deleted = await db.deleteFrom('tokens').where('hash', '=', hash)
        .returning('session_uuid').executeTakeFirst();
      if (!deleted) return null;
      const sessions = await deleteEmptySessions(db, [deleted.session_uuid], this.rowLocks);
      await this.dialect.notifyRevoked(db, [hash]);
      const removal = { tokenHashes: [hash], sessions };
      await this.emitRemoval(db, removal);
      return removal;
    });
  }

  async deleteUserSessions(userUuid: string): Promise<Removal> {
    return this.atomic(async (db) => {
      const removal = await removeUserSessions(db, userUuid, this.rowLocks);
      await this.dialect.notifyRevoked(db, removal.tokenHashes);
      await this.emitRemoval(db, removal);
      return removal;
    });
  }

  async deleteTokensOfRefreshToken(refreshTokenUuid: string): Promise<Removal> {
    return this.atomic(async (db) => {
      const deleted = await db.deleteFrom('tokens').where('refresh_token_uuid', '=', refreshTokenUuid)
        .returning(['hash', 'session_uuid']).execute();
      const removal = {
        tokenHashes: deleted.map((t) => t.hash),
        sessions: await deleteEmptySessions(db, [...new Set(deleted.map((t) => t.session_uuid))], this.rowLocks),
      };
      await this.dialect.notifyRevoked(db, removal.tokenHashes);
      await this.emitRemoval(db, removal);
      return removal;
    });
  }

  async deleteRefreshTokenByHash(hash: string): Promise<RefreshToken | null> {
    return this.atomicIfRecording(async (db) => {
      const row = await db.deleteFrom('refresh_tokens').where('hash', '=', hash).returningAll().executeTakeFirst();
      if (!row) return null;
      const deleted = refreshTokenFromRow(row);
      await this.emit(db, [refreshTokenDeleted(deleted)]);
      return deleted;
    });
  }

  async deleteExpired(now: number, limit: number, from?: number): Promise<ExpiredRemoval> {
    if (limit <= 0) return { tokenHashes: [], sessions: [] };
    return this.atomic(async (db) => {
      let batch = db.selectFrom('tokens').select('hash')
        .where('expires_at', '<=', now).orderBy('expires_at').limit(limit);
      // The index scan starts where the previous batch ended, not at the dead
      // entries of the rows already deleted (types.ts, deleteExpired).
      if (from !== undefined) batch = batch.where('expires_at', '>=', from);
      // Two reapers on two instances take disjoint batches instead of
      // queueing on (and redoing) the same rows.
      if (this.rowLocks) batch = batch.forUpdate().skipLocked();
      const deleted = await db.deleteFrom('tokens').where('hash', 'in', batch)
        .returning(['hash', 'session_uuid', 'expires_at']).execute();
      const touched = [...new Set(deleted.map((t) => t.session_uuid))];
      const removal: ExpiredRemoval = {
        tokenHashes: deleted.map((t) => t.hash),
        sessions: await deleteEmptySessions(db, touched, this.rowLocks),
      };
      for (const t of deleted) {
        const expiresAt = Number(t.expires_at);
        if (removal.lastExpiresAt === undefined || expiresAt > removal.lastExpiresAt) removal.lastExpiresAt = expiresAt;
      }
      await this.emitRemoval(db, removal);
      return removal;
    });
  }

  // ---- refresh tokens

  async replaceRefreshToken(rt: RefreshToken): Promise<RefreshToken | null> {
    return this.atomic(async (db) => {
      const old = await db.deleteFrom('refresh_tokens')
        .where('user_uuid', '=', rt.userUuid).where('client_id', '=', rt.clientId)
        .returningAll().executeTakeFirst();
      await db.insertInto('refresh_tokens').values(refreshTokenToRow(rt)).execute();
      const replaced = old ? refreshTokenFromRow(old) : null;
      await this.emit(db, replaced === null ? [refreshTokenCreated(rt)] : [refreshTokenDeleted(replaced), refreshTokenCreated(rt)]);
      return replaced;
    });
  }

  async findRefreshTokenByHash(hash: string): Promise<RefreshToken | null> {
    const row = await this.db.selectFrom('refresh_tokens').selectAll()
      .where('hash', '=', hash).executeTakeFirst();
    return row ? refreshTokenFromRow(row) : null;
  }

  async listRefreshTokens(f: RefreshTokenFilter): Promise<ListResult<RefreshToken>> {
    if (f.tenantUuids !== undefined && f.tenantUuids.length === 0) {
      return { total: 0, filtered: 0, items: [] };
    }
    let selected = this.db.selectFrom('refresh_tokens');
    if (f.userUuid !== undefined) selected = selected.where('refresh_tokens.user_uuid', '=', f.userUuid);
    if (f.tenantUuids !== undefined) {
      selected = selected.where('refresh_tokens.tenant_uuid', 'in', f.tenantUuids);
    }
    const matching = f.search
      ? selected.where(containsAny(['client_id'], f.search))
      : selected;
    const order = refreshTokenOrders[f.order ?? ''] ?? refreshTokenOrders.created_at;

    const total = await countRows(selected);
    const filtered = f.search ? await countRows(matching) : total;
    const rows = await paged(matching.selectAll(), order, 'refresh_tokens.uuid', f).execute();
    return { total, filtered, items: rows.map(refreshTokenFromRow) };
  }

  async deleteRefreshToken(userUuid: string, clientId: string): Promise<RefreshToken | null> {
    return this.atomicIfRecording(async (db) => {
      const row = await db.deleteFrom('refresh_tokens')
        .where('user_uuid', '=', userUuid).where('client_id', '=', clientId)
        .returningAll().executeTakeFirst();
      if (!row) return null;
      const deleted = refreshTokenFromRow(row);
      await this.emit(db, [refreshTokenDeleted(deleted)]);
      return deleted;
    });
  }

  /** See Store.noteExpiringSoon; runs in the caller's transaction. */
  async noteExpiringSoon(now: number, until: number, limit: number): Promise<number> {
    const db = this.db;
    // The cursor: every token up to (expires_at, hash) was seen. Created at the
    // first scan from `now`: tokens already near expiry then are not announced.
    await db.insertInto('event_cursors').values({ name: EXPIRE_SOON_CURSOR, expires_at: now, hash: '' })
      .onConflict((oc) => oc.column('name').doNothing()).execute();
    let read = db.selectFrom('event_cursors').selectAll().where('name', '=', EXPIRE_SOON_CURSOR);
    // One instance scans a window at a time; the others wait, then continue after it.
    if (this.rowLocks) read = read.forUpdate();
    const cursor = await read.executeTakeFirstOrThrow();
    const from = Number(cursor.expires_at);
    if (from > until) return 0;
    const rows = await db.selectFrom('tokens')
      .innerJoin('sessions', 'sessions.uuid', 'tokens.session_uuid')
      .select(['tokens.hash', 'tokens.expires_at', 'sessions.uuid', 'sessions.tenant_uuid', 'sessions.user_uuid'])
      .where(({ or, and, eb }) => or([
        eb('tokens.expires_at', '>', from),
        and([eb('tokens.expires_at', '=', from), eb('tokens.hash', '>', cursor.hash)]),
      ]))
      .where('tokens.expires_at', '<=', until)
      .orderBy('tokens.expires_at').orderBy('tokens.hash')
      .limit(limit)
      .execute();
    const sessions = new Map<string, { uuid: string; tenantUuid: string; userUuid: string | null }>();
    for (const r of rows) sessions.set(r.uuid, { uuid: r.uuid, tenantUuid: r.tenant_uuid, userUuid: r.user_uuid });
    await this.emit(db, [...sessions.values()].map(sessionExpireSoon));
    // A full batch stops at its last token; a short one finished the window:
    // "everything up to `until` included", i.e. (until + 1 ms, '').
    const last = rows.length === limit ? rows[rows.length - 1] : null;
    await db.updateTable('event_cursors')
      .set(last === null ? { expires_at: until + 1, hash: '' } : { expires_at: Number(last.expires_at), hash: last.hash })
      .where('name', '=', EXPIRE_SOON_CURSOR).execute();
    return rows.length;
  }

  // ---- LDAP configuration (issue 6)

  async getLdapConfig(tenantUuid: string): Promise<LdapConfig | null> {
    const row = await this.db.selectFrom('ldap_configs').selectAll()
      .where('tenant_uuid', '=', tenantUuid).executeTakeFirst();
    return row ? ldapConfigFromRow(row) : null;
  }

  async putLdapConfig(c: LdapConfig): Promise<LdapConfig> {
    const row = ldapConfigToRow(c);
    const { tenant_uuid: _key, ...changes } = row;
    const stored = await this.db.insertInto('ldap_configs').values(row)
      .onConflict((oc) => oc.column('tenant_uuid').doUpdateSet(changes))
      .returningAll().executeTakeFirstOrThrow();
    return ldapConfigFromRow(stored);
  }

  async deleteLdapConfig(tenantUuid: string): Promise<boolean> {
    const result = await this.db.deleteFrom('ldap_configs').where('tenant_uuid', '=', tenantUuid).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async findTenantByDomainName(domainName: string): Promise<Tenant | null> {
    // domain_names is a JSON array: a LIKE on the quoted name narrows the
    // rows on both engines, the exact (case-insensitive) match is made here.
    const wanted = domainName.toLowerCase();
    const pattern = `%"${wanted.replace(/[\\%_"]/g, (c) => `\\${c}`)}"%`;
    const rows = await this.db.selectFrom('tenants').selectAll()
      .where(sql<boolean>`lower(domain_names) like ${pattern} escape '\\'`)
      .orderBy('uuid').execute();
    const row = rows.find((r) => (JSON.parse(r.domain_names) as string[]).some((d) => d.toLowerCase() === wanted));
    return row ? tenantFromRow(row) : null;
  }

  async findTenantBySlug(slug: string): Promise<Tenant | null> {
    const row = await this.db.selectFrom('tenants').selectAll().where('slug', '=', slug).executeTakeFirst();
    return row ? tenantFromRow(row) : null;
  }

  async findTenantUser(tenantUuid: string, by: { email: string | null; username: string | null }): Promise<User | null> {
    // lower() on both sides: the unique indexes on lower(email_address) and lower(username).
    for (const [column, value] of [['email_address', by.email], ['username', by.username]] as const) {
      if (value === null || value === '') continue;
      const row = await this.db.selectFrom('users').selectAll()
        .where(({ eb, fn, ref }) => eb(fn('lower', [ref(column)]), '=', sql<string>`lower(${value})`))
        .where('tenant_uuid', '=', tenantUuid)
        .executeTakeFirst();
      if (row) return userFromRow(row);
    }
    return null;
  }
}

// ---- shared steps of the verbs above


/** {total, filtered, items} of a scoped query: counts, then one page. */
async function listPage<TB extends keyof DatabaseSchema, R, T>(
  scoped: SelectQueryBuilder<DatabaseSchema, TB, object>,
  searchColumns: readonly string[],
  orders: Readonly<Record<string, OrderColumn>>,
  defaultOrder: OrderColumn,
  tieBreaker: string,
  q: ListQuery,
  fromRow: (row: R) => T,
): Promise<ListResult<T>> {
  const matching = q.search ? scoped.where(containsAny(searchColumns, q.search)) : scoped;
  const order = orders[q.order ?? ''] ?? defaultOrder;
  const total = await countRows(scoped);
  const filtered = q.search ? await countRows(matching) : total;
  const rows = await paged(matching.selectAll(), order, tieBreaker, q).execute();
  return { total, filtered, items: (rows as unknown as R[]).map(fromRow) };
}

async function countRows<TB extends keyof DatabaseSchema>(
  query: SelectQueryBuilder<DatabaseSchema, TB, object>,
): Promise<number> {
  const row = await query.select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

function paged<TB extends keyof DatabaseSchema, O>(
  query: SelectQueryBuilder<DatabaseSchema, TB, O>,
  order: OrderColumn,
  tieBreaker: string,
  q: ListQuery,
): SelectQueryBuilder<DatabaseSchema, TB, O> {
  const direction = q.direction === 'desc' ? 'desc' : 'asc';
  let result = query;
  for (const term of orderTerms(order, tieBreaker)) result = result.orderBy(term, direction);
  const limit = pageLimit(q.limit, q.offset);
  if (limit !== undefined) result = result.limit(limit);
  if (q.offset !== undefined && q.offset > 0) result = result.offset(q.offset);
  return result;
}

/** Every token of the user (by token or by session), and the sessions left empty. */
async function removeUserSessions(db: Db, userUuid: string, rowLocks: boolean): Promise<Removal> {
  // Two deletes rather than one with an OR: each stays an index lookup
  // (tokens by user_uuid; tokens by session_uuid of the user's sessions).
  const byUser = await db.deleteFrom('tokens').where('user_uuid', '=', userUuid)
    .returning(['hash', 'session_uuid']).execute();
  const bySession = await db.deleteFrom('tokens')
    .where('session_uuid', 'in', db.selectFrom('sessions').select('uuid').where('user_uuid', '=', userUuid))
    .returning(['hash', 'session_uuid']).execute();
  const deleted = [...byUser, ...bySession];
  // The user's sessions, and any other session that just lost its last token.
  const own = await db.selectFrom('sessions').select('uuid').where('user_uuid', '=', userUuid).execute();
  const touched = new Set([...own.map((s) => s.uuid), ...deleted.map((t) => t.session_uuid)]);
  return {
    tokenHashes: deleted.map((t) => t.hash),
    sessions: await deleteEmptySessions(db, [...touched], rowLocks),
  };
}

/**
 * Deletes those of the given sessions that hold no token any more.
 *
 * With row locks (PostgreSQL), the sessions are locked first, in a fixed
 * order: when two transactions each delete one of a session's last two tokens
 * (a revocation and the reaper, on two instances), the second to get the lock
 * sees the first one's deletion committed and removes the session, instead of
 * both seeing the other's token and leaving an empty session behind forever.
 */
async function deleteEmptySessions(db: Db, sessionUuids: string[], rowLocks: boolean): Promise<Session[]> {
  const removed: Session[] = [];
  const ordered = rowLocks ? [...sessionUuids].sort() : sessionUuids;
  for (let i = 0; i < ordered.length; i += IN_LIST_SLICE) {
    const slice = ordered.slice(i, i + IN_LIST_SLICE);
    if (rowLocks) {
      await db.selectFrom('sessions').select('uuid').where('uuid', 'in', slice)
        .orderBy('uuid').forUpdate().execute();
    }
    const rows = await db.deleteFrom('sessions')
      .where('uuid', 'in', slice)
      .where(({ not, exists, selectFrom }) => not(exists(
        selectFrom('tokens').select(sql.lit(1).as('one')).whereRef('tokens.session_uuid', '=', 'sessions.uuid'),
      )))
      .returningAll()
      .execute();
    for (const row of rows) removed.push(sessionFromRow(row));
  }
  return removed;
}
