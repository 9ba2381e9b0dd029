// Who is asking, and on which tenant: the IAM services decide visibility from
// this (resources outside the acting tenant's subtree do not exist for them).
import type { TokenRecord } from '../tokens/types.js';
import type { TenantTree } from './tenant-tree.js';

export interface Caller {
  /** The tenant the request acts on: Wazo-Tenant, or the caller's own (already checked to be in its tree). */
  tenantUuid: string;
  token: TokenRecord;
}

/** Tenants a list covers: the acting tenant, or its whole subtree with recurse. */
export async function listTenants(tree: TenantTree, caller: Caller, recurse: boolean | undefined): Promise<string[]> {
  return recurse ? tree.subtree(caller.tenantUuid) : [caller.tenantUuid];
}

/** Is a resource of `tenantUuid` visible to the caller (same tenant or below the acting one)? */
export function isVisible(tree: TenantTree, caller: Caller, tenantUuid: string): Promise<boolean> {
  return tree.isSameOrDescendant(caller.tenantUuid, tenantUuid);
}

/** Slugs: letters, digits and '_'; derived from a name when not given. */
export const SLUG_PATTERN = '^[A-Za-z0-9_]{1,80}$';

export function slugify(name: string | null, fallback: string): string {
  const derived = (name ?? '')
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 80);
  return derived.length > 0 ? derived : fallback.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 80);
}
