// Tenants: the tree, its moves, and the tenant lookups of the login paths
// (domain names, slugs).
import { sql } from 'kysely';
import type { SqlBool, Updateable } from 'kysely';
import { refreshTokenDeleted, sessionDeleted, tenantAdded, tenantDeleted, tenantUpdated } from '../../events/catalog.js';
import type { IdentityStoreTx } from '../../identity/store.js';
import type { TenantsTable } from '../database-schema.js';
import { deleteEmptySessions } from '../expiry.js';
import type { OrderColumn } from '../list-query.js';
import { EMPTY_ADDRESS, refreshTokenFromRow, tenantDetailsToRow, tenantFromRow, tenantToRow } from '../row-mapping.js';
import type { ListQuery, ListResult, PolicyLinks, Removal, Tenant, TenantMove, TenantPatch } from '../types.js';
import type { Db, VerbContext } from './context.js';
import { listPage } from './lists.js';

export type TenantVerbs = Pick<
  IdentityStoreTx,
  | 'createTenant'
  | 'getTenant'
  | 'getTopTenant'
  | 'listTenantSubtree'
  | 'listTenants'
  | 'updateTenant'
  | 'moveTenant'
  | 'hasChildTenants'
  | 'deleteTenant'
  | 'findTenantByDomainName'
  | 'findTenantBySlug'
>;

const tenantOrders: Readonly<Record<string, OrderColumn>> = {
  uuid: { column: 'tenants.uuid', text: false },
  name: { column: 'tenants.name', text: true },
  slug: { column: 'tenants.slug', text: true },
};
const tenantSearchColumns = ['name', 'slug'] as const;

/** Depth bound of tenant-tree walks: a safety net, trees are shallow. */
const MAX_TENANT_DEPTH = 64;

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
  await db
    .insertInto('tenant_domains')
    .values(names.map((name) => ({ name, tenant_uuid: tenantUuid })))
    .execute();
}

