// `xivo-auth import wazo-auth`: writes what a wazo-auth database holds
// (./source.ts) into this store, through its Kysely instance and typed schema.
//
// - Same uuids, so that the other daemons of the platform, which keep tenant
//   and user uuids, and every token they hold, keep working.
// - Idempotent: each row is compared with what the store holds under its key;
//   equal rows are "unchanged", others are updated, missing ones created. A
//   second run over the same source changes nothing.
// - Resumable order: tenants, users, policies, groups, links, LDAP, refresh
//   tokens, sessions and tokens; each kind is written in short transactions
//   (BATCH rows), so a running service is never blocked for long (SQLite's
//   single writer) and sees what is imported at once. An interrupted run is
//   completed by running it again.
// - Secrets: token and refresh token strings are stored as their SHA-256 only
//   (as xivo-auth's own); password hashes and the LDAP bind password are
//   copied, never logged or reported.
// - Dry run: the same comparison, nothing written.
//
// A row that cannot be written is skipped with a reason (its tenant was not
// imported, its username is another xivo-auth user's...), counted in the
// summary.

import { createHash } from 'node:crypto';
import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type {
  DatabaseSchema,
  GroupsTable,
  LdapConfigsTable,
  PoliciesTable,
  RefreshTokensTable,
  SessionsTable,
  TenantsTable,
  TokensTable,
  UserEmailsTable,
  UsersTable,
} from '../database-schema.js';
import type { StoreDialect } from '../store-dialect.js';
import { ALL_USERS_SLUG } from '../types.js';
import { fromWazoColumns, isPbkdf2Sha512 } from '../../passwords/pbkdf2.js';
import { hashToken } from '../../tokens/material.js';
import type {
  WazoEmail,
  WazoGroup,
  WazoLdapConfig,
  WazoLink,
  WazoPolicy,
  WazoRefreshToken,
  WazoSamlConfig,
  WazoSource,
  WazoTenant,
  WazoToken,
  WazoUser,
} from './source.js';

type Db = Kysely<DatabaseSchema>;

/** Rows per transaction (and per IN list): far below both engines' parameter limits. */
const BATCH = 200;

export const IMPORT_KINDS = [
  'tenants',
  'tenant domains',
  'users',
  'emails',
  'tenant contacts',
  'policies',
  'groups',
  'group members',
  'user policies',
  'group policies',
  'ldap configs',
  'saml configs',
  'refresh tokens',
  'sessions',
  'tokens',
] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

export interface KindReport {
  kind: ImportKind;
  /** Rows of the source. */
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  /** Rows not written, by reason. */
  skipped: Record<string, number>;
}

export interface ImportSummary {
  revisions: string[];
  dryRun: boolean;
  kinds: KindReport[];
  /** What the operator should know (never a secret). */
  notes: string[];
}

/** The target store cannot take this import (its own top tenant holds data); nothing was written. */
export class ImportRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportRefusedError';
  }
}

export interface ImportOptions {
  dryRun: boolean;
  /** Epoch ms: tokens expiring by then are left out. */
  now: number;
  /**
   * How the SAML service provider stores a tenant's IdP (src/sso): the
   * importer writes the record it would write, without knowing its shape.
   */
  saml: SamlImporter;
}

export interface SamlImporter {
  /** The stored record for this configuration; throws when its IdP metadata is unreadable. */
  settings(c: WazoSamlConfig, before: Record<string, unknown> | null): Promise<Record<string, unknown>>;
  /** Whether `stored` already holds `c`. */
  same(c: WazoSamlConfig, stored: Record<string, unknown>): boolean;
}

/** What the target holds after the plan, by key: the links of later kinds check their ends here. */
interface Present {
  tenants: Map<string, WazoTenant>;
  /** user uuid → tenant uuid */
  users: Map<string, string>;
  policies: Set<string>;
  /** wazo group uuid → xivo-auth group uuid (an "all users" group may map to the tenant's existing one). */
  groups: Map<string, string>;
  /** refresh token string → xivo-auth refresh token uuid */
  refreshTokens: Map<string, string>;
  sessions: Set<string>;
}

class Run {
  readonly reports = new Map<ImportKind, KindReport>();
  readonly notes: string[] = [];
  readonly present: Present = {
    tenants: new Map(),
    users: new Map(),
    policies: new Set(),
    groups: new Map(),
    refreshTokens: new Map(),
    sessions: new Set(),
  };

  constructor(
    readonly db: Db,
    readonly dialect: StoreDialect,
    readonly options: ImportOptions,
  ) {
    for (const kind of IMPORT_KINDS) {
      this.reports.set(kind, { kind, read: 0, created: 0, updated: 0, unchanged: 0, skipped: {} });
    }
  }

  report(kind: ImportKind): KindReport {
    return this.reports.get(kind)!;
  }

  skip(kind: ImportKind, reason: string, n = 1): void {
    if (n <= 0) return;
    const r = this.report(kind);
    r.skipped[reason] = (r.skipped[reason] ?? 0) + n;
  }

  /** One transaction of writes; nothing in a dry run. */
  async write(fn: (trx: Db) => Promise<void>): Promise<void> {
    if (this.options.dryRun) return;
    await this.db.transaction().execute(fn);
  }
}

/**
 * Imports everything `source` holds into the store behind `dialect` (its
 * schema up to date, unless dry-running against a store without one: every
 * row then counts as created).
 */
export async function importWazoAuth(source: WazoSource, dialect: StoreDialect, options: ImportOptions): Promise<ImportSummary> {
  const run = new Run(dialect.db, dialect, options);
  const tenants = await source.tenants();
  await importTenants(run, tenants);
  await importUsers(run, await source.users());
  await importTenantContacts(run, tenants);
  await importPolicies(run, await source.policies());
  await importGroups(run, await source.groups());
  await importLinks(run, 'group members', await source.memberships(), {
    from: (uuid) => (run.present.users.has(uuid) ? uuid : null),
    fromMissing: 'user not imported',
    to: (uuid) => run.present.groups.get(uuid) ?? null,
    toMissing: 'group not imported',
    table: 'group_users',
    fromColumn: 'user_uuid',
    toColumn: 'group_uuid',
  });
  await importLinks(run, 'user policies', await source.userPolicies(), {
    from: (uuid) => (run.present.users.has(uuid) ? uuid : null),
    fromMissing: 'user not imported',
    to: (uuid) => (run.present.policies.has(uuid) ? uuid : null),
    toMissing: 'policy not imported',
    table: 'user_policy',
    fromColumn: 'user_uuid',
    toColumn: 'policy_uuid',
  });
  await importLinks(run, 'group policies', await source.groupPolicies(), {
    from: (uuid) => run.present.groups.get(uuid) ?? null,
    fromMissing: 'group not imported',
    to: (uuid) => (run.present.policies.has(uuid) ? uuid : null),
    toMissing: 'policy not imported',
    table: 'group_policy',
    fromColumn: 'group_uuid',
    toColumn: 'policy_uuid',
  });
  await importLdapConfigs(run, await source.ldapConfigs());
  await importSamlConfigs(run, await source.samlConfigs());
  await importRefreshTokens(run, await source.refreshTokens());
  await importTokens(run, source);
  noteUnsupported(run, tenants, await source.unsupported());
  return { revisions: source.revisions, dryRun: options.dryRun, kinds: IMPORT_KINDS.map((k) => run.report(k)), notes: run.notes };
}

