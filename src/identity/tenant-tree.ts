// Tenant ancestry checks ("is X the token's tenant or one of its descendants?").
// Parent lookups are remembered, like token records (tokens/cache.ts), and
// under the same rule: nothing held only in this process may outlive a change
// made elsewhere.
//  - This instance's own changes (delete, re-parent) tell the tree at once
//    (forget, parentChanged).
//  - Every instance's changes commit a tenant notice (PostgreSQL NOTIFY on
//    xivo_auth_tenant_changed, in the changing transaction), which the
//    revocation listener delivers here (changed): the other instances forget
//    those tenants within milliseconds.
//  - While notices may be missed (the listener is down: disable), nothing is
//    remembered and every lookup reads the store (fail closed); when they flow
//    again (enable), the tree starts from empty.
//  - SQLite: another connection's commits (`xivo-auth import` from another
//    process) send no notice; `poll` (PRAGMA data_version) reports them
//    before each walk up the tree.
import type { TenantTreeStore } from './store.js';

const MAX_DEPTH = 64;
/** Tenant identifiers are uuids; anything else cannot name a tenant (and never reaches the store). */
const TENANT_ID = /^[0-9A-Za-z-]{1,64}$/;

export class TenantTree {
  private readonly parents = new Map<string, string | null>();
  /** Bumped at each change: a lookup that started before it does not remember what it read. */
  private generation = 0;
  /** Off until tenant notices flow (enable), and whenever they may be missed (disable). */
  private active = false;
  /** Reports changes no notice carries (SQLite: another connection's commits), before each use. */
  private poll: (() => void) | null = null;

  constructor(private readonly store: TenantTreeStore) {}

  /** Tenant notices flow: remembering is safe again (from empty). */
  enable(): void {
    this.flush();
    this.active = true;
  }

  /** Tenant notices may be missed: forget everything, read the store for every lookup until enabled. */
  disable(): void {
    this.active = false;
    this.flush();
  }

  get isActive(): boolean {
    return this.active;
  }

  /** Parents remembered (tests). */
  get size(): number {
    return this.parents.size;
  }

  /** Called before each walk up the tree (see RevocationWatch.poll): about 2 µs on SQLite. */
  pollWith(poll: (() => void) | undefined): void {
    this.poll = poll ?? null;
  }

  /** These tenants changed somewhere (a notice); null: any tenant may have. */
  changed(uuids: readonly string[] | null): void {
    if (uuids === null) {
      this.flush();
      return;
    }
    this.generation += 1;
    for (const uuid of uuids) this.parents.delete(uuid);
  }

  private flush(): void {
    this.generation += 1;
    this.parents.clear();
  }

  async isSameOrDescendant(ancestor: string, candidate: string): Promise<boolean> {
    if (!TENANT_ID.test(candidate)) return false;
    if (candidate === ancestor) return true;
    this.poll?.();
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
    if (!TENANT_ID.test(uuid)) return found;
    this.poll?.();
    let current = await this.parentOf(uuid);
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
    if (!this.active) return (await this.store.getTenant(uuid))?.parentUuid ?? null;
    const known = this.parents.get(uuid);
    if (known !== undefined) return known;
    const generation = this.generation;
    const tenant = await this.store.getTenant(uuid);
    if (tenant === null) return null;
    // A change (or the listener lost) during the read: what was read may be the old parent.
    if (!this.active || generation !== this.generation) return tenant.parentUuid;
    if (this.parents.size > 10_000) this.parents.clear();
    this.parents.set(uuid, tenant.parentUuid);
    return tenant.parentUuid;
  }
}
