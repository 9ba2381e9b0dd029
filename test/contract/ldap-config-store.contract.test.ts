// The contract of LdapConfigStore (src/backends/ldap/store.ts): a tenant's
// LDAP configuration (issue 6), with the tenant and local-user lookups an
// LDAP login makes (the identity domain's verbs). Run against both engines,
// each test on a fresh database (SQLite: a new file; PostgreSQL: a new schema
// in a database made for the suite); the configuration verbs are called
// through that interface (`ldapConfigs`), the lookups through the LDAP
// login's (LdapLoginStore, `ldapLogins`).

import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LdapConfigStore, LdapLoginStore } from '../../src/backends/ldap/store.js';
import { StoreConflictError } from '../../src/store/errors.js';
import type { Store } from '../../src/store/types.js';
import { createTestDatabase } from '../helpers/pg.js';
import type { TestDatabase } from '../helpers/pg.js';
import { openPostgresSchema, openSqlite, rejection, tenantData, userData } from './fixtures.js';

describe.each(['sqlite', 'postgresql'] as const)('Store contract, LDAP configuration: %s', (engine) => {
  let store: Store;
  let ldapConfigs: LdapConfigStore;
  let ldapLogins: LdapLoginStore;
  let done: () => Promise<void>;
  let pgDatabase: TestDatabase | null = null;

  beforeAll(async () => {
    if (engine === 'postgresql') pgDatabase = await createTestDatabase();
  });
  afterAll(async () => {
    await pgDatabase?.drop();
  });
  beforeEach(async () => {
    const opened = engine === 'sqlite' ? await openSqlite() : await openPostgresSchema((pgDatabase as TestDatabase).uri);
    store = opened.store;
    done = opened.cleanup;
    await store.migrate();
    ldapConfigs = store;
    ldapLogins = store;
  });
  afterEach(async () => {
    await store.close();
    await done();
  });

  const ldap = (tenantUuid: string) => ({
    tenantUuid,
    host: 'ldap.example.com',
    port: 636,
    protocolVersion: 3,
    protocolSecurity: 'ldaps' as const,
    bindDn: 'cn=svc,dc=example,dc=com',
    bindPassword: 'pw ✓',
    userBaseDn: 'ou=people,dc=example,dc=com',
    userLoginAttribute: 'uid',
    userEmailAttribute: 'mail',
    searchFilters: '(&(objectClass=person)({user_login_attribute}={username}))',
  });

  it("puts, replaces, reads and deletes a tenant's configuration", async () => {
    const t = await store.createTenant(tenantData());
    expect(await ldapConfigs.getLdapConfig(t.uuid)).toBeNull();
    expect(await ldapConfigs.putLdapConfig(ldap(t.uuid))).toEqual(ldap(t.uuid));
    expect(await ldapConfigs.getLdapConfig(t.uuid)).toEqual(ldap(t.uuid));
    const plain = { ...ldap(t.uuid), port: 389, protocolSecurity: null, bindDn: null, bindPassword: null, searchFilters: null };
    expect(await ldapConfigs.putLdapConfig(plain)).toEqual(plain);
    expect(await ldapConfigs.getLdapConfig(t.uuid)).toEqual(plain);
    expect(await ldapConfigs.deleteLdapConfig(t.uuid)).toBe(true);
    expect(await ldapConfigs.deleteLdapConfig(t.uuid)).toBe(false);
    expect(await ldapConfigs.getLdapConfig(t.uuid)).toBeNull();
  });

  it('refuses a configuration for an unknown tenant; it goes with its tenant', async () => {
    expect(await rejection(ldapConfigs.putLdapConfig(ldap(randomUUID())))).toBeInstanceOf(StoreConflictError);
    const t = await store.createTenant(tenantData());
    await ldapConfigs.putLdapConfig(ldap(t.uuid));
    await store.deleteTenant(t.uuid);
    expect(await ldapConfigs.getLdapConfig(t.uuid)).toBeNull();
  });

  it('finds a tenant by domain name (case-insensitive) or slug', async () => {
    const a = await store.createTenant(tenantData({ slug: 'acme', domainNames: ['acme.example.com', 'Acme.Org'] }));
    await store.createTenant(tenantData({ slug: 'other', domainNames: ['other-acme.example.com', 'xacme.org'] }));
    expect((await ldapLogins.findTenantByDomainName('ACME.example.com'))?.uuid).toBe(a.uuid);
    expect((await ldapLogins.findTenantByDomainName('acme.org'))?.uuid).toBe(a.uuid);
    for (const miss of ['example.com', 'acme', '%', 'acme.example.co_', '"acme.org"']) {
      expect(await ldapLogins.findTenantByDomainName(miss), miss).toBeNull();
    }
    expect((await ldapLogins.findTenantBySlug('acme'))?.uuid).toBe(a.uuid);
    expect(await ldapLogins.findTenantBySlug('nope')).toBeNull();
  });

  it('finds a user of one tenant by email (confirmed or not), else by username', async () => {
    const t = await store.createTenant(tenantData());
    const other = await store.createTenant(tenantData());
    const byMail = await store.createUser(
      userData(t.uuid, { username: 'local-alice', emailAddress: 'Alice@Example.com', emailConfirmed: false }),
    );
    const byName = await store.createUser(userData(t.uuid, { username: 'Carol', emailAddress: null }));
    await store.createUser(userData(other.uuid, { username: 'bob', emailAddress: 'bob@example.com' }));
    expect((await ldapLogins.findTenantUser(t.uuid, { email: 'alice@example.COM', username: 'carol' }))?.uuid).toBe(byMail.uuid);
    expect((await ldapLogins.findTenantUser(t.uuid, { email: 'unknown@example.com', username: 'CAROL' }))?.uuid).toBe(
      byName.uuid,
    );
    expect((await ldapLogins.findTenantUser(t.uuid, { email: null, username: 'carol' }))?.uuid).toBe(byName.uuid);
    expect(await ldapLogins.findTenantUser(t.uuid, { email: 'bob@example.com', username: 'bob' })).toBeNull();
    expect(await ldapLogins.findTenantUser(t.uuid, { email: '', username: null })).toBeNull();
  });
});