// ---------------------------------------------------------------------------
// helpers

function* batches<T>(items: readonly T[], size = BATCH): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

const bool = (v: number | boolean): boolean => Boolean(v);
const dbBool = (v: boolean): 0 | 1 => (v ? 1 : 0);

/** Same meaning, whatever the engine returned (0/1 or booleans, numbers or strings for integers). */
function sameRow(a: Record<string, unknown>, b: Record<string, unknown>, keys: readonly string[]): boolean {
  return keys.every((k) => {
    const x = a[k];
    const y = b[k];
    if (typeof x === 'boolean' || typeof y === 'boolean') return Boolean(x) === Boolean(y);
    if (typeof x === 'number' || typeof y === 'number') return Number(x) === Number(y);
    return (x ?? null) === (y ?? null);
  });
}

function byKey<T, K>(rows: readonly T[], key: (row: T) => K): Map<K, T> {
  return new Map(rows.map((r) => [key(r), r]));
}

/** A stable uuid for a secret string, revealing nothing of it (refresh tokens are stored by hash; their uuid is an id). */
export function derivedUuid(purpose: string, secret: string): string {
  const b = createHash('sha256').update(`xivo-auth import ${purpose}\u0000${secret}`, 'utf8').digest().subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Whether the target has its schema: a dry run may look at a store never migrated. */
async function hasTable(db: Db, table: keyof DatabaseSchema): Promise<boolean> {
  try {
    await db
      .selectFrom(table)
      .select(sql<number>`1`.as('one'))
      .limit(1)
      .execute();
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// tenants

/** Tenants with their parent first; those whose parent chain does not reach the top come back apart. */
function topDown(tenants: readonly WazoTenant[], top: WazoTenant): { ordered: WazoTenant[]; orphans: WazoTenant[] } {
  const childrenOf = new Map<string, WazoTenant[]>();
  for (const t of tenants) {
    if (t.uuid === top.uuid) continue;
    const list = childrenOf.get(t.parentUuid);
    if (list === undefined) childrenOf.set(t.parentUuid, [t]);
    else list.push(t);
  }
  const ordered: WazoTenant[] = [];
  const seen = new Set<string>();
  const queue = [top];
  while (queue.length > 0) {
    const t = queue.shift()!;
    if (seen.has(t.uuid)) continue;
    seen.add(t.uuid);
    ordered.push(t);
    queue.push(...(childrenOf.get(t.uuid) ?? []));
  }
  return { ordered, orphans: tenants.filter((t) => !seen.has(t.uuid)) };
}

/** What a tenant row holds, but its contact (a user: set once users are in, importTenantContacts). */
const TENANT_FIELDS = [
  'name',
  'slug',
  'parent_uuid',
  'phone',
  'address_line_1',
  'address_line_2',
  'address_city',
  'address_state',
  'address_country',
  'address_zip_code',
  'default_authentication_method',
] as const;

const TENANT_AUTHENTICATION_METHODS = new Set(['native', 'ldap', 'saml']);

function tenantRow(t: WazoTenant, parent: string | null, domainNames: string[]): Insertable<TenantsTable> {
  return {
    uuid: t.uuid,
    name: t.name,
    slug: t.slug,
    parent_uuid: parent,
    domain_names: JSON.stringify(domainNames),
    phone: t.phone,
    address_line_1: t.address?.line1 ?? null,
    address_line_2: t.address?.line2 ?? null,
    address_city: t.address?.city ?? null,
    address_state: t.address?.state ?? null,
    address_country: t.address?.country ?? null,
    address_zip_code: t.address?.zipCode ?? null,
    default_authentication_method: TENANT_AUTHENTICATION_METHODS.has(t.defaultAuthenticationMethod)
      ? t.defaultAuthenticationMethod
      : 'native',
  };
}

function domainNamesOf(t: WazoTenant): string[] {
  return [...new Set(t.domainNames.map((n) => n.toLowerCase()))];
}

/**
 * The store's own top tenant, when it is not wazo-auth's: what xivo-auth makes
 * at its first start (the tenant, its "all users" group, the read-only
 * policies of default_policies) is replaced by wazo-auth's top tenant; anything
 * more (users, sub-tenants, sessions...) refuses the import.
 */
async function ownTopTenantToReplace(run: Run, sourceTop: WazoTenant): Promise<Selectable<TenantsTable> | null> {
  if (!(await hasTable(run.db, 'tenants'))) return null;
  const top = await run.db
    .selectFrom('tenants')
    .selectAll()
    .where('parent_uuid', 'is', null)
    .orderBy('uuid')
    .limit(1)
    .executeTakeFirst();
  if (top === undefined || top.uuid === sourceTop.uuid) return null;
  const count = async (q: { executeTakeFirstOrThrow(): Promise<{ n: number | string | bigint }> }) =>
    Number((await q.executeTakeFirstOrThrow()).n);
  const db = run.db;
  const held: [string, number][] = [
    [
      'sub-tenant(s)',
      await count(
        db
          .selectFrom('tenants')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('parent_uuid', '=', top.uuid),
      ),
    ],
    [
      'user(s)',
      await count(
        db
          .selectFrom('users')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('tenant_uuid', '=', top.uuid),
      ),
    ],
    [
      'session(s)',
      await count(
        db
          .selectFrom('sessions')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('tenant_uuid', '=', top.uuid),
      ),
    ],
    [
      'group(s) besides its "all users" group',
      await count(
        db
          .selectFrom('groups')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('tenant_uuid', '=', top.uuid)
          .where('system_managed', '=', dbBool(false)),
      ),
    ],
    [
      'policy(ies) not from default_policies',
      await count(
        db
          .selectFrom('policies')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('tenant_uuid', '=', top.uuid)
          .where('read_only', '=', dbBool(false)),
      ),
    ],
    [
      'LDAP configuration',
      await count(
        db
          .selectFrom('ldap_configs')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('tenant_uuid', '=', top.uuid),
      ),
    ],
  ];
  const holding = held.filter(([, n]) => n > 0).map(([what, n]) => `${n} ${what}`);
  if (holding.length > 0) {
    throw new ImportRefusedError(
      `this xivo-auth store already has a top tenant of its own (${top.uuid}, "${top.name ?? ''}") holding ${holding.join(', ')}; ` +
        `wazo-auth's top tenant is ${sourceTop.uuid}. Import into an empty store (a new db_uri), before xivo-auth first serves it. Nothing was written.`,
    );
  }
  return top;
}

async function importTenants(run: Run, tenants: WazoTenant[]): Promise<void> {
  const report = run.report('tenants');
  const domains = run.report('tenant domains');
  report.read = tenants.length;
  domains.read = tenants.reduce((n, t) => n + t.domainNames.length, 0);
  const tops = tenants.filter((t) => t.uuid === t.parentUuid);
  if (tops.length !== 1) {
    throw new ImportRefusedError(
      `the wazo-auth database holds ${tops.length} top tenants (tenants that are their own parent): expected exactly one. Nothing was written.`,
    );
  }
  const top = tops[0];
  const { ordered, orphans } = topDown(tenants, top);
  run.skip('tenants', 'its parent tenant is not in the wazo-auth database', orphans.length);

  const replaced = await ownTopTenantToReplace(run, top);
  if (replaced !== null) {
    run.notes.push(
      `xivo-auth's own top tenant ${replaced.uuid} (holding only what xivo-auth makes at start-up) is replaced by wazo-auth's, ${top.uuid}: ` +
        'restart the xivo-auth instances serving this store after the import (default_policies are applied again at start-up).',
    );
  }
  const targetReady = await hasTable(run.db, 'tenants');
  let first = true;

  for (const batch of batches(ordered)) {
    const uuids = batch.map((t) => t.uuid);
    const slugs = batch.map((t) => t.slug);
    const names = batch.flatMap(domainNamesOf);
    const existing = targetReady
      ? byKey(await run.db.selectFrom('tenants').selectAll().where('uuid', 'in', uuids).execute(), (r) => r.uuid)
      : new Map<string, Selectable<TenantsTable>>();
    const slugHolders = targetReady
      ? byKey(
          await run.db
            .selectFrom('tenants')
            .select(['uuid', 'slug'])
            .where('slug', 'in', slugs)
            .where('uuid', '<>', replaced?.uuid ?? '')
            .execute(),
          (r) => r.slug,
        )
      : new Map<string | null, { uuid: string; slug: string | null }>();
    const domainHolders =
      targetReady && names.length > 0
        ? byKey(
            await run.db
              .selectFrom('tenant_domains')
              .selectAll()
              .where('name', 'in', names)
              .where('tenant_uuid', '<>', replaced?.uuid ?? '')
              .execute(),
            (r) => r.name,
          )
        : new Map<string, { name: string; tenant_uuid: string }>();

    const inserts: { row: Insertable<TenantsTable>; domains: string[] }[] = [];
    const updates: { row: Insertable<TenantsTable>; domains: string[] | null }[] = [];
    for (const t of batch) {
      const parent = t.uuid === top.uuid ? null : t.parentUuid;
      if (parent !== null && !run.present.tenants.has(parent)) {
        run.skip('tenants', 'its parent tenant was not imported');
        run.skip('tenant domains', 'its tenant was not imported', t.domainNames.length);
        continue;
      }
      const holder = slugHolders.get(t.slug);
      if (holder !== undefined && holder.uuid !== t.uuid) {
        run.skip('tenants', "its slug is another xivo-auth tenant's");
        run.skip('tenant domains', 'its tenant was not imported', t.domainNames.length);
        continue;
      }
      const wanted = domainNamesOf(t);
      const kept = wanted.filter((name) => {
        const other = domainHolders.get(name);
        return other === undefined || other.tenant_uuid === t.uuid;
      });
      run.skip('tenant domains', 'held by another xivo-auth tenant', wanted.length - kept.length);
      run.skip('tenant domains', 'repeated (domain names are matched case-insensitively)', t.domainNames.length - wanted.length);
      const row = tenantRow(t, parent, kept);
      const stored = existing.get(t.uuid);
      if (stored === undefined) {
        inserts.push({ row, domains: kept });
        report.created++;
        domains.created += kept.length;
      } else {
        const storedNames = JSON.parse(stored.domain_names) as string[];
        const sameNames = JSON.stringify(storedNames) === JSON.stringify(kept);
        if (sameRow(stored, row, TENANT_FIELDS) && sameNames) {
          report.unchanged++;
        } else {
          updates.push({ row, domains: sameNames ? null : kept });
          report.updated++;
        }
        const before = new Set(storedNames);
        const added = kept.filter((n) => !before.has(n)).length;
        domains.created += added;
        domains.unchanged += kept.length - added;
      }
      run.present.tenants.set(t.uuid, t);
    }

    const replacing = first ? replaced : null;
    first = false;
    await run.write(async (trx) => {
      if (replacing !== null) {
        // Its groups and policies, with their links (ON DELETE CASCADE); default_policies come back at start-up.
        await trx.deleteFrom('groups').where('tenant_uuid', '=', replacing.uuid).execute();
        await trx.deleteFrom('policies').where('tenant_uuid', '=', replacing.uuid).execute();
        await trx.deleteFrom('tenant_domains').where('tenant_uuid', '=', replacing.uuid).execute();
        await trx.deleteFrom('tenants').where('uuid', '=', replacing.uuid).execute();
      }
      // One at a time: a child's parent may be in the same batch.
      for (const { row, domains: names } of inserts) {
        await trx.insertInto('tenants').values(row).execute();
        if (names.length > 0) {
          await trx
            .insertInto('tenant_domains')
            .values(names.map((name) => ({ name, tenant_uuid: row.uuid })))
            .execute();
        }
      }
      for (const { row, domains: names } of updates) {
        const { uuid, ...changes } = row;
        await trx.updateTable('tenants').set(changes).where('uuid', '=', uuid).execute();
        if (names !== null) {
          await trx.deleteFrom('tenant_domains').where('tenant_uuid', '=', row.uuid).execute();
          if (names.length > 0) {
            await trx
              .insertInto('tenant_domains')
              .values(names.map((name) => ({ name, tenant_uuid: row.uuid })))
              .execute();
          }
        }
      }
      // Instances already serving this database forget the tenant parents
      // they remember (PostgreSQL NOTIFY; SQLite: they notice the commit).
      if (replacing !== null || updates.length > 0) await run.dialect.notifyTenantsChanged(trx, null);
    });
  }
}

// ---------------------------------------------------------------------------
// users and their email addresses

/** The method deciding how the user logs in: its own, or its tenant's default. */
function authenticationMethodOf(u: WazoUser, tenant: WazoTenant): string {
  return u.authenticationMethod === 'default' ? tenant.defaultAuthenticationMethod : u.authenticationMethod;
}

const USER_FIELDS = [
  'tenant_uuid',
  'username',
  'firstname',
  'lastname',
  'password_hash',
  'purpose',
  'enabled',
  'authentication_method',
] as const;

const EMAIL_FIELDS = ['user_uuid', 'address', 'main', 'confirmed'] as const;

async function importUsers(run: Run, users: WazoUser[]): Promise<void> {
  const report = run.report('users');
  report.read = users.length;
  run.report('emails').read = users.reduce((n, u) => n + u.emails.length, 0);
  const targetReady = await hasTable(run.db, 'users');
  const passwordsLeftOut = new Map<string, number>();
  let unreadable = 0;
  const sourceUuids = new Set(users.map((u) => u.uuid));

  for (const batch of batches(users)) {
    const uuids = batch.map((u) => u.uuid);
    const logins = batch
      .flatMap((u) => [u.username, ...u.emails.map((e) => e.address)])
      .filter((l): l is string => l !== null && l !== '');
    const existing = targetReady
      ? byKey(await run.db.selectFrom('users').selectAll().where('uuid', 'in', uuids).execute(), (r) => r.uuid)
      : new Map<string, Selectable<UsersTable>>();
    // Logins of xivo-auth's own users (not in wazo-auth): a username or an
    // email address names one user, across both.
    const taken = new Set<string>();
    if (targetReady && logins.length > 0) {
      const lowered = logins.map((l) => sql<string>`lower(${l})`);
      const byName = await run.db
        .selectFrom('users')
        .select(['uuid', 'username'])
        .where(({ eb, fn, ref }) => eb(fn('lower', [ref('username')]), 'in', lowered))
        .execute();
      const byAddress = await run.db
        .selectFrom('user_emails')
        .select(['user_uuid as uuid', 'address'])
        .where(({ eb, fn, ref }) => eb(fn('lower', [ref('address')]), 'in', lowered))
        .execute();
      for (const r of byName) if (!sourceUuids.has(r.uuid) && r.username !== null) taken.add(r.username.toLowerCase());
      for (const r of byAddress) if (!sourceUuids.has(r.uuid)) taken.add(r.address.toLowerCase());
    }

    const inserts: Insertable<UsersTable>[] = [];
    const updates: Insertable<UsersTable>[] = [];
    const imported: WazoUser[] = [];
    for (const u of batch) {
      const tenant = run.present.tenants.get(u.tenantUuid);
      if (tenant === undefined) {
        run.skip('users', 'its tenant was not imported');
        run.skip('emails', 'its user was not imported', u.emails.length);
        continue;
      }
      const clash = [u.username, ...u.emails.map((e) => e.address)].some((l) => l !== null && taken.has(l.toLowerCase()));
      if (clash) {
        run.skip('users', 'its username or an email address is a login of another xivo-auth user');
        run.skip('emails', 'its user was not imported', u.emails.length);
        continue;
      }

      const method = authenticationMethodOf(u, tenant);
      let hash: string | null = null;
      if (u.passwordHash !== null && u.passwordSalt !== null) {
        // A user of LDAP or SAML in wazo-auth never logs in with a password of
        // wazo-auth's: that password must not start working here.
        if (method !== 'native') passwordsLeftOut.set(method, (passwordsLeftOut.get(method) ?? 0) + 1);
        else {
          hash = fromWazoColumns(u.passwordSalt, u.passwordHash);
          if (hash === null) unreadable++;
        }
      }
      const stored = existing.get(u.uuid);
      // A password changed (or re-hashed at login) in xivo-auth since the last
      // run stays: only an imported hash follows the source.
      if (stored !== undefined && stored.password_hash !== null && !isPbkdf2Sha512(stored.password_hash))
        hash = stored.password_hash;
      const row: Insertable<UsersTable> = {
        uuid: u.uuid,
        tenant_uuid: u.tenantUuid,
        username: u.username,
        firstname: u.firstname,
        lastname: u.lastname,
        password_hash: hash,
        purpose: u.purpose,
        enabled: dbBool(u.enabled),
        authentication_method: u.authenticationMethod,
        // wazo-auth keeps no creation time: the import's.
        created_at: stored?.created_at ?? run.options.now,
      };
      if (stored === undefined) {
        inserts.push(row);
        report.created++;
      } else if (sameRow(stored, row, USER_FIELDS)) {
        report.unchanged++;
      } else {
        updates.push(row);
        report.updated++;
      }
      run.present.users.set(u.uuid, u.tenantUuid);
      imported.push(u);
    }
    const emails = await planEmails(run, imported);

    await run.write(async (trx) => {
      // Serialises with the service's own writes of usernames and addresses (PostgreSQL).
      await run.dialect.lockLogins(trx);
      if (inserts.length > 0) await trx.insertInto('users').values(inserts).execute();
      for (const { uuid, ...changes } of updates) await trx.updateTable('users').set(changes).where('uuid', '=', uuid).execute();
      // A main address demoted first: a user has one main address at a time.
      for (const { uuid, ...changes } of emails.updates.filter((e) => !e.main)) {
        await trx.updateTable('user_emails').set(changes).where('uuid', '=', uuid).execute();
      }
      for (const { uuid, ...changes } of emails.updates.filter((e) => e.main)) {
        await trx.updateTable('user_emails').set(changes).where('uuid', '=', uuid).execute();
      }
      if (emails.inserts.length > 0) await trx.insertInto('user_emails').values(emails.inserts).execute();
    });
  }

  for (const [method, n] of passwordsLeftOut) {
    run.notes.push(`${n} user(s) log in with ${method} in wazo-auth: imported without their wazo-auth password hash`);
  }
  if (unreadable > 0)
    run.notes.push(
      `${unreadable} user(s) had a password hash that is not PBKDF2-SHA512 as wazo-auth writes it: imported without a password`,
    );
  const sharedLogins = crossLogins(users);
  if (sharedLogins > 0) {
    run.notes.push(
      `${sharedLogins} user(s) have a username equal to another user's email address: a login by such a string is refused until one of them changes`,
    );
  }
}

/**
 * Every address of the users imported, same uuids. Addresses xivo-auth added
 * since stay; one that would be a second main address of its user, or is
 * another xivo-auth user's, is skipped.
 */
async function planEmails(
  run: Run,
  users: readonly WazoUser[],
): Promise<{ inserts: Insertable<UserEmailsTable>[]; updates: Insertable<UserEmailsTable>[] }> {
  const report = run.report('emails');
  const inserts: Insertable<UserEmailsTable>[] = [];
  const updates: Insertable<UserEmailsTable>[] = [];
  const all: { user: WazoUser; email: WazoEmail }[] = users.flatMap((user) => user.emails.map((email) => ({ user, email })));
  if (all.length === 0) return { inserts, updates };
  const targetReady = await hasTable(run.db, 'user_emails');
  const uuids = all.map((e) => e.email.uuid);
  const stored = targetReady
    ? byKey(await run.db.selectFrom('user_emails').selectAll().where('uuid', 'in', uuids).execute(), (r) => r.uuid)
    : new Map<string, Selectable<UserEmailsTable>>();
  const others = targetReady
    ? await run.db
        .selectFrom('user_emails')
        .select(['uuid', 'user_uuid', 'address', 'main'])
        .where(({ eb, or, fn, ref }) =>
          or([
            eb(
              fn('lower', [ref('address')]),
              'in',
              all.map((e) => sql<string>`lower(${e.email.address})`),
            ),
            eb(
              'user_uuid',
              'in',
              users.map((u) => u.uuid),
            ),
          ]),
        )
        .where('uuid', 'not in', uuids)
        .execute()
    : [];
  const addressTaken = new Set(others.map((o) => o.address.toLowerCase()));
  const hasOtherMain = new Set(others.filter((o) => bool(o.main)).map((o) => o.user_uuid));
  for (const { user, email } of all) {
    if (addressTaken.has(email.address.toLowerCase())) {
      run.skip('emails', 'another address of xivo-auth is the same');
      continue;
    }
    if (email.main && hasOtherMain.has(user.uuid)) {
      run.skip('emails', 'its user has another main address in xivo-auth');
      continue;
    }
    const row: Insertable<UserEmailsTable> = {
      uuid: email.uuid,
      user_uuid: user.uuid,
      address: email.address,
      main: dbBool(email.main),
      confirmed: dbBool(email.confirmed),
    };
    const before = stored.get(email.uuid);
    if (before === undefined) {
      inserts.push(row);
      report.created++;
    } else if (sameRow(before, row, EMAIL_FIELDS)) {
      report.unchanged++;
    } else {
      updates.push(row);
      report.updated++;
    }
  }
  return { inserts, updates };
}

/** Users whose username is another user's email address (case-insensitively). */
function crossLogins(users: readonly WazoUser[]): number {
  const emailOwner = new Map<string, string>();
  for (const u of users) for (const e of u.emails) emailOwner.set(e.address.toLowerCase(), u.uuid);
  return users.filter((u) => {
    const owner = u.username === null ? undefined : emailOwner.get(u.username.toLowerCase());
    return owner !== undefined && owner !== u.uuid;
  }).length;
}

/** A tenant's contact is a user: set once the users are in. */
async function importTenantContacts(run: Run, tenants: readonly WazoTenant[]): Promise<void> {
  const report = run.report('tenant contacts');
  const withContact = tenants.filter((t) => t.contactUuid !== null);
  report.read = withContact.length;
  const targetReady = await hasTable(run.db, 'tenants');
  for (const batch of batches(withContact)) {
    const stored = targetReady
      ? byKey(
          await run.db
            .selectFrom('tenants')
            .select(['uuid', 'contact_uuid'])
            .where(
              'uuid',
              'in',
              batch.map((t) => t.uuid),
            )
            .execute(),
          (r) => r.uuid,
        )
      : new Map<string, { uuid: string; contact_uuid: string | null }>();
    const changes: { uuid: string; contact: string }[] = [];
    for (const t of batch) {
      const contact = t.contactUuid as string;
      if (!run.present.tenants.has(t.uuid)) run.skip('tenant contacts', 'its tenant was not imported');
      else if (!run.present.users.has(contact)) run.skip('tenant contacts', 'the contact user was not imported');
      else if (stored.get(t.uuid)?.contact_uuid === contact) report.unchanged++;
      else {
        changes.push({ uuid: t.uuid, contact });
        if (stored.has(t.uuid) && stored.get(t.uuid)?.contact_uuid !== null) report.updated++;
        else report.created++;
      }
    }
    await run.write(async (trx) => {
      for (const { uuid, contact } of changes)
        await trx.updateTable('tenants').set({ contact_uuid: contact }).where('uuid', '=', uuid).execute();
    });
  }
}

// ---------------------------------------------------------------------------
// policies and groups

const POLICY_FIELDS = ['tenant_uuid', 'name', 'slug', 'description', 'acl', 'shared', 'read_only'] as const;

async function importPolicies(run: Run, policies: WazoPolicy[]): Promise<void> {
  const report = run.report('policies');
  report.read = policies.length;
  const targetReady = await hasTable(run.db, 'policies');
  for (const batch of batches(policies)) {
    const uuids = batch.map((p) => p.uuid);
    const existing = targetReady
      ? byKey(await run.db.selectFrom('policies').selectAll().where('uuid', 'in', uuids).execute(), (r) => r.uuid)
      : new Map<string, Selectable<PoliciesTable>>();
    const holders = targetReady
      ? byKey(
          await run.db
            .selectFrom('policies')
            .select(['uuid', 'tenant_uuid', 'slug'])
            .where(
              'slug',
              'in',
              batch.map((p) => p.slug),
            )
            .where('uuid', 'not in', uuids)
            .execute(),
          (r) => `${r.tenant_uuid}\u0000${r.slug}`,
        )
      : new Map<string, unknown>();
    const inserts: Insertable<PoliciesTable>[] = [];
    const updates: Insertable<PoliciesTable>[] = [];
    for (const p of batch) {
      if (!run.present.tenants.has(p.tenantUuid)) {
        run.skip('policies', 'its tenant was not imported');
        continue;
      }
      if (holders.has(`${p.tenantUuid}\u0000${p.slug}`)) {
        run.skip('policies', "its slug is another xivo-auth policy's in the same tenant");
        continue;
      }
      const row: Insertable<PoliciesTable> = {
        uuid: p.uuid,
        tenant_uuid: p.tenantUuid,
        name: p.name,
        slug: p.slug,
        description: p.description,
        acl: JSON.stringify(p.acl),
        shared: dbBool(p.shared),
        // wazo-auth's config-managed policies are read-only over HTTP, as xivo-auth's default_policies.
        read_only: dbBool(p.configManaged),
      };
      const stored = existing.get(p.uuid);
      if (stored === undefined) {
        inserts.push(row);
        report.created++;
      } else if (sameRow(stored, row, POLICY_FIELDS)) {
        report.unchanged++;
      } else {
        updates.push(row);
        report.updated++;
      }
      run.present.policies.add(p.uuid);
    }
    await run.write(async (trx) => {
      if (inserts.length > 0) await trx.insertInto('policies').values(inserts).execute();
      for (const { uuid, ...changes } of updates)
        await trx.updateTable('policies').set(changes).where('uuid', '=', uuid).execute();
    });
  }
}

const GROUP_FIELDS = ['tenant_uuid', 'name', 'slug', 'system_managed'] as const;

async function importGroups(run: Run, groups: WazoGroup[]): Promise<void> {
  const report = run.report('groups');
  report.read = groups.length;
  const targetReady = await hasTable(run.db, 'groups');
  let merged = 0;
  /** tenant uuid → its "all users" group in xivo-auth (stored, or created by this run). */
  const allUsersOf = new Map<string, string>();
  for (const batch of batches(groups)) {
    const uuids = batch.map((g) => g.uuid);
    const tenantUuids = [...new Set(batch.map((g) => g.tenantUuid))];
    const existing = targetReady
      ? byKey(await run.db.selectFrom('groups').selectAll().where('uuid', 'in', uuids).execute(), (r) => r.uuid)
      : new Map<string, Selectable<GroupsTable>>();
    const inTenants = targetReady
      ? await run.db
          .selectFrom('groups')
          .select(['uuid', 'tenant_uuid', 'slug', 'system_managed'])
          .where('tenant_uuid', 'in', tenantUuids)
          .where('uuid', 'not in', uuids)
          .execute()
      : [];
    for (const g of inTenants)
      if (bool(g.system_managed) && !allUsersOf.has(g.tenant_uuid)) allUsersOf.set(g.tenant_uuid, g.uuid);
    const slugHolders = new Set(inTenants.map((g) => `${g.tenant_uuid}\u0000${g.slug}`));

    const inserts: Insertable<GroupsTable>[] = [];
    const updates: Insertable<GroupsTable>[] = [];
    for (const g of batch) {
      if (!run.present.tenants.has(g.tenantUuid)) {
        run.skip('groups', 'its tenant was not imported');
        continue;
      }
      if (g.systemManaged) {
        // wazo-auth's "all users" group is xivo-auth's: when the tenant already has one, its members and policies go there.
        const own = allUsersOf.get(g.tenantUuid);
        if (own !== undefined && own !== g.uuid) {
          run.present.groups.set(g.uuid, own);
          report.unchanged++;
          merged++;
          continue;
        }
        allUsersOf.set(g.tenantUuid, g.uuid);
      }
      const slug = g.systemManaged ? ALL_USERS_SLUG : g.slug;
      if (slugHolders.has(`${g.tenantUuid}\u0000${slug}`)) {
        run.skip('groups', "its slug is another xivo-auth group's in the same tenant");
        continue;
      }
      const row: Insertable<GroupsTable> = {
        uuid: g.uuid,
        tenant_uuid: g.tenantUuid,
        name: g.name,
        slug,
        system_managed: dbBool(g.systemManaged),
      };
      const stored = existing.get(g.uuid);
      if (stored === undefined) {
        inserts.push(row);
        report.created++;
      } else if (sameRow(stored, row, GROUP_FIELDS)) {
        report.unchanged++;
      } else {
        updates.push(row);
        report.updated++;
      }
      run.present.groups.set(g.uuid, g.uuid);
    }
    await run.write(async (trx) => {
      if (inserts.length > 0) await trx.insertInto('groups').values(inserts).execute();
      for (const { uuid, ...changes } of updates) await trx.updateTable('groups').set(changes).where('uuid', '=', uuid).execute();
    });
  }
  if (merged > 0) {
    run.notes.push(
      `${merged} "all users" group(s) of wazo-auth mapped to the tenant's existing one in xivo-auth (members and policies go there)`,
    );
  }
}

// ---------------------------------------------------------------------------
// links: group members, user policies, group policies

interface LinkSpec {
  from: (uuid: string) => string | null;
  fromMissing: string;
  to: (uuid: string) => string | null;
  toMissing: string;
  table: 'group_users' | 'user_policy' | 'group_policy';
  fromColumn: 'user_uuid' | 'group_uuid';
  toColumn: 'group_uuid' | 'policy_uuid';
}

async function importLinks(run: Run, kind: ImportKind, links: WazoLink[], spec: LinkSpec): Promise<void> {
  const report = run.report(kind);
  report.read = links.length;
  const targetReady = await hasTable(run.db, spec.table);
  const planned = new Set<string>();
  for (const batch of batches(links)) {
    const mapped: { from: string; to: string }[] = [];
    for (const link of batch) {
      const from = spec.from(link.from);
      const to = spec.to(link.to);
      if (from === null) run.skip(kind, spec.fromMissing);
      else if (to === null) run.skip(kind, spec.toMissing);
      else mapped.push({ from, to });
    }
    if (mapped.length === 0) continue;
    // A dynamic table and columns: Kysely's types cannot follow, the SQL is the same on both engines.
    const table = sql.table(spec.table);
    const fromCol = sql.ref(spec.fromColumn);
    const toCol = sql.ref(spec.toColumn);
    const stored = new Set<string>();
    if (targetReady) {
      const froms = [...new Set(mapped.map((m) => m.from))];
      const { rows } = await sql<{ f: string; t: string }>`
        select ${fromCol} as f, ${toCol} as t from ${table} where ${fromCol} in (${sql.join(froms)})`.execute(run.db);
      for (const r of rows) stored.add(`${r.f}\u0000${r.t}`);
    }
    const inserts: { from: string; to: string }[] = [];
    for (const m of mapped) {
      const key = `${m.from}\u0000${m.to}`;
      if (stored.has(key) || planned.has(key)) {
        report.unchanged++;
        continue;
      }
      planned.add(key);
      inserts.push(m);
      report.created++;
    }
    if (inserts.length === 0) continue;
    await run.write(async (trx) => {
      const values = sql.join(inserts.map((m) => sql`(${m.from}, ${m.to})`));
      await sql`insert into ${table} (${fromCol}, ${toCol}) values ${values} on conflict do nothing`.execute(trx);
    });
  }
}

// ---------------------------------------------------------------------------
// LDAP configurations

const LDAP_FIELDS = [
  'host',
  'port',
  'protocol_version',
  'protocol_security',
  'bind_dn',
  'bind_password',
  'user_base_dn',
  'user_login_attribute',
  'user_email_attribute',
  'search_filters',
] as const;

async function importLdapConfigs(run: Run, configs: WazoLdapConfig[]): Promise<void> {
  const report = run.report('ldap configs');
  report.read = configs.length;
  const targetReady = await hasTable(run.db, 'ldap_configs');
  const existing =
    targetReady && configs.length > 0
      ? byKey(
          await run.db
            .selectFrom('ldap_configs')
            .selectAll()
            .where(
              'tenant_uuid',
              'in',
              configs.map((c) => c.tenantUuid),
            )
            .execute(),
          (r) => r.tenant_uuid,
        )
      : new Map<string, Selectable<LdapConfigsTable>>();
  const inserts: Insertable<LdapConfigsTable>[] = [];
  const updates: Insertable<LdapConfigsTable>[] = [];
  for (const c of configs) {
    if (!run.present.tenants.has(c.tenantUuid)) {
      run.skip('ldap configs', 'its tenant was not imported');
      continue;
    }
    if (c.userLoginAttribute === null || c.userEmailAttribute === null) {
      run.skip('ldap configs', 'no user_login_attribute or user_email_attribute');
      continue;
    }
    if (c.protocolSecurity !== null && c.protocolSecurity !== 'ldaps' && c.protocolSecurity !== 'tls') {
      run.skip('ldap configs', 'unknown protocol_security');
      continue;
    }
    const row: Insertable<LdapConfigsTable> = {
      tenant_uuid: c.tenantUuid,
      host: c.host,
      port: c.port,
      protocol_version: c.protocolVersion ?? 3,
      protocol_security: c.protocolSecurity,
      bind_dn: c.bindDn,
      // Copied as wazo-auth keeps it; like xivo-auth's own, it never leaves the store through the API.
      bind_password: c.bindDn === null ? null : c.bindPassword,
      user_base_dn: c.userBaseDn,
      user_login_attribute: c.userLoginAttribute,
      user_email_attribute: c.userEmailAttribute,
      search_filters: c.searchFilters,
    };
    const stored = existing.get(c.tenantUuid);
    if (stored === undefined) {
      inserts.push(row);
      report.created++;
    } else if (sameRow(stored, row, LDAP_FIELDS)) {
      report.unchanged++;
    } else {
      updates.push(row);
      report.updated++;
    }
  }
  await run.write(async (trx) => {
    if (inserts.length > 0) await trx.insertInto('ldap_configs').values(inserts).execute();
    for (const { tenant_uuid, ...changes } of updates)
      await trx.updateTable('ldap_configs').set(changes).where('tenant_uuid', '=', tenant_uuid).execute();
  });
}

// ---------------------------------------------------------------------------
// SAML configurations

/**
 * wazo-auth keeps one SAML IdP per (tenant, domain); xivo-auth one per
 * tenant (the login names the tenant by any of its domains). The first by
 * domain uuid is imported, the others skipped and counted.
 */
async function importSamlConfigs(run: Run, configs: WazoSamlConfig[]): Promise<void> {
  const report = run.report('saml configs');
  report.read = configs.length;
  const existing = new Map<string, { data: Record<string, unknown>; createdAt: number }>();
  if (configs.length > 0 && (await hasSsoConfigs(run.db))) {
    for (const tenantUuids of batches([...new Set(configs.map((c) => c.tenantUuid))])) {
      const rows = await sql<{ tenant_uuid: string; data: string; created_at: number | string }>`
        select tenant_uuid, data, created_at from sso_configs where kind = 'saml' and tenant_uuid in (${sql.join(tenantUuids)})`.execute(
        run.db,
      );
      for (const r of rows.rows)
        existing.set(r.tenant_uuid, { data: JSON.parse(r.data) as Record<string, unknown>, createdAt: Number(r.created_at) });
    }
  }
  const writes: { tenantUuid: string; data: Record<string, unknown>; createdAt: number }[] = [];
  const seen = new Set<string>();
  for (const c of configs) {
    if (!run.present.tenants.has(c.tenantUuid)) {
      run.skip('saml configs', 'its tenant was not imported');
      continue;
    }
    if (seen.has(c.tenantUuid)) {
      run.skip('saml configs', 'another domain of the tenant: xivo-auth keeps one SAML IdP per tenant');
      continue;
    }
    seen.add(c.tenantUuid);
    const stored = existing.get(c.tenantUuid);
    if (stored !== undefined && run.options.saml.same(c, stored.data)) {
      report.unchanged++;
      continue;
    }
    let data: Record<string, unknown>;
    try {
      data = await run.options.saml.settings(c, stored?.data ?? null);
    } catch {
      run.skip('saml configs', 'unreadable IdP metadata');
      continue;
    }
    writes.push({ tenantUuid: c.tenantUuid, data, createdAt: stored?.createdAt ?? run.options.now });
    if (stored === undefined) report.created++;
    else report.updated++;
  }
  await run.write(async (trx) => {
    for (const w of writes) {
      await sql`insert into sso_configs (tenant_uuid, kind, data, secrets, created_at, updated_at)
        values (${w.tenantUuid}, 'saml', ${JSON.stringify(w.data)}, ${null}, ${w.createdAt}, ${run.options.now})
        on conflict (tenant_uuid, kind) do update set data = excluded.data, updated_at = excluded.updated_at`.execute(trx);
    }
  });
}

/** sso_configs is not in the typed schema (raw SQL, src/store/sso-verbs.ts); a dry run may face a store never migrated. */
async function hasSsoConfigs(db: Db): Promise<boolean> {
  try {
    await sql`select 1 from sso_configs limit 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// refresh tokens

async function importRefreshTokens(run: Run, refreshTokens: WazoRefreshToken[]): Promise<void> {
  const report = run.report('refresh tokens');
  report.read = refreshTokens.length;
  const targetReady = await hasTable(run.db, 'refresh_tokens');
  for (const batch of batches(refreshTokens)) {
    const hashes = batch.map((r) => hashToken(r.value));
    const userUuids = [...new Set(batch.map((r) => r.userUuid).filter((u): u is string => u !== null))];
    const existing = targetReady
      ? new Set(
          (await run.db.selectFrom('refresh_tokens').select('hash').where('hash', 'in', hashes).execute()).map((r) => r.hash),
        )
      : new Set<string>();
    const held =
      targetReady && userUuids.length > 0
        ? byKey(
            await run.db
              .selectFrom('refresh_tokens')
              .select(['hash', 'user_uuid', 'client_id'])
              .where('user_uuid', 'in', userUuids)
              .execute(),
            (r) => `${r.user_uuid}\u0000${r.client_id}`,
          )
        : new Map<string, { hash: string }>();
    const inserts: Insertable<RefreshTokensTable>[] = [];
    batch.forEach((r, i) => {
      const hash = hashes[i];
      const tenantUuid = r.userUuid === null ? undefined : run.present.users.get(r.userUuid);
      if (r.userUuid === null || tenantUuid === undefined) {
        run.skip('refresh tokens', 'its user was not imported');
        return;
      }
      if (r.clientId === null || r.backend === null || r.login === null) {
        run.skip('refresh tokens', 'no client_id, backend or login');
        return;
      }
      const uuid = derivedUuid('refresh token', r.value);
      if (existing.has(hash)) {
        report.unchanged++;
        run.present.refreshTokens.set(r.value, uuid);
        return;
      }
      const holder = held.get(`${r.userUuid}\u0000${r.clientId}`);
      if (holder !== undefined && holder.hash !== hash) {
        run.skip('refresh tokens', 'the user holds a newer one for this client_id in xivo-auth');
        return;
      }
      inserts.push({
        uuid,
        hash,
        client_id: r.clientId,
        user_uuid: r.userUuid,
        tenant_uuid: tenantUuid,
        backend: r.backend,
        login: r.login,
        mobile: dbBool(r.mobile),
        created_at: r.createdAt?.getTime() ?? run.options.now,
        // A fresh idle window from the import (as migration 12 gives stored
        // rows): wazo-auth's refresh tokens never expired, and a phone that
        // refreshes daily must not be logged out by the switch.
        last_used_at: run.options.now,
      });
      report.created++;
      run.present.refreshTokens.set(r.value, uuid);
    });
    await run.write(async (trx) => {
      if (inserts.length > 0) await trx.insertInto('refresh_tokens').values(inserts).execute();
    });
  }
}

// ---------------------------------------------------------------------------
// sessions and access tokens

function metadataOf(text: string | null): Record<string, unknown> {
  if (text === null || text === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

async function importTokens(run: Run, source: WazoSource): Promise<void> {
  const tokens = run.report('tokens');
  const sessions = run.report('sessions');
  const nowSeconds = Math.floor(run.options.now / 1000);
  const counts = await source.tokenCounts(nowSeconds);
  tokens.read = counts.total;
  sessions.read = counts.sessions;
  run.skip('tokens', 'expired', counts.expired);
  run.skip('sessions', 'no live token', counts.sessionsWithoutLiveToken);
  const targetReady = await hasTable(run.db, 'tokens');
  /** Sessions already counted (a session's tokens may span pages). */
  const seenSessions = new Map<string, 'imported' | 'skipped'>();

  for await (const page of source.liveTokens(nowSeconds)) {
    for (const batch of batches(page)) {
      const hashes = batch.map((t) => hashToken(t.value));
      const sessionUuids = [...new Set(batch.map((t) => t.sessionUuid))];
      const storedTokens = targetReady
        ? new Set((await run.db.selectFrom('tokens').select('hash').where('hash', 'in', hashes).execute()).map((r) => r.hash))
        : new Set<string>();
      const storedSessions = targetReady
        ? new Set(
            (await run.db.selectFrom('sessions').select('uuid').where('uuid', 'in', sessionUuids).execute()).map((r) => r.uuid),
          )
        : new Set<string>();
      const newSessions: Insertable<SessionsTable>[] = [];
      const newTokens: Insertable<TokensTable>[] = [];
      batch.forEach((t: WazoToken, i) => {
        const hash = hashes[i];
        if (!run.present.tenants.has(t.sessionTenantUuid)) {
          run.skip('tokens', 'its tenant was not imported');
          if (!seenSessions.has(t.sessionUuid)) {
            seenSessions.set(t.sessionUuid, 'skipped');
            run.skip('sessions', 'its tenant was not imported');
          }
          return;
        }
        const metadata = metadataOf(t.metadata);
        const userUuid = typeof metadata.uuid === 'string' ? metadata.uuid : null;
        const issuedAt = (t.issuedT ?? nowSeconds) * 1000;
        if (!seenSessions.has(t.sessionUuid)) {
          seenSessions.set(t.sessionUuid, 'imported');
          if (storedSessions.has(t.sessionUuid)) {
            sessions.unchanged++;
          } else {
            newSessions.push({
              uuid: t.sessionUuid,
              tenant_uuid: t.sessionTenantUuid,
              user_uuid: userUuid,
              mobile: dbBool(t.sessionMobile),
              created_at: issuedAt,
            });
            sessions.created++;
          }
        }
        if (storedTokens.has(hash)) {
          tokens.unchanged++;
          return;
        }
        newTokens.push({
          hash,
          session_uuid: t.sessionUuid,
          auth_id: t.authId,
          user_uuid: userUuid,
          tenant_uuid: t.sessionTenantUuid,
          pbx_user_uuid: t.pbxUserUuid,
          xivo_uuid: t.xivoUuid,
          issued_at: issuedAt,
          expires_at: t.expireT * 1000,
          acl: JSON.stringify(t.acl),
          metadata: JSON.stringify(metadata),
          remote_addr: t.remoteAddr,
          user_agent: t.userAgent,
          refresh_token_uuid:
            t.refreshTokenValue === null
              ? null
              : (run.present.refreshTokens.get(t.refreshTokenValue) ?? derivedUuid('refresh token', t.refreshTokenValue)),
        });
        tokens.created++;
      });
      await run.write(async (trx) => {
        if (newSessions.length > 0)
          await trx
            .insertInto('sessions')
            .values(newSessions)
            .onConflict((oc) => oc.doNothing())
            .execute();
        if (newTokens.length > 0)
          await trx
            .insertInto('tokens')
            .values(newTokens)
            .onConflict((oc) => oc.doNothing())
            .execute();
      });
    }
  }
}

// ---------------------------------------------------------------------------
// what xivo-auth has no place for (yet)

function noteUnsupported(run: Run, tenants: readonly WazoTenant[], unsupported: Record<string, number>): void {
  const odd = tenants.filter((t) => !TENANT_AUTHENTICATION_METHODS.has(t.defaultAuthenticationMethod)).length;
  if (odd > 0) run.notes.push(`${odd} tenant(s) had an unknown default authentication method: imported as native`);
  for (const [what, n] of Object.entries(unsupported)) {
    if (n > 0) run.notes.push(`${n} ${what} in wazo-auth: not imported (no counterpart in xivo-auth)`);
  }
}
