// Policies: named ACLs of a tenant. A policy is visible in its tenant and the
// tenants below; a `shared` one is also visible from the tenants below its own
// (they may link it, not edit it). Policies from configuration
// (default_policies, the bootstrap administrator's) are read-only.
// Every edit obeys ./privileges.ts: no one hands out more than it holds.
// A policy is named by its uuid (any policy the caller sees), or by its slug,
// resolved in the acting tenant as wazo-auth does: the acting tenant's own
// policy of that slug, else the nearest ancestor's shared one (slugs are
// unique per tenant; an own policy hides an ancestor's of the same slug).
import { randomUUID } from 'node:crypto';
import { ConflictError, DomainError, ForbiddenError, InvalidDataError, NotFoundError } from '../errors.js';
import { MAX_ACL_ENTRIES } from '../access-limits.js';
import { StoreConflictError } from '../storage-errors.js';
import type { Policy, PolicyFilter } from './types.js';
import type { ListQuery, ListResult } from '../lists.js';
import type { IdentityStoreTx } from './store.js';
import { assertMayGrant, assertMayRevoke } from './privileges.js';
import { isVisible, listTenants, slugify, type Caller } from './scope.js';
import type { TenantTree } from './tenant-tree.js';
import type { UserService } from './users.js';

export interface PolicyInput {
  uuid?: string;
  name: string;
  slug?: string;
  description: string | null;
  acl: string[];
  shared: boolean;
}

export class PolicyService {
  constructor(
    private readonly store: IdentityStoreTx,
    private readonly tree: TenantTree,
    private readonly users: UserService,
  ) {}

  /** The policies a tenant can see: its own, and the shared ones of its ancestors. */
  async scopeOf(tenantUuid: string, tenantUuids: string[] = [tenantUuid]): Promise<Omit<PolicyFilter, 'userUuid' | 'groupUuid'>> {
    return { tenantUuids, sharedTenantUuids: await this.tree.ancestors(tenantUuid) };
  }

  async isVisibleTo(policy: Policy, tenantUuid: string): Promise<boolean> {
    if (await this.tree.isSameOrDescendant(policy.tenantUuid, tenantUuid)) {
      return policy.tenantUuid === tenantUuid || policy.shared;
    }
    return false;
  }

  async list(caller: Caller, q: ListQuery & { recurse?: boolean }): Promise<ListResult<Policy>> {
    const tenants = await listTenants(this.tree, caller, q.recurse);
    return this.store.listPolicies(await this.scopeOf(caller.tenantUuid, tenants), q);
  }

  /** A policy by uuid or slug (see above); 404 unknown-policy when the caller sees none. */
  async get(caller: Caller, id: string): Promise<Policy> {
    const policy = await this.find(caller, id);
    if (policy === null) throw new NotFoundError('unknown-policy', 'policies', id);
    return policy;
  }

  private async find(caller: Caller, id: string): Promise<Policy | null> {
    if (UUID.test(id)) {
      const policy = await this.store.getPolicy(id.toLowerCase());
      return policy !== null && (await this.callerSees(caller, policy)) ? policy : null;
    }
    const own = await this.store.getPolicyBySlug(caller.tenantUuid, id);
    if (own !== null) return own;
    for (const ancestor of await this.tree.ancestors(caller.tenantUuid)) {
      const policy = await this.store.getPolicyBySlug(ancestor, id);
      if (policy?.shared) return policy;
    }
    return null;
  }

  async create(caller: Caller, input: PolicyInput): Promise<Policy> {
    assertMayGrant(caller.token, input.acl);
    const uuid = input.uuid ?? randomUUID();
    return this.conflicts(() =>
      this.store.createPolicy({
        uuid,
        tenantUuid: caller.tenantUuid,
        name: input.name,
        slug: input.slug ?? slugify(input.name, `p_${uuid.slice(0, 8)}`),
        description: input.description,
        acl: unique(input.acl),
        shared: input.shared,
        readOnly: false,
      }),
    );
  }

  async update(caller: Caller, uuid: string, input: Omit<PolicyInput, 'uuid'>): Promise<Policy> {
    const before = await this.editable(caller, uuid);
    const acl = unique(input.acl);
    assertMayGrant(
      caller.token,
      acl.filter((a) => !before.acl.includes(a)),
    );
    assertMayRevoke(
      caller.token,
      before.acl.filter((a) => !acl.includes(a)),
    );
    if (before.shared && !input.shared) await this.assertUnusedBelow(before);
    const updated = await this.conflicts(() =>
      this.store.updatePolicy(before.uuid, {
        name: input.name,
        description: input.description,
        acl,
        shared: input.shared,
        ...(input.slug === undefined ? {} : { slug: input.slug }),
      }),
    );
    if (updated === null) throw new NotFoundError('unknown-policy', 'policies', uuid);
    return updated;
  }

