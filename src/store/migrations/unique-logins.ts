// Migrations 8 and 9: logins and domain names that name one thing only
// (issue 16, findings 7 and 1), for both dialects.
// Kept in its own file so features add their schema without editing each other's.
//
// 8: a domain name belongs to one tenant at most. `login by domain_name`
//    picks the tenant, and so the LDAP server that receives the password:
//    two tenants holding one name let either route the other's logins.
//    tenant_domains holds one row per (lower-cased) name; its primary key is
//    the uniqueness rule, its CHECK that the name is stored lower-cased, so
//    that it is unique case-insensitively. tenants.domain_names stays the
//    tenant's list as the API shows it; the store writes both together.
// 9: a username equal to another user's email address (or the reverse) makes
//    a login string name two users. Writes refuse that from now on (the
//    store, in the writing transaction); pairs already stored are not
//    touched: this migration reports them, and the login lookup refuses such
//    a login for both users until an operator changes one of the two
//    (docs/isolation.md, "Unique logins and domains").
import { sql } from 'kysely';
import type { Transaction } from 'kysely';
import type { DatabaseSchema } from '../database-schema.js';
import type { Migration, MigrationLogger } from './migration.js';

// The same statements suit both engines.
const tenantDomainsSql = `
CREATE TABLE tenant_domains (
  name        TEXT NOT NULL CONSTRAINT tenant_domains_pkey PRIMARY KEY
                CONSTRAINT tenant_domains_name_check CHECK (name = lower(name)),
  tenant_uuid TEXT NOT NULL CONSTRAINT tenant_domains_tenant_uuid_fkey
                REFERENCES tenants (uuid) ON DELETE CASCADE
);
CREATE INDEX tenant_domains_tenant_uuid_idx ON tenant_domains (tenant_uuid);
`;

interface TenantAge {
  uuid: string;
  parent_uuid: string | null;
  domain_names: string;
  first_user_at: number | string | null;
}

/**
 * Fills tenant_domains from tenants.domain_names: each name lower-cased, kept
 * by the oldest tenant holding it, removed (and logged) from the others.
 *
 * "Oldest": tenants have no creation time. A tenant existed before any of its
 * users and before its sub-tenants, so its age is estimated by the earliest
 * users.created_at in its subtree (itself and its descendants). Ties, and
 * tenants whose subtree has no user, go shallower first (a parent is older
 * than its children), then by uuid. The same order on both engines, whatever
 * the physical order of the rows.
 */
async function uniqueTenantDomains(trx: Transaction<DatabaseSchema>, logger: MigrationLogger): Promise<void> {
  const { rows } = await sql<TenantAge>`
    select t.uuid, t.parent_uuid, t.domain_names,
           (select min(u.created_at) from users u where u.tenant_uuid = t.uuid) as first_user_at
    from tenants t`.execute(trx);
  const byUuid = new Map(rows.map((r) => [r.uuid, r]));
  const age = new Map<string, number>();
  const depth = new Map<string, number>();
  for (const r of rows) {
    depth.set(r.uuid, depthOf(r, byUuid));
    if (r.first_user_at === null) continue;
    // Every ancestor is at least as old as this tenant's first user.
    const at = Number(r.first_user_at);
    const seen = new Set<string>();
    for (let t: TenantAge | undefined = r; t !== undefined && !seen.has(t.uuid); t = byUuid.get(t.parent_uuid ?? '')) {
      seen.add(t.uuid);
      age.set(t.uuid, Math.min(age.get(t.uuid) ?? Infinity, at));
    }
  }
  const oldestFirst = [...rows].sort(
    (a, b) =>
      (age.get(a.uuid) ?? Infinity) - (age.get(b.uuid) ?? Infinity) ||
      (depth.get(a.uuid) ?? 0) - (depth.get(b.uuid) ?? 0) ||
      (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0),
  );

  const owner = new Map<string, string>();
  for (const tenant of oldestFirst) {
    const stored = parseNames(tenant.domain_names);
    const kept: string[] = [];
    for (const name of stored.map((n) => n.toLowerCase())) {
      if (kept.includes(name)) continue;
      const holder = owner.get(name);
      if (holder !== undefined) {
        logger.warn(
          { domain_name: name, tenant_uuid: tenant.uuid, kept_by_tenant_uuid: holder },
          'tenant domain name held by an older tenant: removed from this one',
        );
        continue;
      }
      owner.set(name, tenant.uuid);
      kept.push(name);
      await sql`insert into tenant_domains (name, tenant_uuid) values (${name}, ${tenant.uuid})`.execute(trx);
    }
    if (JSON.stringify(kept) !== JSON.stringify(stored)) {
      await sql`update tenants set domain_names = ${JSON.stringify(kept)} where uuid = ${tenant.uuid}`.execute(trx);
    }
  }
}

function depthOf(tenant: TenantAge, byUuid: ReadonlyMap<string, TenantAge>): number {
  let depth = 0;
  const seen = new Set<string>([tenant.uuid]);
  for (let p = byUuid.get(tenant.parent_uuid ?? ''); p !== undefined && !seen.has(p.uuid); p = byUuid.get(p.parent_uuid ?? '')) {
    seen.add(p.uuid);
    depth++;
  }
  return depth;
}

/** The stored JSON array; anything that is not a string in it is dropped. */
function parseNames(json: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [];
  }
  return Array.isArray(parsed) ? parsed.filter((n): n is string => typeof n === 'string') : [];
}

/** Reports (never changes) users whose username is another user's email address. */
async function reportSharedLogins(trx: Transaction<DatabaseSchema>, logger: MigrationLogger): Promise<void> {
  const { rows } = await sql<{
    username_user_uuid: string;
    username_tenant_uuid: string;
    email_user_uuid: string;
    email_tenant_uuid: string;
  }>`
    select u.uuid as username_user_uuid, u.tenant_uuid as username_tenant_uuid,
           e.uuid as email_user_uuid, e.tenant_uuid as email_tenant_uuid
    from users u join users e on lower(e.email_address) = lower(u.username) and e.uuid <> u.uuid
    order by u.uuid`.execute(trx);
  for (const pair of rows) {
    logger.warn(
      { ...pair },
      "a username equals another user's email address: logins by it are refused for both until one of them is changed",
    );
  }
}

function uniqueLogins(): Migration[] {
  return [
    { version: 8, name: 'unique tenant domain names', sql: tenantDomainsSql, run: uniqueTenantDomains },
    { version: 9, name: 'report logins shared by a username and an email', sql: '', run: reportSharedLogins },
  ];
}

export const uniqueLoginsSqlite: readonly Migration[] = uniqueLogins();
export const uniqueLoginsPostgres: readonly Migration[] = uniqueLogins();
