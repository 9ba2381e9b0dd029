// Tenants: a tree under the top tenant ("master"). A caller sees the acting
// tenant and its descendants. Each tenant gets its own "all users" group.
// Domain names are stored lower-cased and belong to one tenant at most, across
// the whole tree (409 on domain_names otherwise).
// Deleting a tenant removes its users, groups and policies, and revokes its
// users' tokens; a tenant with sub-tenants, the caller's own tenant and the
// top tenant cannot be deleted.
// A tenant may move under another tenant of the caller's subtree (never under
// itself or one of its descendants, never out of the caller's subtree); the
// tenant tree of this instance sees the new parent at once, those of the
// other instances on the tenant notice committed with it (tenant-tree.ts).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ConflictError, DomainError, ForbiddenError, InvalidDataError, NotFoundError, StateConflictError } from '../errors.js';
import { StoreConflictError } from '../storage-errors.js';
import type { Tenant, TenantAddress, TenantAuthenticationMethod } from './types.js';
import type { ListQuery, ListResult } from '../lists.js';
import type { IdentityStore } from './store.js';
import type { TokenRevocations } from './token-revocations.js';
import { AclBuilder } from './acl-builder.js';
import { allUsersGroup } from './groups.js';
import { assertMayActAsUsers, type GrantedAcls } from './privileges.js';
import { isVisible, slugify, type Caller } from './scope.js';
import type { TenantTree } from './tenant-tree.js';

/** What POST and PUT give: PUT replaces every field (absent: null, [], empty address, native), as wazo-auth. */
export interface TenantDetails {
  contactUuid: string | null;
  phone: string | null;
  address: TenantAddress;
  defaultAuthenticationMethod: TenantAuthenticationMethod;
}

export interface TenantInput extends TenantDetails {
  uuid?: string;
  name: string | null;
  slug?: string;
  parentUuid?: string;
  domainNames: string[];
}

export interface TenantUpdateInput extends TenantDetails {
  name: string | null;
  slug?: string;
  domainNames: string[];
}

/** A domain name as GET /tenants/{uuid}/domains lists it. */
export interface TenantDomain {
  /** Stable: derived from the name (names are unique across tenants). */
  uuid: string;
  name: string;
}

export class TenantService {
  constructor(
    private readonly store: IdentityStore,
    private readonly tree: TenantTree,
    private readonly tokens: TokenRevocations,
    /** What users' tokens get, weighed before their default authentication method changes (AclBuilder). */
    private readonly grantedAcls: GrantedAcls = new AclBuilder(store, null),
  ) {}

  /** The acting tenant and all its descendants (a tenant list is always the subtree). */
  async list(caller: Caller, q: ListQuery): Promise<ListResult<Tenant>> {
    return this.store.listTenants(await this.tree.subtree(caller.tenantUuid), q);
  }

  async get(caller: Caller, uuid: string): Promise<Tenant> {
    const tenant = await this.store.getTenant(uuid);
    if (tenant === null || !(await isVisible(this.tree, caller, tenant.uuid))) {
      throw new NotFoundError('unknown-tenant', 'tenants', uuid);
    }
    return tenant;
  }

  async create(caller: Caller, input: TenantInput): Promise<Tenant> {
    const parentUuid = input.parentUuid ?? caller.tenantUuid;
    if (!(await isVisible(this.tree, caller, parentUuid)) || !(await this.tree.exists(parentUuid))) {
      throw new InvalidDataError('Unknown parent tenant', {
        parent_uuid: { constraint_id: 'exists', message: 'no such tenant' },
      });
    }
    const uuid = input.uuid ?? randomUUID();
    const derived = input.slug === undefined;
    const slug = input.slug ?? slugify(input.name, `t_${uuid.slice(0, 8)}`);
    await this.assertContact(caller, input.contactUuid);
    const create = (s: string) =>
      this.store.transaction(async (tx) => {
        const tenant = await tx.createTenant({
          uuid,
          name: input.name,
          slug: s,
          parentUuid,
          domainNames: input.domainNames,
          contactUuid: input.contactUuid,
          phone: input.phone,
          address: input.address,
          defaultAuthenticationMethod: input.defaultAuthenticationMethod,
        });
        await tx.createGroup(allUsersGroup(tenant.uuid));
        return tenant;
      });
    try {
      return await create(slug);
    } catch (err) {
      // A slug derived from the name may be taken: one more try with a suffix.
      if (derived && err instanceof StoreConflictError && err.field === 'slug') {
        return this.conflicts(() => create(`${slug.slice(0, 73)}_${randomBytes(3).toString('hex')}`));
      }
      throw this.conflict(err);
    }
  }

  async update(caller: Caller, uuid: string, input: TenantUpdateInput): Promise<Tenant> {
    const before = await this.get(caller, uuid);
    // A contact kept as it was is not checked again (its user may be one the caller cannot see).
    if (input.contactUuid !== before.contactUuid) await this.assertContact(caller, input.contactUuid);
    // The default decides how the tenant's users left at `default` log in:
    // changing it (to or from anything) requires granting all their accesses
    // (no escalation, docs/isolation.md).
    if (input.defaultAuthenticationMethod !== (before.defaultAuthenticationMethod ?? 'native')) {
      await assertMayActAsUsers(caller.token, this.grantedAcls, { tenantUuid: before.uuid, methods: ['default'] });
    }
    const updated = await this.conflicts(() =>
      this.store.updateTenant(before.uuid, {
        name: input.name,
        domainNames: input.domainNames,
        ...(input.slug === undefined ? {} : { slug: input.slug }),
        contactUuid: input.contactUuid,
        phone: input.phone,
        address: input.address,
        defaultAuthenticationMethod: input.defaultAuthenticationMethod,
      }),
    );
    if (updated === null) throw new NotFoundError('unknown-tenant', 'tenants', uuid);
    return updated;
  }