  async delete(caller: Caller, uuid: string): Promise<void> {
    const policy = await this.editable(caller, uuid);
    // Deleting takes the policy's accesses away from its users and groups.
    assertMayRevoke(caller.token, policy.acl);
    await this.store.deletePolicy(policy.uuid);
  }

  async addAccess(caller: Caller, uuid: string, access: string): Promise<void> {
    const policy = await this.editable(caller, uuid);
    if (policy.acl.includes(access)) return;
    assertMayGrant(caller.token, [access]);
    if (policy.acl.length >= MAX_ACL_ENTRIES) {
      throw new InvalidDataError(`A policy holds at most ${MAX_ACL_ENTRIES} accesses`, {
        acl: { constraint_id: 'max_items', message: `at most ${MAX_ACL_ENTRIES}` },
      });
    }
    await this.store.updatePolicy(policy.uuid, { acl: [...policy.acl, access] });
  }

  async removeAccess(caller: Caller, uuid: string, access: string): Promise<void> {
    const policy = await this.editable(caller, uuid);
    if (!policy.acl.includes(access)) return;
    assertMayRevoke(caller.token, [access]);
    await this.store.updatePolicy(policy.uuid, { acl: policy.acl.filter((a) => a !== access) });
  }

  async listOfUser(caller: Caller, userUuid: string, q: ListQuery): Promise<ListResult<Policy>> {
    const user = await this.users.get(userUuid, caller.tenantUuid);
    return this.store.listPolicies({ ...(await this.scopeOf(user.tenantUuid)), userUuid: user.uuid }, q);
  }

  async linkUser(caller: Caller, userUuid: string, policyUuid: string): Promise<void> {
    const user = await this.users.get(userUuid, caller.tenantUuid);
    const policy = await this.get(caller, policyUuid);
    if (!(await this.isVisibleTo(policy, user.tenantUuid))) throw new NotFoundError('unknown-policy', 'policies', policyUuid);
    // Linking confers the policy's accesses: the caller must hold them all.
    assertMayGrant(caller.token, policy.acl);
    await this.store.addUserPolicy(user.uuid, policy.uuid);
  }

  async unlinkUser(caller: Caller, userUuid: string, policyUuid: string): Promise<void> {
    const user = await this.users.get(userUuid, caller.tenantUuid);
    const policy = await this.get(caller, policyUuid);
    assertMayRevoke(caller.token, policy.acl);
    await this.store.removeUserPolicy(user.uuid, policy.uuid);
  }

  /**
   * Unsharing hides the policy from the tenants below, but their links would
   * still grant it (and let their admins hand it on): refused while any user
   * or group of another tenant uses it, naming them.
   */
  private async assertUnusedBelow(policy: Policy): Promise<void> {
    const links = await this.store.listForeignPolicyLinks(policy.uuid);
    if (links.users.length === 0 && links.groups.length === 0) return;
    const message = 'The policy is still used by users or groups of other tenants: unlink it there first';
    throw new DomainError(
      409,
      'conflict',
      message,
      {
        shared: {
          constraint_id: 'in_use',
          message,
          users: links.users.map((u) => ({ uuid: u.uuid, tenant_uuid: u.tenantUuid })),
          groups: links.groups.map((g) => ({ uuid: g.uuid, tenant_uuid: g.tenantUuid })),
        },
      },
      { resource: 'policies' },
    );
  }

  private async callerSees(caller: Caller, policy: Policy): Promise<boolean> {
    if (await isVisible(this.tree, caller, policy.tenantUuid)) return true;
    return policy.shared && (await this.tree.isSameOrDescendant(policy.tenantUuid, caller.tenantUuid));
  }

  /** Visible, in the caller's subtree (a shared ancestor policy is not the caller's to edit), and not read-only. */
  private async editable(caller: Caller, uuid: string): Promise<Policy> {
    const policy = await this.get(caller, uuid);
    if (policy.readOnly)
      throw new ForbiddenError('This policy is managed by configuration and is read-only', 'policies', { uuid: policy.uuid });
    if (!(await isVisible(this.tree, caller, policy.tenantUuid))) {
      throw new ForbiddenError('A shared policy can only be changed from its own tenant', 'policies', { uuid: policy.uuid });
    }
    return policy;
  }

  private async conflicts<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof StoreConflictError) {
        throw new ConflictError('policies', err.field, `A policy with this ${err.field ?? 'identifier'} already exists`);
      }
      throw err;
    }
  }
}

/** A policy id of this shape is a uuid; any other is a slug. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function unique(acl: string[]): string[] {
  return [...new Set(acl)];
}