export function tenantVerbs(ctx: VerbContext) {
  const verbs = {
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
        if (created.parentUuid !== null) await ctx.dialect.notifyTenantsChanged(db, [created.uuid]);
        await ctx.emit(db, [tenantAdded(created)]);
        return created;
      };
      return domainNames.length > 0 || created.parentUuid !== null ? ctx.atomic(run) : ctx.atomicIfRecording(run);
    },

    async getTenant(uuid: string): Promise<Tenant | null> {
      const row = await ctx.db.selectFrom('tenants').selectAll().where('uuid', '=', uuid).executeTakeFirst();
      return row ? tenantFromRow(row) : null;
    },

    async getTopTenant(): Promise<Tenant | null> {
      const row = await ctx.db
        .selectFrom('tenants')
        .selectAll()
        .where('parent_uuid', 'is', null)
        .orderBy('uuid')
        .limit(1)
        .executeTakeFirst();
      return row ? tenantFromRow(row) : null;
    },

    async listTenantSubtree(rootUuid: string): Promise<string[]> {
      const result = await sql<{ uuid: string }>`
        with recursive subtree (uuid, depth) as (
          select uuid, 0 from tenants where uuid = ${rootUuid}
          union all
          select t.uuid, s.depth + 1 from tenants t join subtree s on t.parent_uuid = s.uuid
          where s.depth < ${MAX_TENANT_DEPTH}
        )
        select uuid from subtree order by depth, uuid`.execute(ctx.db);
      return result.rows.map((r) => r.uuid);
    },

    async listTenants(tenantUuids: string[], q: ListQuery): Promise<ListResult<Tenant>> {
      if (tenantUuids.length === 0) return { total: 0, filtered: 0, items: [] };
      const scoped = ctx.db.selectFrom('tenants').where('tenants.uuid', 'in', tenantUuids);
      return listPage(scoped, tenantSearchColumns, tenantOrders, tenantOrders.name, 'tenants.uuid', q, tenantFromRow);
    },

    async updateTenant(uuid: string, patch: TenantPatch): Promise<Tenant | null> {
      const changes: Updateable<TenantsTable> = {};
      if (patch.name !== undefined) changes.name = patch.name;
      if (patch.slug !== undefined) changes.slug = patch.slug;
      Object.assign(changes, tenantDetailsToRow(patch));
      const domainNames = patch.domainNames === undefined ? undefined : normalisedDomainNames(patch.domainNames);
      if (domainNames !== undefined) changes.domain_names = JSON.stringify(domainNames);
      if (Object.keys(changes).length === 0) return verbs.getTenant(uuid);
      const run = async (db: Db) => {
        const row = await db.updateTable('tenants').set(changes).where('uuid', '=', uuid).returningAll().executeTakeFirst();
        if (!row) return null;
        if (domainNames !== undefined) {
          await db.deleteFrom('tenant_domains').where('tenant_uuid', '=', uuid).execute();
          await insertTenantDomains(db, uuid, domainNames);
        }
        const updated = tenantFromRow(row);
        await ctx.emit(db, [tenantUpdated(updated)]);
        return updated;
      };
      return domainNames !== undefined ? ctx.atomic(run) : ctx.atomicIfRecording(run);
    },

    async moveTenant(uuid: string, parentUuid: string): Promise<TenantMove> {
      return ctx.atomic(async (db) => {
        // One move at a time (SQLite: BEGIN IMMEDIATE already serialises
        // writers): two moves that each keep the tree a tree could together
        // make a cycle. The lock also holds off tenant writes for the move.
        if (ctx.rowLocks) await sql`lock table tenants in share row exclusive mode`.execute(db);
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
        const row = await db
          .updateTable('tenants')
          .set({ parent_uuid: parentUuid })
          .where('uuid', '=', uuid)
          .returningAll()
          .executeTakeFirstOrThrow();
        const moved = tenantFromRow(row);
        // Every instance forgets the tenant's remembered parent (tenant-tree.ts).
        await ctx.dialect.notifyTenantsChanged(db, [uuid]);
        await ctx.emit(db, [tenantUpdated(moved)]);
        return { outcome: 'moved', tenant: moved };
      });
    },

    async hasChildTenants(uuid: string): Promise<boolean> {
      const row = await ctx.db.selectFrom('tenants').select('uuid').where('parent_uuid', '=', uuid).limit(1).executeTakeFirst();
      return row !== undefined;
    },

    async deleteTenant(uuid: string): Promise<Removal | null> {
      return ctx.atomic(async (db) => {
        const tenantRow = await db.selectFrom('tenants').selectAll().where('uuid', '=', uuid).executeTakeFirst();
        if (tenantRow === undefined) return null;
        const usersOfTenant = db.selectFrom('users').select('uuid').where('tenant_uuid', '=', uuid);
        const refreshTokens = ctx.recordEvents
          ? await db.selectFrom('refresh_tokens').selectAll().where('user_uuid', 'in', usersOfTenant).execute()
          : [];
        const sessionsOfTenant = db
          .selectFrom('sessions')
          .select('uuid')
          .where(({ or, eb }) => or([eb('tenant_uuid', '=', uuid), eb('user_uuid', 'in', usersOfTenant)]));
        // Tokens of the tenant's users whatever their session, then of its sessions.
        const byUser = await db
          .deleteFrom('tokens')
          .where('user_uuid', 'in', usersOfTenant)
          .returning(['hash', 'session_uuid'])
          .execute();
        const bySession = await db
          .deleteFrom('tokens')
          .where('session_uuid', 'in', sessionsOfTenant)
          .returning(['hash', 'session_uuid'])
          .execute();
        const own = await sessionsOfTenant.execute();
        const touched = new Set([...own.map((r) => r.uuid), ...byUser.map((t) => t.session_uuid)]);
        const sessions = await deleteEmptySessions(db, [...touched], ctx.rowLocks);
        // Links, memberships and refresh tokens go with their rows (ON DELETE CASCADE).
        await db.deleteFrom('users').where('tenant_uuid', '=', uuid).execute();
        await db.deleteFrom('groups').where('tenant_uuid', '=', uuid).execute();
        await db.deleteFrom('policies').where('tenant_uuid', '=', uuid).execute();
        await db.deleteFrom('tenants').where('uuid', '=', uuid).execute();
        const tokenHashes = [...byUser, ...bySession].map((t) => t.hash);
        await ctx.dialect.notifyRevoked(db, tokenHashes);
        await ctx.dialect.notifyTenantsChanged(db, [uuid]);
        await ctx.emit(db, [
          ...sessions.map(sessionDeleted),
          ...refreshTokens.map((row) => refreshTokenDeleted(refreshTokenFromRow(row))),
          tenantDeleted(tenantFromRow(tenantRow)),
        ]);
        return { tokenHashes, sessions };
      });
    },

    async findTenantByDomainName(domainName: string): Promise<Tenant | null> {
      // tenant_domains holds each name once, lower-cased (its primary key).
      const row = await ctx.db
        .selectFrom('tenant_domains')
        .innerJoin('tenants', 'tenants.uuid', 'tenant_domains.tenant_uuid')
        .selectAll('tenants')
        .where('tenant_domains.name', '=', domainName.toLowerCase())
        .executeTakeFirst();
      return row ? tenantFromRow(row) : null;
    },

    async findTenantBySlug(slug: string): Promise<Tenant | null> {
      const row = await ctx.db.selectFrom('tenants').selectAll().where('slug', '=', slug).executeTakeFirst();
      return row ? tenantFromRow(row) : null;
    },
  } satisfies TenantVerbs;
  return verbs;
}

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
async function policyLinksLeaving(
  db: Db,
  root: string,
  owners: string[],
): Promise<{ links: PolicyLinks; policyUuids: string[] }> {
  const subtree = sql`(
    with recursive subtree (uuid, depth) as (
      select uuid, 0 from tenants where uuid = ${root}
      union all
      select t.uuid, s.depth + 1 from tenants t join subtree s on t.parent_uuid = s.uuid
      where s.depth < ${MAX_TENANT_DEPTH}
    )
    select uuid from subtree)`;
  const owned = db.selectFrom('policies').select('uuid').where('tenant_uuid', 'in', owners);
  const users = await db
    .selectFrom('user_policy')
    .innerJoin('users', 'users.uuid', 'user_policy.user_uuid')
    .select(['users.uuid as uuid', 'users.tenant_uuid as tenant_uuid', 'user_policy.policy_uuid as policy_uuid'])
    .where('user_policy.policy_uuid', 'in', owned)
    .where(sql<SqlBool>`users.tenant_uuid in ${subtree}`)
    .orderBy('users.uuid')
    .execute();
  const groups = await db
    .selectFrom('group_policy')
    .innerJoin('groups', 'groups.uuid', 'group_policy.group_uuid')
    .select(['groups.uuid as uuid', 'groups.tenant_uuid as tenant_uuid', 'group_policy.policy_uuid as policy_uuid'])
    .where('group_policy.policy_uuid', 'in', owned)
    .where(sql<SqlBool>`groups.tenant_uuid in ${subtree}`)
    .orderBy('groups.uuid')
    .execute();
  const distinct = (rows: { uuid: string; tenant_uuid: string }[]) => [
    ...new Map(rows.map((r) => [r.uuid, { uuid: r.uuid, tenantUuid: r.tenant_uuid }])).values(),
  ];
  return {
    links: { users: distinct(users), groups: distinct(groups) },
    policyUuids: [...new Set([...users, ...groups].map((r) => r.policy_uuid))].sort(),
  };
}