  /** The tenant's domain names, in its order. */
  async domains(caller: Caller, uuid: string): Promise<TenantDomain[]> {
    const tenant = await this.get(caller, uuid);
    return (tenant.domainNames ?? []).map((name) => ({ uuid: domainUuid(name), name }));
  }

  /**
   * Moves a tenant (and its subtree) under another. Both must be in the
   * acting tenant's subtree (404 otherwise, as for any tenant out of sight);
   * refused when the parent is the tenant or below it (a cycle), for the
   * caller's own tenant and the top tenant, and while the subtree is linked
   * to policies of tenants it would leave.
   */
  async setParent(caller: Caller, uuid: string, parentUuid: string): Promise<void> {
    const tenant = await this.get(caller, uuid);
    const parent = await this.get(caller, parentUuid);
    if (tenant.parentUuid === null) throw new ForbiddenError('The top tenant cannot be moved', 'tenants', { uuid: tenant.uuid });
    if (tenant.uuid === caller.token.tenantUuid) {
      throw new ForbiddenError('A caller cannot move its own tenant', 'tenants', { uuid: tenant.uuid });
    }
    if (tenant.parentUuid === parent.uuid) return;
    const move = await this.store.moveTenant(tenant.uuid, parent.uuid);
    switch (move.outcome) {
      case 'moved':
        this.tree.parentChanged(tenant.uuid);
        return;
      case 'unknown':
        // Deleted since it was read.
        throw new NotFoundError('unknown-tenant', 'tenants', uuid);
      case 'cycle':
        throw new InvalidDataError('A tenant cannot move under itself or one of its sub-tenants', {
          parent_uuid: { constraint_id: 'not_descendant', message: 'the new parent is the tenant or one of its sub-tenants' },
        });
      case 'too-deep':
        throw new InvalidDataError('The tenant tree would be too deep', {
          parent_uuid: { constraint_id: 'max_depth', message: 'the subtree would hang too deep' },
        });
      case 'linked': {
        const message = 'Users or groups of the tenant are linked to policies of tenants it would leave: unlink them first';
        throw new DomainError(
          409,
          'conflict',
          message,
          {
            parent_uuid: {
              constraint_id: 'policies_in_use',
              message,
              policies: move.policyUuids,
              users: move.links.users.map((u) => ({ uuid: u.uuid, tenant_uuid: u.tenantUuid })),
              groups: move.links.groups.map((g) => ({ uuid: g.uuid, tenant_uuid: g.tenantUuid })),
            },
          },
          { resource: 'tenants' },
        );
      }
    }
  }

  async delete(caller: Caller, uuid: string): Promise<void> {
    const tenant = await this.get(caller, uuid);
    if (tenant.parentUuid === null) throw new ForbiddenError('The top tenant cannot be deleted', 'tenants', { uuid });
    if (tenant.uuid === caller.token.tenantUuid) {
      throw new ForbiddenError('A caller cannot delete its own tenant', 'tenants', { uuid });
    }
    if (await this.store.hasChildTenants(uuid)) {
      throw new StateConflictError(
        'tenants',
        'uuid',
        'has-sub-tenants',
        'A tenant with sub-tenants cannot be deleted: delete them first',
      );
    }
    let removal;
    try {
      removal = await this.store.deleteTenant(uuid);
    } catch (err) {
      // A sub-tenant created since the check above: the foreign key refuses.
      if (err instanceof StoreConflictError) {
        throw new StateConflictError(
          'tenants',
          'uuid',
          'has-sub-tenants',
          'A tenant with sub-tenants cannot be deleted: delete them first',
        );
      }
      throw err;
    }
    if (removal === null) throw new NotFoundError('unknown-tenant', 'tenants', uuid);
    this.tokens.forget(removal);
    this.tree.forget(uuid);
  }

  /** A contact is a user the caller can see (its tenant or below). */
  private async assertContact(caller: Caller, contactUuid: string | null): Promise<void> {
    if (contactUuid === null) return;
    const user = await this.store.getUser(contactUuid);
    if (user === null || !(await isVisible(this.tree, caller, user.tenantUuid))) throw unknownContact();
  }

  private async conflicts<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw this.conflict(err);
    }
  }

  private conflict(err: unknown): unknown {
    if (err instanceof StoreConflictError) {
      // Domain names are unique across all tenants (case-insensitively): a
      // login by domain_name must name one tenant, and its LDAP server.
      if (err.field === 'domain_names') {
        return new ConflictError('tenants', 'domain_names', 'A domain name in domain_names belongs to another tenant');
      }
      // The contact user was deleted since it was checked.
      if (err.field === 'contact') return unknownContact();
      return new ConflictError('tenants', err.field, `A tenant with this ${err.field ?? 'identifier'} already exists`);
    }
    return err;
  }
}

function unknownContact(): InvalidDataError {
  return new InvalidDataError('contact is not a known user', { contact: { constraint_id: 'exists', message: 'no such user' } });
}

/** Namespace of the domain uuids (an arbitrary, fixed uuid). */
const DOMAIN_NAMESPACE = Buffer.from('6f1c1a4e8e2d4b5fa0c3d1b27e9c4a10', 'hex');

/** A name-based (version 5, RFC 9562) uuid of a domain name: the same name, the same uuid, on every instance. */
export function domainUuid(name: string): string {
  const hash = createHash('sha1').update(DOMAIN_NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
