// Migration 11 (src/store/migrations/tenant-details.ts) on both engines: a
// database at version 10 with tenants is migrated; the tenants keep their
// data and read back with no contact, phone or address and the native
// method. Then the new columns' rules: a contact must be a user and is
// emptied when that user is deleted; the method is one of native, ldap, saml.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKyselyStore } from '../../src/store/kysely-store.js';
import { runMigrations } from '../../src/store/migrations/run-migrations.js';
import type { StoreDialect } from '../../src/store/store-dialect.js';
import type { Store } from '../../src/store/types.js';
import { type Logged, migrationEngines, QUIET_LOGGER, recordingLogger } from '../helpers/migration-engines.js';

const BEFORE_TENANT_DETAILS = 10;
const MASTER = '00000000-0000-4000-8000-000000000001';
const CHILD = '00000000-0000-4000-8000-000000000002';
const USER = '00000000-0000-4000-8000-0000000000aa';

const quiet = QUIET_LOGGER;
const logged: Logged[] = [];
const recording = recordingLogger(logged);

const engines = migrationEngines();

describe.each(engines)('tenant details migration on %s', (_name, open) => {
  let store: Store;
  let dialect: StoreDialect;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const opened = await open();
    dialect = opened.dialect;
    cleanup = opened.cleanup;
    await runMigrations({ ...dialect, migrations: dialect.migrations.filter((m) => m.version <= BEFORE_TENANT_DETAILS) }, quiet);
    await sql`insert into tenants (uuid, name, slug, parent_uuid, domain_names)
              values (${MASTER}, 'master', 'master', ${null}, '["master.example"]')`.execute(dialect.db);
    await sql`insert into tenants (uuid, name, slug, parent_uuid, domain_names)
              values (${CHILD}, 'child', 'child', ${MASTER}, '[]')`.execute(dialect.db);
    await sql`insert into users (uuid, tenant_uuid, username, purpose, enabled, created_at)
              values (${USER}, ${CHILD}, 'contact-user', 'user', ${1}, ${Date.now()})`.execute(dialect.db);
    logged.length = 0;
    store = createKyselyStore(dialect, recording);
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it('applies 11 (then the later ones)', () => {
    const applied = logged.filter((l) => l.msg === 'database migration applied').map((l) => Number(l.o.version));
    expect(applied[0]).toBe(11);
    expect(applied.every((v) => v >= 11)).toBe(true);
  });

  it('keeps the tenants, with no details and the native method', async () => {
    const empty = { line1: null, line2: null, city: null, state: null, country: null, zipCode: null };
    expect(await store.getTenant(MASTER)).toEqual({
      uuid: MASTER,
      name: 'master',
      slug: 'master',
      parentUuid: null,
      domainNames: ['master.example'],
      contactUuid: null,
      phone: null,
      address: empty,
      defaultAuthenticationMethod: 'native',
    });
    expect(await store.getTenant(CHILD)).toMatchObject({
      parentUuid: MASTER,
      contactUuid: null,
      defaultAuthenticationMethod: 'native',
    });
  });

  it('stores a contact, which must be a user, and empties it when the user is deleted', async () => {
    const updated = await store.updateTenant(MASTER, {
      contactUuid: USER,
      phone: '555',
      address: { line1: 'a', line2: null, city: 'c', state: null, country: null, zipCode: 'z' },
      defaultAuthenticationMethod: 'saml',
    });
    expect(updated).toMatchObject({
      contactUuid: USER,
      phone: '555',
      defaultAuthenticationMethod: 'saml',
      address: { line1: 'a', line2: null, city: 'c', state: null, country: null, zipCode: 'z' },
    });
    await expect(store.updateTenant(CHILD, { contactUuid: randomUUID() })).rejects.toThrow();
    await sql`delete from users where uuid = ${USER}`.execute(dialect.db);
    expect((await store.getTenant(MASTER))?.contactUuid).toBeNull();
  });

  it('refuses an authentication method other than native, ldap or saml', async () => {
    await expect(
      sql`update tenants set default_authentication_method = 'kerberos' where uuid = ${CHILD}`.execute(dialect.db),
    ).rejects.toThrow();
    expect((await store.getTenant(CHILD))?.defaultAuthenticationMethod).toBe('native');
  });
});
