// Groups of users within a tenant, and the policies they confer. Every tenant
// has one system-managed "all users" group that each of its users joins on
// creation; it cannot be renamed, deleted or have its members changed, but
// policies can be attached to it (that is what it is for).
// A user and a group must belong to the same tenant.
import { randomUUID } from 'node:crypto';
import { ConflictError, ForbiddenError, InvalidDataError, NotFoundError } from '../errors.js';
import { StoreConflictError } from '../storage-errors.js';
import { ALL_USERS_SLUG, type Group, type Policy, type User } from './types.js';
import type { ListQuery, ListResult } from '../lists.js';
import type { IdentityStoreTx } from './store.js';
import { assertMayGrant, assertMayRevoke } from './privileges.js';
import type { PolicyService } from './policies.js';
import { isVisible, listTenants, slugify, type Caller } from './scope.js';
import type { TenantTree } from './tenant-tree.js';
import type { UserService } from './users.js';

export function allUsersGroupName(tenantUuid: string): string {
  return `wazo-all-users-tenant-${tenantUuid}`;
}

export function allUsersGroup(tenantUuid: string): Group {
  return { uuid: randomUUID(), tenantUuid, name: allUsersGroupName(tenantUuid), slug: ALL_USERS_SLUG, systemManaged: true };
}

export class GroupService {
  constructor(
    private readonly store: IdentityStoreTx,
    private readonly tree: TenantTree,
    private readonly users: UserService,
    private readonly policies: PolicyService,
  ) {}

  async list(caller: Caller, q: ListQuery & { recurse?: boolean }): Promise<ListResult<Group>> {
    return this.store.listGroups({ tenantUuids: await listTenants(this.tree, caller, q.recurse) }, q);
  }

  async get(caller: Caller, uuid: string): Promise<Group> {
    const group = await this.store.getGroup(uuid);
    if (group === null || !(await isVisible(this.tree, caller, group.tenantUuid))) {
      throw new NotFoundError('unknown-group', 'groups', uuid);
    }
    return group;
  }

  async create(caller: Caller, input: { uuid?: string; name: string; slug?: string }): Promise<Group> {
    const uuid = input.uuid ?? randomUUID();
    return this.conflicts(() =>
      this.store.createGroup({
        uuid,
        tenantUuid: caller.tenantUuid,
        name: input.name,
        slug: input.slug ?? slugify(input.name, `g_${uuid.slice(0, 8)}`),
        systemManaged: false,
      }),
    );
  }

  async update(caller: Caller, uuid: string, input: { name: string; slug?: string }): Promise<Group> {
    this.assertEditable(await this.get(caller, uuid));
    const updated = await this.conflicts(() =>
      this.store.updateGroup(uuid, {
        name: input.name,
        ...(input.slug === undefined ? {} : { slug: input.slug }),
      }),
    );
    if (updated === null) throw new NotFoundError('unknown-group', 'groups', uuid);
    return updated;
  }

  async delete(caller: Caller, uuid: string): Promise<void> {
    const group = await this.get(caller, uuid);
    this.assertEditable(group);
    // Deleting a group takes its policies away from its members.
    assertMayRevoke(caller.token, aclOf(await this.policiesOf(group)));
    await this.store.deleteGroup(uuid);
  }

  async listUsers(caller: Caller, uuid: string, q: ListQuery): Promise<ListResult<User>> {
    const group = await this.get(caller, uuid);
    return this.store.listUsers([group.tenantUuid], q, { groupUuid: group.uuid });
  }

  async addUser(caller: Caller, groupUuid: string, userUuid: string): Promise<void> {
    const { group, user } = await this.memberPair(caller, groupUuid, userUuid);
    this.assertEditable(group);
    // Joining confers the group's policies: the caller must hold all of them.
    assertMayGrant(caller.token, aclOf(await this.policiesOf(group)));
    await this.store.addGroupUser(group.uuid, user.uuid);
  }

  async removeUser(caller: Caller, groupUuid: string, userUuid: string): Promise<void> {
    const { group, user } = await this.memberPair(caller, groupUuid, userUuid);
    this.assertEditable(group);
    assertMayRevoke(caller.token, aclOf(await this.policiesOf(group)));
    await this.store.removeGroupUser(group.uuid, user.uuid);
  }

  async listPolicies(caller: Caller, uuid: string, q: ListQuery): Promise<ListResult<Policy>> {
    const group = await this.get(caller, uuid);
    return this.store.listPolicies({ ...(await this.policies.scopeOf(group.tenantUuid)), groupUuid: group.uuid }, q);
  }

  async addPolicy(caller: Caller, groupUuid: string, policyUuid: string): Promise<void> {
    const group = await this.get(caller, groupUuid);
    const policy = await this.policies.get(caller, policyUuid);
    if (!(await this.policies.isVisibleTo(policy, group.tenantUuid))) {
      throw new InvalidDataError("The policy is not visible to the group's tenant", {
        policy_uuid: { constraint_id: 'tenant', message: 'policy and group tenants differ' },
      });
    }
    assertMayGrant(caller.token, policy.acl);
    await this.store.addGroupPolicy(group.uuid, policy.uuid);
  }

  async removePolicy(caller: Caller, groupUuid: string, policyUuid: string): Promise<void> {
    const group = await this.get(caller, groupUuid);
    const policy = await this.policies.get(caller, policyUuid);
    assertMayRevoke(caller.token, policy.acl);
    await this.store.removeGroupPolicy(group.uuid, policy.uuid);
  }

  /** The groups of a user (visible to the caller). */
  async listOfUser(caller: Caller, userUuid: string, q: ListQuery): Promise<ListResult<Group>> {
    const user = await this.users.get(userUuid, caller.tenantUuid);
    return this.store.listGroups({ tenantUuids: [user.tenantUuid], userUuid: user.uuid }, q);
  }

  private async memberPair(caller: Caller, groupUuid: string, userUuid: string): Promise<{ group: Group; user: User }> {
    const group = await this.get(caller, groupUuid);
    const user = await this.users.get(userUuid, caller.tenantUuid);
    if (user.tenantUuid !== group.tenantUuid) {
      throw new InvalidDataError('A user and a group must belong to the same tenant', {
        user_uuid: { constraint_id: 'tenant', message: 'user and group tenants differ' },
      });
    }
    return { group, user };
  }

  /**
   * Every policy the group confers, visible to the caller or not: membership
   * grants them all (listGrantedPolicies), so the no-escalation rule weighs
   * them all.
   */
  private async policiesOf(group: Group): Promise<Policy[]> {
    return this.store.listGroupPolicies(group.uuid);
  }

  private assertEditable(group: Group): void {
    if (group.systemManaged) {
      throw new ForbiddenError('The "all users" group is managed by the system', 'groups', { uuid: group.uuid });
    }
  }

  private async conflicts<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof StoreConflictError) {
        throw new ConflictError('groups', err.field, `A group with this ${err.field ?? 'identifier'} already exists`);
      }
      throw err;
    }
  }
}

function aclOf(policies: Policy[]): string[] {
  return [...new Set(policies.flatMap((p) => p.acl))];
}
