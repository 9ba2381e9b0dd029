// Policies: their rows, their links to users, and the policies a user or a
// selection of users is granted (directly or through groups).
import type { Updateable } from 'kysely';
import type { IdentityStoreTx } from '../../identity/store.js';
import type { PoliciesTable } from '../database-schema.js';
import type { OrderColumn } from '../list-query.js';
import { policyFromRow, policyToRow, toDbBool } from '../row-mapping.js';
import type {
  ListQuery,
  ListResult,
  Policy,
  PolicyFilter,
  PolicyLinks,
  PolicyPatch,
  SelectionGrants,
  UserSelection,
} from '../types.js';
import type { VerbContext } from './context.js';
import { listPage } from './lists.js';

export type PolicyVerbs = Pick<
  IdentityStoreTx,
  | 'upsertPolicy'
  | 'getPolicyBySlug'
  | 'addUserPolicy'
  | 'listUserPolicies'
  | 'createPolicy'
  | 'getPolicy'
  | 'listPolicies'
  | 'updatePolicy'
  | 'deletePolicy'
  | 'removeUserPolicy'
  | 'listGrantedPolicies'
  | 'listPoliciesGrantedToUsers'
  | 'listGroupPolicies'
  | 'listForeignPolicyLinks'
>;

const policyOrders: Readonly<Record<string, OrderColumn>> = {
  uuid: { column: 'policies.uuid', text: false },
  name: { column: 'policies.name', text: true },
  slug: { column: 'policies.slug', text: true },
  description: { column: 'policies.description', text: true },
};
const policySearchColumns = ['name', 'slug', 'description'] as const;

