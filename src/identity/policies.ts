// Policies: named ACLs of a tenant. A policy is visible in its tenant and the
// tenants below; a `shared` one is also visible from the tenants below its own
// (they may link it, not edit it). Policies from configuration
// (default_policies, the bootstrap administrator's) are read-only.
// Every edit obeys ./privileges.ts: no one hands out more than it holds.
import { randomUUID } from 'node:crypto';
import { ConflictError, ForbiddenError, InvalidDataError, NotFoundError } from '../errors.js';
import { MAX_ACL_ENTRIES } from '../security/limits.js';
import { StoreConflictError } from '../store/errors.js';
import type { ListQuery, ListResult, Policy, PolicyFilter, Store } from '../store/types.js';
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
    private readonly store: Store,
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

  async get(caller: Caller, uuid: string): Promise<Policy> {
    const policy = await this.store.getPolicy(uuid);
    if (policy === null || !(await this.callerSees(caller, policy))) {
      throw new NotFoundError('unknown-policy', 'policies', uuid);
    }
    return policy;
  }

  async create(caller: Caller, input: PolicyInput): Promise<Policy> {
    assertMayGrant(caller.token, input.acl);
    const uuid = input.uuid ?? randomUUID();
    return this.conflicts(() => this.store.createPolicy({
      uuid,
      tenantUuid: caller.tenantUuid,
      name: input.name,
      slug: input.slug ?? slugify(input.name, `p_${uuid.slice(0, 8)}`),
      description: input.description,
      acl: unique(input.acl),
      shared: input.shared,
      readOnly: false,
    }));
  }

  async update(caller: Caller, uuid: string, input: Omit<PolicyInput, 'uuid'>): Promise<Policy> {
    const before = await this.editable(caller, uuid);
    const acl = unique(input.acl);
    assertMayGrant(caller.token, acl.filter((a) => !before.acl.includes(a)));
    assertMayRevoke(caller.token, before.acl.filter((a) => !acl.includes(a)));
    const updated = await this.conflicts(() => this.store.updatePolicy(uuid, {
      name: input.name,
      description: input.description,
      acl,
      shared: input.shared,
      ...(input.slug === undefined ? {} : { slug: input.slug }),
    }));
    if (updated === null) throw new NotFoundError('unknown-policy', 'policies', uuid);
    return updated;
  }

  async delete(caller: Caller, uuid: string): Promise<void> {
    const policy = await this.editable(caller, uuid);
    // Deleting takes the policy's accesses away from its users and groups.
    assertMayRevoke(caller.token, policy.acl);
    await this.store.deletePolicy(uuid);
  }

  async addAccess(caller: Caller, uuid: string, access: string): Promise<void> {
    const policy = await this.editable(caller, uuid);
    if (policy.acl.includes(access)) return;
    assertMayGrant(caller.token, [access]);
    if (policy.acl.length >= MAX_ACL_ENTRIES) {
      throw new InvalidDataError(`A policy holds at most ${MAX_ACL_ENTRIES} accesses`, { acl: { constraint_id: 'max_items', message: `at most ${MAX_ACL_ENTRIES}` } });
    }
    await this.store.updatePolicy(uuid, { acl: [...policy.acl, access] });
  }

  async removeAccess(caller: Caller, uuid: string, access: string): Promise<void> {
    const policy = await this.editable(caller, uuid);
    if (!policy.acl.includes(access)) return;
    assertMayRevoke(caller.token, [access]);
    await this.store.updatePolicy(uuid, { acl: policy.acl.filter((a) => a !== access) });
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

  private async callerSees(caller: Caller, policy: Policy): Promise<boolean> {
    if (await isVisible(this.tree, caller, policy.tenantUuid)) return true;
    return policy.shared && (await this.tree.isSameOrDescendant(policy.tenantUuid, caller.tenantUuid));
  }

  /** Visible, in the caller's subtree (a shared ancestor policy is not the caller's to edit), and not read-only. */
  private async editable(caller: Caller, uuid: string): Promise<Policy> {
    const policy = await this.get(caller, uuid);
    if (policy.readOnly) throw new ForbiddenError('This policy is managed by configuration and is read-only', 'policies', { uuid });
    if (!(await isVisible(this.tree, caller, policy.tenantUuid))) {
      throw new ForbiddenError('A shared policy can only be changed from its own tenant', 'policies', { uuid });
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

function unique(acl: string[]): string[] {
  return [...new Set(acl)];
}
