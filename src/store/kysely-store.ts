// The one implementation of the store verbs, over Kysely, for both engines.
// Engine differences come in through StoreDialect (./store-dialect.ts).

import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Expression, ExpressionBuilder, Kysely, Selectable, SelectQueryBuilder, SqlBool, Updateable } from 'kysely';
import type {
  DatabaseSchema, GroupsTable, PoliciesTable, TenantsTable, UsersTable,
} from './database-schema.js';
import { StoreConflictError, StoreError, StoreInvalidInputError, StoreUnavailableError } from './errors.js';
import { containsAny, orderTerms, pageLimit } from './list-query.js';
import type { OrderColumn } from './list-query.js';
import {
  auditRecorded, type OutboxEvent, type PendingEvent, refreshTokenCreated, refreshTokenDeleted, sessionCreated, sessionDeleted,
  sessionExpireSoon, tenantAdded, tenantDeleted, tenantUpdated,
} from '../events/catalog.js';
import { readSchemaVersion, runMigrations } from './migrations/run-migrations.js';
import { deleteEmptySessions, deleteExpiredTokens, IN_LIST_SLICE, insertOutbox } from './expiry.js';
import { securityVerbs } from './security-verbs.js';
import { externalAuthVerbs } from './external-verbs.js';
import { mailOutboxVerbs, selfServiceTxVerbs, type SelfServiceTxVerbs } from './self-service-verbs.js';
import { mfaVerbs } from './mfa-verbs.js';
import { ssoVerbs } from './sso-verbs.js';
import {
  groupFromRow, groupToRow, policyFromRow, policyToRow, refreshTokenFromRow, refreshTokenToRow, sessionFromRow,
  EMPTY_ADDRESS, sessionToRow, tenantDetailsToRow, tenantFromRow, tenantToRow, toDbBool, tokenFromRow, tokenToRow, userFromRow,
  userToRow, sortedEmails, userEmailFromRow,
} from './row-mapping.js';
import type { StoreDialect, StoreLogger } from './store-dialect.js';
import type {
  AuditRecord, Group, GroupFilter, GroupPatch, ListQuery, ListResult, LoginSettlement, NewUser, Policy, PolicyFilter,
  PolicyLinks, PolicyPatch, RefreshToken, RefreshTokenExpiry, RefreshTokenFilter, RefreshTokenUse, RetiredRefreshToken, Removal, ExpiredRemoval, UserRevocation, Session, SessionFilter, Store, StoreTx,
  Tenant, TenantMove, TenantPatch, TokenRecord, User, UserFilter, UserPatch,
  UserEmail, UserEmailInput, UserListFilters, UserListQuery, UserSelection, SelectionGrants,
} from './types.js';
import { ALL_USERS_SLUG } from './types.js';
import type { LdapConfig } from './types.js';
import { ldapConfigFromRow, ldapConfigToRow } from './ldap-config-rows.js';

/** A Kysely instance or a transaction (Transaction extends Kysely). */
type Db = Kysely<DatabaseSchema>;
/** The verbs of StoreTx written in this file (the self-service ones are ./self-service-verbs.ts). */
type CoreStoreTx = Omit<StoreTx, keyof SelfServiceTxVerbs>;

const userOrders: Readonly<Record<string, OrderColumn>> = {
  uuid: { column: 'users.uuid', text: false },
  username: { column: 'users.username', text: true },
  firstname: { column: 'users.firstname', text: true },
  lastname: { column: 'users.lastname', text: true },
  // The main address (user_emails).
  email_address: {
    column: 'main_email',
    text: true,
    expression: sql`(select e.address from user_emails e where e.user_uuid = users.uuid and e.main = true)`,
  },
  purpose: { column: 'users.purpose', text: false },
  enabled: { column: 'users.enabled', text: false },
};
// And every address of the user (listUsers).
const userSearchColumns = ['users.username', 'users.firstname', 'users.lastname'] as const;

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

/** Name of the expire-soon scan's row in event_cursors. */
const EXPIRE_SOON_CURSOR = 'expire_soon';

/**
 * Domain names as stored: lower-cased (they are matched case-insensitively,
 * and tenant_domains allows each once), without repeats, in the given order.
 */
function normalisedDomainNames(names: readonly string[]): string[] {
  return [...new Set(names.map((n) => n.toLowerCase()))];
}

