// Groups: their rows, members and policies, and each tenant's "all users"
// group.
import { sql } from 'kysely';
import type { Updateable } from 'kysely';
import type { IdentityStoreTx } from '../../identity/store.js';
import type { GroupsTable } from '../database-schema.js';
import type { OrderColumn } from '../list-query.js';
import { groupFromRow, groupToRow, toDbBool } from '../row-mapping.js';
import { ALL_USERS_SLUG } from '../types.js';
import type { Group, GroupFilter, GroupPatch, ListQuery, ListResult } from '../types.js';
import type { VerbContext } from './context.js';
import { listPage } from './lists.js';

export type GroupVerbs = Pick<
  IdentityStoreTx,
  | 'createGroup'
  | 'getGroup'
  | 'getAllUsersGroup'
  | 'listGroups'
  | 'updateGroup'
  | 'deleteGroup'
  | 'addGroupUser'
  | 'removeGroupUser'
  | 'addGroupPolicy'
  | 'removeGroupPolicy'
  | 'ensureAllUsersGroups'
>;

const groupOrders: Readonly<Record<string, OrderColumn>> = {
  uuid: { column: 'groups.uuid', text: false },
  name: { column: 'groups.name', text: true },
  slug: { column: 'groups.slug', text: true },
};
const groupSearchColumns = ['name', 'slug'] as const;

export function groupVerbs(ctx: VerbContext) {
  const verbs = {
    async createGroup(g: Group): Promise<Group> {
      await ctx.db.insertInto('groups').values(groupToRow(g)).execute();
      return { ...g };
    },

    async getGroup(uuid: string): Promise<Group | null> {
      const row = await ctx.db.selectFrom('groups').selectAll().where('uuid', '=', uuid).executeTakeFirst();
      return row ? groupFromRow(row) : null;
    },

    async getAllUsersGroup(tenantUuid: string): Promise<Group | null> {
      const row = await ctx.db
        .selectFrom('groups')
        .selectAll()
        .where('tenant_uuid', '=', tenantUuid)
        .where('system_managed', '=', toDbBool(true))
        .executeTakeFirst();
      return row ? groupFromRow(row) : null;
    },

    async listGroups(f: GroupFilter, q: ListQuery): Promise<ListResult<Group>> {
      if (f.tenantUuids.length === 0) return { total: 0, filtered: 0, items: [] };
      let scoped = ctx.db.selectFrom('groups').where('groups.tenant_uuid', 'in', f.tenantUuids);
      if (f.userUuid !== undefined) {
        scoped = scoped.where(
          'groups.uuid',
          'in',
          ctx.db.selectFrom('group_users').select('group_uuid').where('user_uuid', '=', f.userUuid),
        );
      }
      return listPage(scoped, groupSearchColumns, groupOrders, groupOrders.name, 'groups.uuid', q, groupFromRow);
    },

    async updateGroup(uuid: string, patch: GroupPatch): Promise<Group | null> {
      const changes: Updateable<GroupsTable> = {};
      if (patch.name !== undefined) changes.name = patch.name;
      if (patch.slug !== undefined) changes.slug = patch.slug;
      if (Object.keys(changes).length === 0) return verbs.getGroup(uuid);
      const row = await ctx.db.updateTable('groups').set(changes).where('uuid', '=', uuid).returningAll().executeTakeFirst();
      return row ? groupFromRow(row) : null;
    },

    async deleteGroup(uuid: string): Promise<boolean> {
      const result = await ctx.db.deleteFrom('groups').where('uuid', '=', uuid).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async addGroupUser(groupUuid: string, userUuid: string): Promise<void> {
      await ctx.db
        .insertInto('group_users')
        .values({ group_uuid: groupUuid, user_uuid: userUuid })
        .onConflict((oc) => oc.columns(['group_uuid', 'user_uuid']).doNothing())
        .execute();
    },

    async removeGroupUser(groupUuid: string, userUuid: string): Promise<boolean> {
      const result = await ctx.db
        .deleteFrom('group_users')
        .where('group_uuid', '=', groupUuid)
        .where('user_uuid', '=', userUuid)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async addGroupPolicy(groupUuid: string, policyUuid: string): Promise<void> {
      await ctx.db
        .insertInto('group_policy')
        .values({ group_uuid: groupUuid, policy_uuid: policyUuid })
        .onConflict((oc) => oc.columns(['group_uuid', 'policy_uuid']).doNothing())
        .execute();
    },

    async removeGroupPolicy(groupUuid: string, policyUuid: string): Promise<boolean> {
      const result = await ctx.db
        .deleteFrom('group_policy')
        .where('group_uuid', '=', groupUuid)
        .where('policy_uuid', '=', policyUuid)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async ensureAllUsersGroups(newUuid: () => string, nameOf: (tenantUuid: string) => string): Promise<Group[]> {
      return ctx.atomic(async (db) => {
        const lacking = await db
          .selectFrom('tenants')
          .select('uuid')
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('groups')
                  .select(sql.lit(1).as('one'))
                  .whereRef('groups.tenant_uuid', '=', 'tenants.uuid')
                  .where('groups.system_managed', '=', toDbBool(true)),
              ),
            ),
          )
          .orderBy('uuid')
          .execute();
        const created: Group[] = [];
        for (const { uuid } of lacking) {
          const group: Group = {
            uuid: newUuid(),
            tenantUuid: uuid,
            name: nameOf(uuid),
            slug: ALL_USERS_SLUG,
            systemManaged: true,
          };
          await db.insertInto('groups').values(groupToRow(group)).execute();
          created.push(group);
        }
        // Users created before their tenant had the group (or before version 2).
        await db
          .insertInto('group_users')
          .columns(['group_uuid', 'user_uuid'])
          .expression(
            db
              .selectFrom('users')
              .innerJoin('groups', (join) =>
                join.onRef('groups.tenant_uuid', '=', 'users.tenant_uuid').on('groups.system_managed', '=', toDbBool(true)),
              )
              .select(['groups.uuid as group_uuid', 'users.uuid as user_uuid'])
              .where(({ not, exists, selectFrom }) =>
                not(
                  exists(
                    selectFrom('group_users as gu')
                      .select(sql.lit(1).as('one'))
                      .whereRef('gu.group_uuid', '=', 'groups.uuid')
                      .whereRef('gu.user_uuid', '=', 'users.uuid'),
                  ),
                ),
              ),
          )
          .execute();
        return created;
      });
    },
  } satisfies GroupVerbs;
  return verbs;
}
