// Tenant ancestry checks ("is X the token's tenant or one of its descendants?").
// Parent lookups are remembered. A parent changes only by a re-parent
// (PUT /tenants/{uuid}/parent/{parent}), which tells this tree at once
// (parentChanged): the next check on this instance walks the new parent.
// (Other instances keep their remembered parent: not yet told.)
import type { StoreTx } from '../store/types.js';

const MAX_DEPTH = 64;
/** Tenant identifiers are uuids; anything else cannot name a tenant (and never reaches the store). */
const TENANT_ID = /^[0-9A-Za-z-]{1,64}$/;

export class TenantTree {
  private readonly parents = new Map<string, string | null>();
  /** Bumped at each change: a lookup that started before it does not remember what it read. */
  private generation = 0;

  constructor(private readonly store: StoreTx) {}

  async isSameOrDescendant(ancestor: string, candidate: string): Promise<boolean> {
    if (!TENANT_ID.test(candidate)) return false;
    let current: string | null = candidate;
    for (let depth = 0; current !== null && depth < MAX_DEPTH; depth += 1) {
      if (current === ancestor) return true;
      current = await this.parentOf(current);
    }
    return false;
  }

  async exists(uuid: string): Promise<boolean> {
    if (!TENANT_ID.test(uuid)) return false;
    return (await this.store.getTenant(uuid)) !== null;
  }

  /** The tenant and every descendant (uuids); [] for an unknown tenant. */
  async subtree(root: string): Promise<string[]> {
    if (!TENANT_ID.test(root)) return [];
    return this.store.listTenantSubtree(root);
  }

  /** The strict ancestors of a tenant, nearest first. */
  async ancestors(uuid: string): Promise<string[]> {
    const found: string[] = [];
    let current = TENANT_ID.test(uuid) ? await this.parentOf(uuid) : null;
    for (let depth = 0; current !== null && depth < MAX_DEPTH; depth += 1) {
      found.push(current);
      current = await this.parentOf(current);
    }
    return found;
  }

  /** Forget a tenant (it was deleted). */
  forget(uuid: string): void {
    this.generation += 1;
    this.parents.delete(uuid);
  }

  /** The tenant has a new parent (committed): checks from now on see it. */
  parentChanged(uuid: string): void {
    this.forget(uuid);
  }

  private async parentOf(uuid: string): Promise<string | null> {
    const known = this.parents.get(uuid);
    if (known !== undefined) return known;
    const generation = this.generation;
    const tenant = await this.store.getTenant(uuid);
    if (tenant === null) return null;
    // A change during the read: what was read may be the old parent.
    if (generation !== this.generation) return tenant.parentUuid;
    if (this.parents.size > 10_000) this.parents.clear();
    this.parents.set(uuid, tenant.parentUuid);
    return tenant.parentUuid;
  }
}