/** A domain name another tenant holds fails on tenant_domains_pkey (→ field domain_names). */
async function insertTenantDomains(db: Db, tenantUuid: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await db.insertInto('tenant_domains').values(names.map((name) => ({ name, tenant_uuid: tenantUuid }))).execute();
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
    // external accounts (issue 22): ./external-verbs.ts; their events commit with them.
    ...externalAuthVerbs(db, { recordEvents: options.recordEvents, writeEvents: insertOutbox, committed: notifyCommitted, mapError }),
    // self-service accounts (issue 21): ./self-service-verbs.ts; emailed tokens and mails commit with their change.
    ...selfServiceTxVerbs(db, mapError),
    ...mailOutboxVerbs(db, { rowLocks: dialect.rowLocks, mapError }),
    // multi-factor authentication (issue 24): ./mfa-verbs.ts; their events commit with them.
    ...mfaVerbs(db, { recordEvents: options.recordEvents, writeEvents: insertOutbox, committed: notifyCommitted, mapError }),
    // single sign-on (issue 23): ./sso-verbs.ts.
    ...ssoVerbs(db, mapError),
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
          return fn({ ...withMappedErrors(inner, mapError), ...selfServiceTxVerbs(trx) });
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

    async schemaVersion() {
      try {
        return await readSchemaVersion(dialect);
      } catch (err) {
        throw mapError(err);
      }
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
  listTenantSubtree: true, listTenants: true, updateTenant: true, moveTenant: true, hasChildTenants: true,
  deleteTenant: true,
  createPolicy: true, getPolicy: true, listPolicies: true, updatePolicy: true, deletePolicy: true,
  removeUserPolicy: true, listGrantedPolicies: true, listPoliciesGrantedToUsers: true, listGroupPolicies: true, listForeignPolicyLinks: true,
  createGroup: true, getGroup: true, getAllUsersGroup: true, listGroups: true, updateGroup: true,
  deleteGroup: true, addGroupUser: true, removeGroupUser: true, addGroupPolicy: true,
  removeGroupPolicy: true, ensureAllUsersGroups: true,
  getSession: true, listSessions: true, deleteSession: true,
  createUser: true, getUser: true, findUserByLogin: true, listUsers: true, updateUser: true, replaceUserEmails: true,
  setUserPassword: true, replacePasswordHash: true, deleteUser: true,
  upsertPolicy: true, getPolicyBySlug: true, addUserPolicy: true, listUserPolicies: true,
  createSession: true, insertToken: true, settleLogin: true, countLiveSessions: true, findTokenByHash: true,
  deleteToken: true, deleteUserSessions: true, deleteExpired: true, deleteTokensOfRefreshToken: true,
  deleteRefreshTokenByHash: true,
  replaceRefreshToken: true, findRefreshTokenByHash: true, listRefreshTokens: true,
  deleteRefreshToken: true, deleteMobileRefreshTokens: true,
  useRefreshToken: true, findRetiredRefreshToken: true, revokeRefreshTokenFamily: true, deleteExpiredRefreshTokens: true,
  // LDAP configuration (issue 6)
  getLdapConfig: true, putLdapConfig: true, deleteLdapConfig: true, findTenantByDomainName: true,
  findTenantBySlug: true, findTenantUser: true,
} satisfies Record<keyof CoreStoreTx, true>;

/**
 * The verbs of `target`, each turning driver errors into typed store errors;
 * `succeeded` runs after each verb that completed (outside a transaction:
 * committed).
 */
function withMappedErrors(target: CoreStoreTx, mapError: (err: unknown) => unknown, succeeded?: () => void): CoreStoreTx {
  const guarded: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of Object.keys(storeTxVerbs) as (keyof CoreStoreTx)[]) {
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
  return guarded as unknown as CoreStoreTx;
}

class KyselyVerbs implements CoreStoreTx {
  /** SELECT … FOR UPDATE SKIP LOCKED is available. */
  private readonly rowLocks: boolean;
  /** Set when these verbs wrote events; cleared by whoever wakes the relay after commit. */
  wroteEvents = false;

  constructor(
    private readonly db: Db,
    private readonly dialect: Pick<StoreDialect, 'rowLocks' | 'notifyRevoked' | 'notifyTenantsChanged' | 'lockLogins'>,
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
    const domainNames = normalisedDomainNames(t.domainNames ?? []);
    const created: Tenant = {
      ...t,
      domainNames,
      contactUuid: t.contactUuid ?? null,
      phone: t.phone ?? null,
      address: { ...(t.address ?? EMPTY_ADDRESS) },
      defaultAuthenticationMethod: t.defaultAuthenticationMethod ?? 'native',
    };
    const run = async (db: Db) => {
      await db.insertInto('tenants').values(tenantToRow(created)).execute();
      await insertTenantDomains(db, created.uuid, domainNames);
      // Every instance forgets what it may remember of this uuid (tenant-tree.ts).
      if (created.parentUuid !== null) await this.dialect.notifyTenantsChanged(db, [created.uuid]);
      await this.emit(db, [tenantAdded(created)]);
      return created;
    };
    return domainNames.length > 0 || created.parentUuid !== null ? this.atomic(run) : this.atomicIfRecording(run);
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
    Object.assign(changes, tenantDetailsToRow(patch));
    const domainNames = patch.domainNames === undefined ? undefined : normalisedDomainNames(patch.domainNames);
    if (domainNames !== undefined) changes.domain_names = JSON.stringify(domainNames);
    if (Object.keys(changes).length === 0) return this.getTenant(uuid);
    const run = async (db: Db) => {
      const row = await db.updateTable('tenants').set(changes).where('uuid', '=', uuid)
        .returningAll().executeTakeFirst();
      if (!row) return null;
      if (domainNames !== undefined) {
        await db.deleteFrom('tenant_domains').where('tenant_uuid', '=', uuid).execute();
        await insertTenantDomains(db, uuid, domainNames);
      }
      const updated = tenantFromRow(row);
      await this.emit(db, [tenantUpdated(updated)]);
      return updated;
    };
    return domainNames !== undefined ? this.atomic(run) : this.atomicIfRecording(run);
  }

  async moveTenant(uuid: string, parentUuid: string): Promise<TenantMove> {
    return this.atomic(async (db) => {
      // One move at a time (SQLite: BEGIN IMMEDIATE already serialises
      // writers): two moves that each keep the tree a tree could together
      // make a cycle. The lock also holds off tenant writes for the move.
      if (this.rowLocks) await sql`lock table tenants in share row exclusive mode`.execute(db);
      const tenant = await db.selectFrom('tenants').selectAll().where('uuid', '=', uuid).executeTakeFirst();
      if (tenant === undefined) return { outcome: 'unknown' };
      const above = await ancestorsOf(db, parentUuid);
      if (above.length === 0) return { outcome: 'unknown' };
      if (above.includes(uuid)) return { outcome: 'cycle' };
      const height = await sql<{ height: number | string | null }>`
        with recursive subtree (uuid, depth) as (
          select uuid, 0 from tenants where uuid = ${uuid}
          union all
          select t.uuid, s.depth + 1 from tenants t join subtree s on t.parent_uuid = s.uuid
          where s.depth < ${MAX_TENANT_DEPTH}
        )
        select max(depth) as height from subtree`.execute(db);
      // above: the new parent and its ancestors, so the tenant's new depth.
      if (above.length + Number(height.rows[0]?.height ?? 0) >= MAX_TENANT_DEPTH) return { outcome: 'too-deep' };
      // Policies of the tenants the subtree leaves: its links to them would
      // keep granting them from outside their owner's subtree.
      const before = tenant.parent_uuid === null ? [] : await ancestorsOf(db, tenant.parent_uuid);
      const left = before.filter((t) => !above.includes(t));
      if (left.length > 0) {
        const found = await policyLinksLeaving(db, uuid, left);
        if (found.links.users.length > 0 || found.links.groups.length > 0) return { outcome: 'linked', ...found };
      }
      const row = await db.updateTable('tenants').set({ parent_uuid: parentUuid }).where('uuid', '=', uuid)
        .returningAll().executeTakeFirstOrThrow();
      const moved = tenantFromRow(row);
      // Every instance forgets the tenant's remembered parent (tenant-tree.ts).
      await this.dialect.notifyTenantsChanged(db, [uuid]);
      await this.emit(db, [tenantUpdated(moved)]);
      return { outcome: 'moved', tenant: moved };
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
      await this.dialect.notifyTenantsChanged(db, [uuid]);
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
    const emails = newUserEmails(u);
    const authenticationMethod = u.authenticationMethod ?? defaultAuthenticationMethod(u.purpose);
    return this.atomic(async (db) => {
      await this.assertLoginsFree(db, u.uuid, { username: u.username, addresses: emails.map((e) => e.address) });
      await db.insertInto('users').values(userToRow(u, authenticationMethod)).execute();
      if (emails.length > 0) {
        await db.insertInto('user_emails').values(emails.map((e) => userEmailToRow(u.uuid, e))).execute();
      }
      await db.insertInto('group_users').columns(['group_uuid', 'user_uuid'])
        .expression(db.selectFrom('groups')
          .select((eb) => ['groups.uuid as group_uuid', eb.val(u.uuid).as('user_uuid')])
          .where('tenant_uuid', '=', u.tenantUuid).where('system_managed', '=', toDbBool(true)))
        .execute();
      const main = emails.find((e) => e.main) ?? null;
      return {
        uuid: u.uuid,
        tenantUuid: u.tenantUuid,
        username: u.username,
        firstname: u.firstname,
        lastname: u.lastname,
        emailAddress: main?.address ?? null,
        emailConfirmed: main?.confirmed ?? false,
        emails: sortedEmails(emails),
        authenticationMethod,
        passwordHash: u.passwordHash,
        purpose: u.purpose,
        enabled: u.enabled,
        createdAt: u.createdAt,
      };
    });
  }

  async getUser(uuid: string): Promise<User | null> {
    const row = await this.db.selectFrom('users').selectAll()
      .where('uuid', '=', uuid).executeTakeFirst();
    return row ? (await withEmails(this.db, [row]))[0] : null;
  }

  async findUserByLogin(login: string): Promise<User | null> {
    // lower() on both sides matches the unique indexes on lower(username) and
    // lower(user_emails.address), so both lookups are index seeks. SQLite's
    // lower() folds ASCII only: "É" and "é" are different logins there.
    const lowered = sql<string>`lower(${login})`;
    const byUsername = this.db.selectFrom('users').select('users.uuid as uuid')
      .where(({ eb, fn, ref }) => eb(fn('lower', [ref('users.username')]), '=', lowered));
    const byEmail = this.db.selectFrom('user_emails').select('user_emails.user_uuid as uuid')
      .where(({ eb, fn, ref }) => eb(fn('lower', [ref('user_emails.address')]), '=', lowered))
      .where('user_emails.confirmed', '=', toDbBool(true));
    const rows = await this.db.selectFrom('users').selectAll()
      .where('users.uuid', 'in', byUsername.union(byEmail))
      .limit(2)
      .execute();
    // Writes refuse a username equal to another user's email (and the
    // reverse); a pair stored before that rule matches two users here, and
    // the login is refused for both until an operator changes one
    // (migrations/unique-logins.ts, docs/isolation.md).
    return rows.length === 1 ? (await withEmails(this.db, rows))[0] : null;
  }

  async listUsers(tenantUuids: string[], q: UserListQuery, f: UserFilter = {}): Promise<ListResult<User>> {
    if (tenantUuids.length === 0) return { total: 0, filtered: 0, items: [] };
    const db = this.db;
    let inTenants = db.selectFrom('users').where('users.tenant_uuid', 'in', tenantUuids);
    if (f.groupUuid !== undefined) {
      inTenants = inTenants.where('users.uuid', 'in',
        db.selectFrom('group_users').select('user_uuid').where('group_uuid', '=', f.groupUuid));
    }
    const search = q.search;
    let matching = search
      ? inTenants.where(({ or, eb }) => or([
        containsAny(userSearchColumns, search),
        // Any of the user's addresses, as wazo-auth searches them.
        eb('users.uuid', 'in', db.selectFrom('user_emails').select('user_emails.user_uuid')
          .where(containsAny(['user_emails.address'], search))),
      ]))
      : inTenants;
    const filters = userListConditions(db, q.filters ?? {});
    for (const condition of filters) matching = matching.where(condition);
    const order = userOrders[q.order ?? ''] ?? userOrders.username;

    const total = await countRows(inTenants);
    const filtered = search || filters.length > 0 ? await countRows(matching) : total;
    const rows = await paged(matching.selectAll('users'), order, 'users.uuid', q).execute();
    return { total, filtered, items: await withEmails(db, rows) };
  }

  async updateUser(uuid: string, patch: UserPatch): Promise<User | null> {
    const changes: Updateable<UsersTable> = {};
    if (patch.username !== undefined) changes.username = patch.username;
    if (patch.firstname !== undefined) changes.firstname = patch.firstname;
    if (patch.lastname !== undefined) changes.lastname = patch.lastname;
    if (patch.purpose !== undefined) changes.purpose = patch.purpose;
    if (patch.enabled !== undefined) changes.enabled = toDbBool(patch.enabled);
    if (patch.authenticationMethod !== undefined) changes.authentication_method = patch.authenticationMethod;
    const emailsChange = patch.emailAddress !== undefined || patch.emailConfirmed !== undefined;
    if (Object.keys(changes).length === 0 && !emailsChange) return this.getUser(uuid);

    if (patch.username === undefined && !emailsChange) {
      const row = await this.db.updateTable('users').set(changes).where('uuid', '=', uuid)
        .returningAll().executeTakeFirst();
      return row ? (await withEmails(this.db, [row]))[0] : null;
    }
    return this.atomic(async (db) => {
      const before = await db.selectFrom('users').select(['username']).where('uuid', '=', uuid).executeTakeFirst();
      if (before === undefined) return null;
      const stored = await emailsOfUser(db, uuid);
      const desired = emailsChange ? withMainAddress(stored, patch.emailAddress, patch.emailConfirmed) : stored;
      // Only a login that changes is checked: one stored before the rule
      // (see migrations/unique-logins.ts) does not block other edits.
      const username = patch.username !== undefined && patch.username !== null
        && patch.username.toLowerCase() !== before.username?.toLowerCase() ? patch.username : null;
      await this.assertLoginsFree(db, uuid, { username, addresses: addedAddresses(stored, desired) });
      if (Object.keys(changes).length > 0) await db.updateTable('users').set(changes).where('uuid', '=', uuid).execute();
      await writeEmails(db, uuid, stored, desired);
      const row = await db.selectFrom('users').selectAll().where('uuid', '=', uuid).executeTakeFirstOrThrow();
      return userFromRow(row, desired);
    });
  }

  async replaceUserEmails(uuid: string, emails: UserEmailInput[]): Promise<UserEmail[] | null> {
    assertOneMain(emails);
    return this.atomic(async (db) => {
      const user = await db.selectFrom('users').select('uuid').where('uuid', '=', uuid).executeTakeFirst();
      if (user === undefined) return null;
      const stored = await emailsOfUser(db, uuid);
      const desired = emails.map((e): UserEmail => {
        const kept = stored.find((s) => s.address.toLowerCase() === e.address.toLowerCase());
        return { uuid: kept?.uuid ?? randomUUID(), address: e.address, main: e.main, confirmed: e.confirmed ?? kept?.confirmed ?? false };
      });
      await this.assertLoginsFree(db, uuid, { username: null, addresses: addedAddresses(stored, desired) });
      await writeEmails(db, uuid, stored, desired);
      return desired;
    });
  }

  /**
   * Logins are global and name one user: a username may not equal another
   * user's email address (any of them, confirmed or not), nor an email
   * address another user's username (case-insensitively, as findUserByLogin
   * matches), whatever the tenants. Same-column duplicates are the unique
   * indexes' job. Called in the writing transaction, under the dialect's
   * login lock, so two writers cannot both pass the check.
   */
  private async assertLoginsFree(db: Db, uuid: string, logins: { username: string | null; addresses: string[] }): Promise<void> {
    if (!logins.username && logins.addresses.length === 0) return;
    await this.dialect.lockLogins(db);
    if (logins.username) {
      const holder = await db.selectFrom('user_emails').select('user_uuid')
        .where(({ eb, fn, ref }) => eb(fn('lower', [ref('address')]), '=', sql<string>`lower(${logins.username})`))
        .where('user_uuid', '<>', uuid)
        .executeTakeFirst();
      if (holder !== undefined) throw new StoreConflictError('username is another user\'s email address', 'username');
    }
    for (const address of logins.addresses) {
      const holder = await db.selectFrom('users').select('uuid')
        .where(({ eb, fn, ref }) => eb(fn('lower', [ref('username')]), '=', sql<string>`lower(${address})`))
        .where('uuid', '<>', uuid)
        .executeTakeFirst();
      if (holder !== undefined) throw new StoreConflictError('email address is another user\'s username', 'email_address');
    }
  }

  async setUserPassword(uuid: string, passwordHash: string | null): Promise<boolean> {
    const result = await this.db.updateTable('users').set({ password_hash: passwordHash })
      .where('uuid', '=', uuid).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async replacePasswordHash(userUuid: string, oldHash: string, newHash: string): Promise<boolean> {
    const result = await this.db.updateTable('users').set({ password_hash: newHash })
      .where('uuid', '=', userUuid).where('password_hash', '=', oldHash).executeTakeFirst();
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

  async listPoliciesGrantedToUsers(who: UserSelection): Promise<SelectionGrants> {
    if ('userUuids' in who && who.userUuids.length === 0) return { users: 0, policies: [] };
    if ('methods' in who && who.methods.length === 0) return { users: 0, policies: [] };
    const selected = () => {
      const q = this.db.selectFrom('users').select('users.uuid');
      return 'userUuids' in who
        ? q.where('users.uuid', 'in', [...who.userUuids])
        : q.where('users.tenant_uuid', '=', who.tenantUuid).where('users.authentication_method', 'in', [...who.methods]);
    };
    const count = await this.db.selectFrom(selected().as('s')).select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .executeTakeFirstOrThrow();
    const users = Number(count.n);
    if (users === 0) return { users, policies: [] };
    const rows = await this.db.selectFrom('policies').selectAll()
      .where(({ or, eb, selectFrom }) => or([
        eb('uuid', 'in', selectFrom('user_policy').select('policy_uuid').where('user_uuid', 'in', selected())),
        eb('uuid', 'in', selectFrom('group_policy')
          .innerJoin('group_users', 'group_users.group_uuid', 'group_policy.group_uuid')
          .select('group_policy.policy_uuid')
          .where('group_users.user_uuid', 'in', selected())),
      ]))
      .orderBy('name').orderBy('uuid')
      .execute();
    return { users, policies: rows.map(policyFromRow) };
  }

  async listGroupPolicies(groupUuid: string): Promise<Policy[]> {
    const rows = await this.db.selectFrom('policies').selectAll()
      .where('uuid', 'in', this.db.selectFrom('group_policy').select('policy_uuid').where('group_uuid', '=', groupUuid))
      .orderBy('name').orderBy('uuid')
      .execute();
    return rows.map(policyFromRow);
  }

  async listForeignPolicyLinks(policyUuid: string): Promise<PolicyLinks> {
    const owner = this.db.selectFrom('policies').select('tenant_uuid').where('uuid', '=', policyUuid);
    const users = await this.db.selectFrom('user_policy')
      .innerJoin('users', 'users.uuid', 'user_policy.user_uuid')
      .select(['users.uuid as uuid', 'users.tenant_uuid as tenant_uuid'])
      .where('user_policy.policy_uuid', '=', policyUuid)
      .where('users.tenant_uuid', 'not in', owner)
      .orderBy('users.uuid')
      .execute();
    const groups = await this.db.selectFrom('group_policy')
      .innerJoin('groups', 'groups.uuid', 'group_policy.group_uuid')
      .select(['groups.uuid as uuid', 'groups.tenant_uuid as tenant_uuid'])
      .where('group_policy.policy_uuid', '=', policyUuid)
      .where('groups.tenant_uuid', 'not in', owner)
      .orderBy('groups.uuid')
      .execute();
    return {
      users: users.map((r) => ({ uuid: r.uuid, tenantUuid: r.tenant_uuid })),
      groups: groups.map((r) => ({ uuid: r.uuid, tenantUuid: r.tenant_uuid })),
    };
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

  async deleteUserSessions(userUuid: string, options: { refreshTokens?: boolean } = {}): Promise<UserRevocation> {
    return this.atomic(async (db) => {
      const removal = await removeUserSessions(db, userUuid, this.rowLocks);
      const refreshTokens = options.refreshTokens === true
        ? (await db.deleteFrom('refresh_tokens').where('user_uuid', '=', userUuid).returningAll().execute()).map(refreshTokenFromRow)
        : [];
      await this.dialect.notifyRevoked(db, removal.tokenHashes);
      await this.emitRemoval(db, removal);
      await this.emit(db, refreshTokens.map(refreshTokenDeleted));
      return { ...removal, refreshTokens };
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
      const removal = await deleteExpiredTokens(db, this.rowLocks, now, limit, from);
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

  async deleteMobileRefreshTokens(userUuid: string): Promise<UserRevocation> {
    return this.atomic(async (db) => {
      // One mobile login of a user at a time: the second waits for the first
      // to commit, then sees (and supersedes) its refresh token.
      if (this.rowLocks) await db.selectFrom('users').select('uuid').where('uuid', '=', userUuid).forUpdate().execute();
      const rows = await db.deleteFrom('refresh_tokens')
        .where('user_uuid', '=', userUuid).where('mobile', '=', toDbBool(true))
        .returningAll().execute();
      const refreshTokens = rows.map(refreshTokenFromRow);
      if (refreshTokens.length === 0) return { tokenHashes: [], sessions: [], refreshTokens };
      const deleted = await db.deleteFrom('tokens').where('refresh_token_uuid', 'in', refreshTokens.map((rt) => rt.uuid))
        .returning(['hash', 'session_uuid']).execute();
      const removal = {
        tokenHashes: deleted.map((t) => t.hash),
        sessions: await deleteEmptySessions(db, [...new Set(deleted.map((t) => t.session_uuid))], this.rowLocks),
      };
      await this.dialect.notifyRevoked(db, removal.tokenHashes);
      // As wazo-auth publishes them: each session, then the refresh token.
      await this.emitRemoval(db, removal);
      await this.emit(db, refreshTokens.map(refreshTokenDeleted));
      return { ...removal, refreshTokens };
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
    // total: the scope (tenants, user); filtered: after search and the exact filters.
    let matching = f.search
      ? selected.where(containsAny(['client_id'], f.search))
      : selected;
    if (f.clientId !== undefined) matching = matching.where('refresh_tokens.client_id', '=', f.clientId);
    if (f.mobile !== undefined) matching = matching.where('refresh_tokens.mobile', '=', toDbBool(f.mobile));
    const narrowed = Boolean(f.search) || f.clientId !== undefined || f.mobile !== undefined;
    const order = refreshTokenOrders[f.order ?? ''] ?? refreshTokenOrders.created_at;

    const total = await countRows(selected);
    const filtered = narrowed ? await countRows(matching) : total;
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

  // ---- refresh-token lifecycle (issue 19; migration 12)

  async useRefreshToken(use: RefreshTokenUse): Promise<boolean> {
    const rotateTo = use.rotateTo;
    const update = (db: Db) => db.updateTable('refresh_tokens')
      .set(rotateTo === undefined ? { last_used_at: use.at } : { last_used_at: use.at, hash: rotateTo.hash })
      .where('uuid', '=', use.uuid).where('hash', '=', use.hash)
      .returning('uuid').executeTakeFirst();
    if (rotateTo === undefined) return (await update(this.db)) !== undefined;
    return this.atomic(async (db) => {
      // Conditional on the hash: of two concurrent rotations of one token the
      // second waits for the first (the row lock; SQLite: one writer), then
      // finds the hash changed and updates nothing.
      if ((await update(db)) === undefined) return false;
      await db.insertInto('refresh_token_retired')
        .values({ hash: use.hash, family_uuid: use.uuid, retired_at: use.at }).execute();
      // The newest `keepRetired` of the family are kept (a bound per family).
      const kept = db.selectFrom('refresh_token_retired').select('hash')
        .where('family_uuid', '=', use.uuid)
        .orderBy('retired_at', 'desc').orderBy('hash').limit(rotateTo.keepRetired);
      await db.deleteFrom('refresh_token_retired')
        .where('family_uuid', '=', use.uuid).where('hash', 'not in', kept).execute();
      return true;
    });
  }

  async findRetiredRefreshToken(hash: string): Promise<RetiredRefreshToken | null> {
    const row = await this.db.selectFrom('refresh_token_retired').selectAll()
      .where('hash', '=', hash).executeTakeFirst();
    return row ? { hash: row.hash, familyUuid: row.family_uuid, retiredAt: Number(row.retired_at) } : null;
  }

  async revokeRefreshTokenFamily(familyUuid: string): Promise<UserRevocation> {
    return this.atomic(async (db) => {
      // Its retired hashes go with it (ON DELETE CASCADE); said here for a
      // family whose refresh token is already gone.
      await db.deleteFrom('refresh_token_retired').where('family_uuid', '=', familyUuid).execute();
      const refreshTokens = (await db.deleteFrom('refresh_tokens').where('uuid', '=', familyUuid)
        .returningAll().execute()).map(refreshTokenFromRow);
      // A rotation keeps the uuid: every access token of the family names it.
      const deleted = await db.deleteFrom('tokens').where('refresh_token_uuid', '=', familyUuid)
        .returning(['hash', 'session_uuid']).execute();
      const removal = {
        tokenHashes: deleted.map((t) => t.hash),
        sessions: await deleteEmptySessions(db, [...new Set(deleted.map((t) => t.session_uuid))], this.rowLocks),
      };
      await this.dialect.notifyRevoked(db, removal.tokenHashes);
      // As for a mobile login's supersession: each session, then the refresh token.
      await this.emitRemoval(db, removal);
      await this.emit(db, refreshTokens.map(refreshTokenDeleted));
      return { ...removal, refreshTokens };
    });
  }

  async deleteExpiredRefreshTokens(expiry: RefreshTokenExpiry, limit: number): Promise<RefreshToken[]> {
    const { lastUsedBefore, createdBefore } = expiry;
    if (limit <= 0 || (lastUsedBefore === null && createdBefore === null)) return [];
    return this.atomic(async (db) => {
      let batch = db.selectFrom('refresh_tokens').select('uuid')
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
      if (this.rowLocks) batch = batch.forUpdate().skipLocked();
      const rows = await db.deleteFrom('refresh_tokens').where('uuid', 'in', batch).returningAll().execute();
      const refreshTokens = rows.map(refreshTokenFromRow);
      await this.emit(db, refreshTokens.map(refreshTokenDeleted));
      return refreshTokens;
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
    // tenant_domains holds each name once, lower-cased (its primary key).
    const row = await this.db.selectFrom('tenant_domains')
      .innerJoin('tenants', 'tenants.uuid', 'tenant_domains.tenant_uuid')
      .selectAll('tenants')
      .where('tenant_domains.name', '=', domainName.toLowerCase())
      .executeTakeFirst();
    return row ? tenantFromRow(row) : null;
  }

  async findTenantBySlug(slug: string): Promise<Tenant | null> {
    const row = await this.db.selectFrom('tenants').selectAll().where('slug', '=', slug).executeTakeFirst();
    return row ? tenantFromRow(row) : null;
  }

  async findTenantUser(tenantUuid: string, by: { email: string | null; username: string | null }): Promise<User | null> {
    // lower() on both sides: the unique indexes on lower(user_emails.address) and lower(username).
    const lowerIs = (column: string, value: string) => sql<SqlBool>`lower(${sql.ref(column)}) = lower(${value})`;
    const { email, username } = by;
    if (email !== null && email !== '') {
      const row = await this.db.selectFrom('users').selectAll('users')
        .innerJoin('user_emails', 'user_emails.user_uuid', 'users.uuid')
        .where(lowerIs('user_emails.address', email))
        .where('users.tenant_uuid', '=', tenantUuid)
        .executeTakeFirst();
      if (row) return (await withEmails(this.db, [row]))[0];
    }
    if (username !== null && username !== '') {
      const row = await this.db.selectFrom('users').selectAll()
        .where(lowerIs('users.username', username))
        .where('tenant_uuid', '=', tenantUuid)
        .executeTakeFirst();
      if (row) return (await withEmails(this.db, [row]))[0];
    }
    return null;
  }
}

// ---- users' email addresses (user_emails, migrations/user-emails.ts)

/** wazo-auth's default: services log in natively, people by their tenant's method. */
function defaultAuthenticationMethod(purpose: string): string {
  return purpose === 'user' ? 'default' : 'native';
}

function assertOneMain(emails: readonly { main: boolean }[]): void {
  if (emails.length > 0 && emails.filter((e) => e.main).length !== 1) {
    throw new StoreInvalidInputError('a user with email addresses has exactly one main address');
  }
}

/** The addresses a new user is created with: `emails`, else its `emailAddress` as main. */
function newUserEmails(u: NewUser): UserEmail[] {
  if (u.emails !== undefined) {
    assertOneMain(u.emails);
    return u.emails.map((e) => ({ ...e }));
  }
  return u.emailAddress === null ? [] : [{ uuid: randomUUID(), address: u.emailAddress, main: true, confirmed: u.emailConfirmed }];
}

function userEmailToRow(userUuid: string, e: UserEmail) {
  return { uuid: e.uuid, user_uuid: userUuid, address: e.address, main: toDbBool(e.main), confirmed: toDbBool(e.confirmed) };
}

async function emailsOfUser(db: Db, userUuid: string): Promise<UserEmail[]> {
  const rows = await db.selectFrom('user_emails').selectAll().where('user_uuid', '=', userUuid).execute();
  return sortedEmails(rows.map(userEmailFromRow));
}

/** The users of these rows, each with its addresses (one query per slice of users). */
async function withEmails(db: Db, rows: Selectable<UsersTable>[]): Promise<User[]> {
  const byUser = new Map<string, UserEmail[]>();
  const uuids = rows.map((r) => r.uuid);
  for (let i = 0; i < uuids.length; i += IN_LIST_SLICE) {
    const found = await db.selectFrom('user_emails').selectAll()
      .where('user_uuid', 'in', uuids.slice(i, i + IN_LIST_SLICE)).execute();
    for (const e of found) {
      const list = byUser.get(e.user_uuid) ?? [];
      list.push(userEmailFromRow(e));
      byUser.set(e.user_uuid, list);
    }
  }
  return rows.map((r) => userFromRow(r, byUser.get(r.uuid) ?? []));
}

/**
 * The addresses after `email_address` of a user update (types.ts UserPatch):
 * `address` replaces the main one (an address the user has is promoted, with
 * its uuid), null removes it (the first remaining address becomes main).
 */
function withMainAddress(stored: UserEmail[], address: string | null | undefined, confirmed: boolean | undefined): UserEmail[] {
  const main = stored.find((e) => e.main);
  if (address === undefined) {
    return stored.map((e) => (e.main && confirmed !== undefined ? { ...e, confirmed } : e));
  }
  if (address === null) {
    const rest = stored.filter((e) => !e.main);
    return rest.map((e, i) => (i === 0 ? { ...e, main: true } : e));
  }
  const existing = stored.find((e) => e.address.toLowerCase() === address.toLowerCase());
  const others = stored.filter((e) => e !== existing && e !== main);
  const promoted: UserEmail = existing === undefined
    ? { uuid: randomUUID(), address, main: true, confirmed: confirmed ?? false }
    : { ...existing, address, main: true, confirmed: confirmed ?? existing.confirmed };
  return [promoted, ...others];
}

/** Addresses of `desired` the user did not have (case-insensitively): the logins that change. */
function addedAddresses(stored: UserEmail[], desired: UserEmail[]): string[] {
  const had = new Set(stored.map((e) => e.address.toLowerCase()));
  return desired.map((e) => e.address).filter((a) => !had.has(a.toLowerCase()));
}

/**
 * Turns the user's stored addresses into `desired` (same uuid = same row):
 * deletes the rows that go, demotes a main that stops being one before
 * another row becomes main (one main per user, user_emails_user_uuid_main_key),
 * updates the rows kept, inserts the new ones.
 */
async function writeEmails(db: Db, userUuid: string, stored: UserEmail[], desired: UserEmail[]): Promise<void> {
  const before = new Map(stored.map((e) => [e.uuid, e]));
  const keep = new Set(desired.map((e) => e.uuid));
  const gone = stored.filter((e) => !keep.has(e.uuid)).map((e) => e.uuid);
  if (gone.length > 0) await db.deleteFrom('user_emails').where('uuid', 'in', gone).execute();
  for (const e of desired) {
    if (before.get(e.uuid)?.main === true && !e.main) {
      await db.updateTable('user_emails').set({ main: toDbBool(false) }).where('uuid', '=', e.uuid).execute();
    }
  }
  for (const e of desired) {
    const old = before.get(e.uuid);
    if (old === undefined || (old.address === e.address && old.confirmed === e.confirmed && old.main === e.main)) continue;
    await db.updateTable('user_emails').set({ address: e.address, confirmed: toDbBool(e.confirmed), main: toDbBool(e.main) })
      .where('uuid', '=', e.uuid).execute();
  }
  const added = desired.filter((e) => !before.has(e.uuid));
  if (added.length > 0) await db.insertInto('user_emails').values(added.map((e) => userEmailToRow(userUuid, e))).execute();
}

/** A condition on `users` of a user listing. */
type UserCondition = (eb: ExpressionBuilder<DatabaseSchema, 'users'>) => Expression<SqlBool>;

/** The filters of GET /users as conditions on `users` (types.ts UserListFilters). */
function userListConditions(db: Db, f: UserListFilters): UserCondition[] {
  const conditions: UserCondition[] = [];
  const lowerEquals = (column: string, value: string) => sql<SqlBool>`lower(${sql.ref(column)}) = lower(${value})`;
  const linkedTo = (column: 'policies.uuid' | 'policies.slug', value: string) =>
    db.selectFrom('user_policy').innerJoin('policies', 'policies.uuid', 'user_policy.policy_uuid')
      .select('user_policy.user_uuid').where(column, '=', value);
  const grantedThroughGroups = (column: 'policies.uuid' | 'policies.slug', value: string) =>
    db.selectFrom('group_users').innerJoin('group_policy', 'group_policy.group_uuid', 'group_users.group_uuid')
      .innerJoin('policies', 'policies.uuid', 'group_policy.policy_uuid')
      .select('group_users.user_uuid').where(column, '=', value);

  if (f.uuid !== undefined) {
    const uuid = f.uuid.toLowerCase();
    conditions.push((eb) => eb('users.uuid', '=', uuid));
  }
  if (f.username !== undefined) {
    const username = f.username;
    conditions.push(() => lowerEquals('users.username', username));
  }
  for (const [column, value] of [['users.firstname', f.firstname], ['users.lastname', f.lastname], ['users.purpose', f.purpose]] as const) {
    if (value !== undefined) conditions.push((eb) => eb(column, '=', value));
  }
  if (f.emailAddress !== undefined) {
    const address = f.emailAddress;
    conditions.push((eb) => eb('users.uuid', 'in', db.selectFrom('user_emails').select('user_emails.user_uuid')
      .where(lowerEquals('user_emails.address', address))));
  }
  if (f.groupUuid !== undefined) {
    const group = f.groupUuid;
    conditions.push((eb) => eb('users.uuid', 'in', db.selectFrom('group_users').select('group_users.user_uuid')
      .where('group_users.group_uuid', '=', group)));
  }
  for (const [column, value] of [['policies.uuid', f.policyUuid], ['policies.slug', f.policySlug]] as const) {
    if (value !== undefined) conditions.push((eb) => eb('users.uuid', 'in', linkedTo(column, value)));
  }
  for (const [column, value] of [['policies.uuid', f.hasPolicyUuid], ['policies.slug', f.hasPolicySlug]] as const) {
    if (value === undefined) continue;
    conditions.push((eb) => eb.or([
      eb('users.uuid', 'in', linkedTo(column, value)),
      eb('users.uuid', 'in', grantedThroughGroups(column, value)),
    ]));
  }
  return conditions;
}

// ---- shared steps of the verbs above


/** A tenant and its ancestors, nearest first ([] for an unknown tenant). */
async function ancestorsOf(db: Db, uuid: string): Promise<string[]> {
  const result = await sql<{ uuid: string }>`
    with recursive up (uuid, parent_uuid, depth) as (
      select uuid, parent_uuid, 0 from tenants where uuid = ${uuid}
      union all
      select t.uuid, t.parent_uuid, u.depth + 1 from tenants t join up u on t.uuid = u.parent_uuid
      where u.depth < ${MAX_TENANT_DEPTH}
    )
    select uuid from up order by depth`.execute(db);
  return result.rows.map((r) => r.uuid);
}

/**
 * The users and groups of `root`'s subtree linked to a policy of one of
 * `owners` (tenants outside that subtree), and those policies.
 */
async function policyLinksLeaving(db: Db, root: string, owners: string[]): Promise<{ links: PolicyLinks; policyUuids: string[] }> {
  const subtree = sql`(
    with recursive subtree (uuid, depth) as (
      select uuid, 0 from tenants where uuid = ${root}
      union all
      select t.uuid, s.depth + 1 from tenants t join subtree s on t.parent_uuid = s.uuid
      where s.depth < ${MAX_TENANT_DEPTH}
    )
    select uuid from subtree)`;
  const owned = db.selectFrom('policies').select('uuid').where('tenant_uuid', 'in', owners);
  const users = await db.selectFrom('user_policy')
    .innerJoin('users', 'users.uuid', 'user_policy.user_uuid')
    .select(['users.uuid as uuid', 'users.tenant_uuid as tenant_uuid', 'user_policy.policy_uuid as policy_uuid'])
    .where('user_policy.policy_uuid', 'in', owned)
    .where(sql<SqlBool>`users.tenant_uuid in ${subtree}`)
    .orderBy('users.uuid')
    .execute();
  const groups = await db.selectFrom('group_policy')
    .innerJoin('groups', 'groups.uuid', 'group_policy.group_uuid')
    .select(['groups.uuid as uuid', 'groups.tenant_uuid as tenant_uuid', 'group_policy.policy_uuid as policy_uuid'])
    .where('group_policy.policy_uuid', 'in', owned)
    .where(sql<SqlBool>`groups.tenant_uuid in ${subtree}`)
    .orderBy('groups.uuid')
    .execute();
  const distinct = (rows: { uuid: string; tenant_uuid: string }[]) =>
    [...new Map(rows.map((r) => [r.uuid, { uuid: r.uuid, tenantUuid: r.tenant_uuid }])).values()];
  return {
    links: { users: distinct(users), groups: distinct(groups) },
    policyUuids: [...new Set([...users, ...groups].map((r) => r.policy_uuid))].sort(),
  };
}

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
  // The user's pending password-reset tokens (emailed, issue 21): they carry
  // no user identity, their link names the user (migrations/self-service.ts).
  const resets = db.selectFrom('emailed_tokens').select('token_hash')
    .where('user_uuid', '=', userUuid).where('purpose', '=', 'password_reset');
  const byReset = await db.deleteFrom('tokens').where('hash', 'in', resets)
    .returning(['hash', 'session_uuid']).execute();
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
 * Deletes those of the given sessions that hold no token any more.
 *
 * With row locks (PostgreSQL), the sessions are locked first, in a fixed
 * order: when two transactions each delete one of a session's last two tokens
 * (a revocation and the reaper, on two instances), the second to get the lock
 * sees the first one's deletion committed and removes the session, instead of
 * both seeing the other's token and leaving an empty session behind forever.
 */