export function policyVerbs(ctx: VerbContext) {
  const verbs = {
    async upsertPolicy(p: Policy): Promise<Policy> {
      const row = await ctx.db
        .insertInto('policies')
        .values(policyToRow(p))
        .onConflict((oc) =>
          oc.columns(['tenant_uuid', 'slug']).doUpdateSet((eb) => ({
            name: eb.ref('excluded.name'),
            description: eb.ref('excluded.description'),
            acl: eb.ref('excluded.acl'),
            shared: eb.ref('excluded.shared'),
            read_only: eb.ref('excluded.read_only'),
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return policyFromRow(row);
    },

    async getPolicyBySlug(tenantUuid: string, slug: string): Promise<Policy | null> {
      const row = await ctx.db
        .selectFrom('policies')
        .selectAll()
        .where('tenant_uuid', '=', tenantUuid)
        .where('slug', '=', slug)
        .executeTakeFirst();
      return row ? policyFromRow(row) : null;
    },

    async addUserPolicy(userUuid: string, policyUuid: string): Promise<void> {
      await ctx.db
        .insertInto('user_policy')
        .values({ user_uuid: userUuid, policy_uuid: policyUuid })
        .onConflict((oc) => oc.columns(['user_uuid', 'policy_uuid']).doNothing())
        .execute();
    },

    async listUserPolicies(userUuid: string): Promise<Policy[]> {
      const rows = await ctx.db
        .selectFrom('policies')
        .innerJoin('user_policy', 'user_policy.policy_uuid', 'policies.uuid')
        .selectAll('policies')
        .where('user_policy.user_uuid', '=', userUuid)
        .orderBy('policies.name')
        .orderBy('policies.uuid')
        .execute();
      return rows.map(policyFromRow);
    },

    async createPolicy(p: Policy): Promise<Policy> {
      const row = await ctx.db.insertInto('policies').values(policyToRow(p)).returningAll().executeTakeFirstOrThrow();
      return policyFromRow(row);
    },

    async getPolicy(uuid: string): Promise<Policy | null> {
      const row = await ctx.db.selectFrom('policies').selectAll().where('uuid', '=', uuid).executeTakeFirst();
      return row ? policyFromRow(row) : null;
    },

    async listPolicies(f: PolicyFilter, q: ListQuery): Promise<ListResult<Policy>> {
      const shared = f.sharedTenantUuids ?? [];
      if (f.tenantUuids.length === 0 && shared.length === 0) return { total: 0, filtered: 0, items: [] };
      let scoped = ctx.db.selectFrom('policies').where(({ or, and, eb }) => {
        const visible = [];
        if (f.tenantUuids.length > 0) visible.push(eb('policies.tenant_uuid', 'in', f.tenantUuids));
        if (shared.length > 0) {
          visible.push(and([eb('policies.tenant_uuid', 'in', shared), eb('policies.shared', '=', toDbBool(true))]));
        }
        return or(visible);
      });
      if (f.userUuid !== undefined) {
        scoped = scoped.where(
          'policies.uuid',
          'in',
          ctx.db.selectFrom('user_policy').select('policy_uuid').where('user_uuid', '=', f.userUuid),
        );
      }
      if (f.groupUuid !== undefined) {
        scoped = scoped.where(
          'policies.uuid',
          'in',
          ctx.db.selectFrom('group_policy').select('policy_uuid').where('group_uuid', '=', f.groupUuid),
        );
      }
      return listPage(scoped, policySearchColumns, policyOrders, policyOrders.name, 'policies.uuid', q, policyFromRow);
    },

    async updatePolicy(uuid: string, patch: PolicyPatch): Promise<Policy | null> {
      const changes: Updateable<PoliciesTable> = {};
      if (patch.name !== undefined) changes.name = patch.name;
      if (patch.slug !== undefined) changes.slug = patch.slug;
      if (patch.description !== undefined) changes.description = patch.description;
      if (patch.acl !== undefined) changes.acl = JSON.stringify(patch.acl);
      if (patch.shared !== undefined) changes.shared = toDbBool(patch.shared);
      if (Object.keys(changes).length === 0) return verbs.getPolicy(uuid);
      const row = await ctx.db.updateTable('policies').set(changes).where('uuid', '=', uuid).returningAll().executeTakeFirst();
      return row ? policyFromRow(row) : null;
    },

    async deletePolicy(uuid: string): Promise<boolean> {
      const result = await ctx.db.deleteFrom('policies').where('uuid', '=', uuid).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async removeUserPolicy(userUuid: string, policyUuid: string): Promise<boolean> {
      const result = await ctx.db
        .deleteFrom('user_policy')
        .where('user_uuid', '=', userUuid)
        .where('policy_uuid', '=', policyUuid)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async listGrantedPolicies(userUuid: string): Promise<Policy[]> {
      const rows = await ctx.db
        .selectFrom('policies')
        .selectAll()
        .where(({ or, eb, selectFrom }) =>
          or([
            eb('uuid', 'in', selectFrom('user_policy').select('policy_uuid').where('user_uuid', '=', userUuid)),
            eb(
              'uuid',
              'in',
              selectFrom('group_policy')
                .innerJoin('group_users', 'group_users.group_uuid', 'group_policy.group_uuid')
                .select('group_policy.policy_uuid')
                .where('group_users.user_uuid', '=', userUuid),
            ),
          ]),
        )
        .orderBy('name')
        .orderBy('uuid')
        .execute();
      return rows.map(policyFromRow);
    },

    async listPoliciesGrantedToUsers(who: UserSelection): Promise<SelectionGrants> {
      if ('userUuids' in who && who.userUuids.length === 0) return { users: 0, policies: [] };
      if ('methods' in who && who.methods.length === 0) return { users: 0, policies: [] };
      const selected = () => {
        const q = ctx.db.selectFrom('users').select('users.uuid');
        return 'userUuids' in who
          ? q.where('users.uuid', 'in', [...who.userUuids])
          : q.where('users.tenant_uuid', '=', who.tenantUuid).where('users.authentication_method', 'in', [...who.methods]);
      };
      const count = await ctx.db
        .selectFrom(selected().as('s'))
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
        .executeTakeFirstOrThrow();
      const users = Number(count.n);
      if (users === 0) return { users, policies: [] };
      const rows = await ctx.db
        .selectFrom('policies')
        .selectAll()
        .where(({ or, eb, selectFrom }) =>
          or([
            eb('uuid', 'in', selectFrom('user_policy').select('policy_uuid').where('user_uuid', 'in', selected())),
            eb(
              'uuid',
              'in',
              selectFrom('group_policy')
                .innerJoin('group_users', 'group_users.group_uuid', 'group_policy.group_uuid')
                .select('group_policy.policy_uuid')
                .where('group_users.user_uuid', 'in', selected()),
            ),
          ]),
        )
        .orderBy('name')
        .orderBy('uuid')
        .execute();
      return { users, policies: rows.map(policyFromRow) };
    },

    async listGroupPolicies(groupUuid: string): Promise<Policy[]> {
      const rows = await ctx.db
        .selectFrom('policies')
        .selectAll()
        .where('uuid', 'in', ctx.db.selectFrom('group_policy').select('policy_uuid').where('group_uuid', '=', groupUuid))
        .orderBy('name')
        .orderBy('uuid')
        .execute();
      return rows.map(policyFromRow);
    },

    async listForeignPolicyLinks(policyUuid: string): Promise<PolicyLinks> {
      const owner = ctx.db.selectFrom('policies').select('tenant_uuid').where('uuid', '=', policyUuid);
      const users = await ctx.db
        .selectFrom('user_policy')
        .innerJoin('users', 'users.uuid', 'user_policy.user_uuid')
        .select(['users.uuid as uuid', 'users.tenant_uuid as tenant_uuid'])
        .where('user_policy.policy_uuid', '=', policyUuid)
        .where('users.tenant_uuid', 'not in', owner)
        .orderBy('users.uuid')
        .execute();
      const groups = await ctx.db
        .selectFrom('group_policy')
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
    },
  } satisfies PolicyVerbs;
  return verbs;
}
