// Migration 16 (src/store/migrations/sso.ts) on both engines: a database at
// version 15 with tenants of each method, a user and a group member is
// migrated; everything keeps its data (SQLite rebuilds the tenants' method
// column in place: nothing referencing the tenants cascades), the method may
// then be oidc and nothing unknown; the SSO tables work.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKyselyStore } from '../../src/store/kysely-store.js';
import { runMigrations } from '../../src/store/migrations/run-migrations.js';
import type { StoreDialect } from '../../src/store/store-dialect.js';
import type { Store } from '../../src/store/types.js';
import { migrationEngines, QUIET_LOGGER } from '../helpers/migration-engines.js';

const BEFORE_SSO = 15;
const MASTER = '00000000-0000-4000-8000-000000000001';
const LDAP = '00000000-0000-4000-8000-000000000002';
const USER = '00000000-0000-4000-8000-0000000000aa';

const engines = migrationEngines();

describe.each(engines)('sso migration on %s', (_name, open) => {
  let store: Store;
  let dialect: StoreDialect;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const opened = await open();
    dialect = opened.dialect;
    cleanup = opened.cleanup;
    await runMigrations({ ...dialect, migrations: dialect.migrations.filter((m) => m.version <= BEFORE_SSO) }, QUIET_LOGGER);
    await sql`insert into tenants (uuid, name, slug, parent_uuid, domain_names, phone)
              values (${MASTER}, 'master', 'master', ${null}, '["master.example"]', '+1 555')`.execute(dialect.db);
    await sql`insert into tenants (uuid, name, slug, parent_uuid, domain_names, default_authentication_method)
              values (${LDAP}, 'ldap', 'ldap', ${MASTER}, '[]', 'ldap')`.execute(dialect.db);
    await sql`insert into users (uuid, tenant_uuid, username, purpose, enabled, created_at, authentication_method)
              values (${USER}, ${LDAP}, 'kept-user', 'user', ${1}, ${Date.now()}, 'saml')`.execute(dialect.db);
    store = createKyselyStore(dialect, QUIET_LOGGER);
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it('keeps tenants, their methods and details, and their users', async () => {
    expect(await store.getTenant(MASTER)).toMatchObject({
      name: 'master',
      phone: '+1 555',
      defaultAuthenticationMethod: 'native',
      domainNames: ['master.example'],
    });
    expect(await store.getTenant(LDAP)).toMatchObject({ defaultAuthenticationMethod: 'ldap', parentUuid: MASTER });
    expect(await store.getUser(USER)).toMatchObject({ tenantUuid: LDAP, username: 'kept-user', authenticationMethod: 'saml' });
  });

  it('allows oidc as a tenant default, and nothing unknown', async () => {
    await sql`update tenants set default_authentication_method = 'oidc' where uuid = ${LDAP}`.execute(dialect.db);
    expect((await store.getTenant(LDAP))?.defaultAuthenticationMethod).toBe('oidc');
    await expect(
      sql`update tenants set default_authentication_method = 'kerberos' where uuid = ${LDAP}`.execute(dialect.db),
    ).rejects.toThrow();
  });

  it('stores SSO sessions: completed once, consumed once, gone when expired', async () => {
    const now = Date.now();
    await store.createSsoSession({
      idHash: 'id-1',
      requestKeyHash: 'state-1',
      kind: 'oidc',
      tenantUuid: LDAP,
      redirectUrl: 'https://portal.example',
      data: { nonce: 'n' },
      userUuid: null,
      login: null,
      tokenSessionUuid: null,
      createdAt: now,
      expiresAt: now + 60_000,
      completedAt: null,
      consumedAt: null,
    });
    expect(await store.consumeSsoSession('oidc', 'id-1', now)).toBeNull();
    expect((await store.findPendingSsoSession('oidc', 'state-1', now))?.data).toEqual({ nonce: 'n' });
    expect(await store.findPendingSsoSession('saml', 'state-1', now)).toBeNull();
    const completion = { userUuid: USER, login: 'kept-user', at: now, expiresAt: now + 60_000, data: {} };
    expect(await store.completeSsoSession('id-1', completion)).toBe(true);
    expect(await store.completeSsoSession('id-1', completion)).toBe(false);
    expect((await store.consumeSsoSession('oidc', 'id-1', now))?.userUuid).toBe(USER);
    expect(await store.consumeSsoSession('oidc', 'id-1', now)).toBeNull();
    expect(await store.rememberSsoAssertion('a-1', now + 1000, now)).toBe(true);
    expect(await store.rememberSsoAssertion('a-1', now + 1000, now)).toBe(false);
    expect(await store.rememberSsoAssertion('a-1', now + 5000, now + 2000)).toBe(true);
    expect(await store.deleteExpiredSso(now + 120_000)).toBe(2);
  });
});
