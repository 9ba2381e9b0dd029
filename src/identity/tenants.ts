// Tenants: a tree under the top tenant ("master"). A caller sees the acting
// tenant and its descendants. Each tenant gets its own "all users" group.
// Deleting a tenant removes its users, groups and policies, and revokes its
// users' tokens; a tenant with sub-tenants, the caller's own tenant and the
// top tenant cannot be deleted.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  ConflictError, ForbiddenError, InvalidDataError, NotFoundError, StateConflictError,
} from '../errors.js';
import { StoreConflictError } from '../store/errors.js';
import type { ListQuery, ListResult, Store, Tenant } from '../store/types.js';
import type { TokenService } from '../tokens/service.js';
import { allUsersGroup } from './groups.js';
import { isVisible, slugify, type Caller } from './scope.js';
import type { TenantTree } from './tenant-tree.js';

export interface TenantInput {
  uuid?: string;
  name: string | null;
  slug?: string;
  parentUuid?: string;
  domainNames: string[];
}

export class TenantService {
  constructor(
    private readonly store: Store,
    private readonly tree: TenantTree,
    private readonly tokens: TokenService,
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
      throw new InvalidDataError('Unknown parent tenant', { parent_uuid: { constraint_id: 'exists', message: 'no such tenant' } });
    }
    const uuid = input.uuid ?? randomUUID();
    const derived = input.slug === undefined;
    const slug = input.slug ?? slugify(input.name, `t_${uuid.slice(0, 8)}`);
    const create = (s: string) => this.store.transaction(async (tx) => {
      const tenant = await tx.createTenant({ uuid, name: input.name, slug: s, parentUuid, domainNames: input.domainNames });
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

  async update(caller: Caller, uuid: string, input: { name: string | null; slug?: string; domainNames: string[] }): Promise<Tenant> {
    await this.get(caller, uuid);
    const updated = await this.conflicts(() => this.store.updateTenant(uuid, {
      name: input.name, domainNames: input.domainNames, ...(input.slug === undefined ? {} : { slug: input.slug }),
    }));
    if (updated === null) throw new NotFoundError('unknown-tenant', 'tenants', uuid);
    return updated;
  }

  async delete(caller: Caller, uuid: string): Promise<void> {
    const tenant = await this.get(caller, uuid);
    if (tenant.parentUuid === null) throw new ForbiddenError('The top tenant cannot be deleted', 'tenants', { uuid });
    if (tenant.uuid === caller.token.tenantUuid) {
      throw new ForbiddenError('A caller cannot delete its own tenant', 'tenants', { uuid });
    }
    if (await this.store.hasChildTenants(uuid)) {
      throw new StateConflictError('tenants', 'uuid', 'has-sub-tenants', 'A tenant with sub-tenants cannot be deleted: delete them first');
    }
    let removal;
    try {
      removal = await this.store.deleteTenant(uuid);
    } catch (err) {
      // A sub-tenant created since the check above: the foreign key refuses.
      if (err instanceof StoreConflictError) {
        throw new StateConflictError('tenants', 'uuid', 'has-sub-tenants', 'A tenant with sub-tenants cannot be deleted: delete them first');
      }
      throw err;
    }
    if (removal === null) throw new NotFoundError('unknown-tenant', 'tenants', uuid);
    this.tokens.forget(removal);
    this.tree.forget(uuid);
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
      return new ConflictError('tenants', err.field, `A tenant with this ${err.field ?? 'identifier'} already exists`);
    }
    return err;
  }
}
