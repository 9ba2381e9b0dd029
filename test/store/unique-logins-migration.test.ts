// Migrations 8 and 9 (src/store/migrations/unique-logins.ts) on both engines:
// a database at version 7 holding a domain name on several tenants (in
// several cases) and a username equal to another user's email is migrated;
// the oldest tenant keeps each name, the others lose it with a warning, the
// shared login is reported and then names nobody. Then the store's rules on
// the migrated schema.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKyselyStore } from '../../src/store/kysely-store.js';
import { StoreConflictError } from '../../src/store/errors.js';
import { runMigrations } from '../../src/store/migrations/run-migrations.js';
import type { StoreDialect } from '../../src/store/store-dialect.js';
import type { Store } from '../../src/store/types.js';
import { type Logged, migrationEngines, recordingLogger } from '../helpers/migration-engines.js';

const NOW = Date.UTC(2026, 0, 1);
const BEFORE_UNIQUE_LOGINS = 7;

// uuids chosen so that "lowest uuid first" would pick the wrong tenant.
const MASTER = '00000000-0000-4000-8000-000000000001';
const YOUNG = '10000000-0000-4000-8000-000000000000';
const OLD = 'f0000000-0000-4000-8000-000000000000';
const OLD_CHILD = '20000000-0000-4000-8000-000000000000';
const NO_USERS = '30000000-0000-4000-8000-000000000000';

async function seedVersion7(dialect: StoreDialect): Promise<void> {
  const db = dialect.db;
  const tenant = (uuid: string, parent: string | null, names: string[]) =>
    sql`insert into tenants (uuid, name, slug, parent_uuid, domain_names)
        values (${uuid}, ${uuid.slice(0, 2)}, ${`t_${uuid.slice(0, 2)}`}, ${parent}, ${JSON.stringify(names)})`.execute(db);
  const user = (tenantUuid: string, username: string, email: string | null, createdAt: number) =>
    sql`insert into users (uuid, tenant_uuid, username, email_address, email_confirmed, purpose, enabled, created_at)
        values (${randomUUID()}, ${tenantUuid}, ${username}, ${email}, ${1}, 'user', ${1}, ${createdAt})`.execute(db);
  await tenant(MASTER, null, ['master.example']);
  // OLD's first user is older than YOUNG's: OLD keeps the names both hold.
  await tenant(YOUNG, MASTER, ['ACME.example', 'young.example', 'Shared.Example']);
  await tenant(OLD, MASTER, ['acme.EXAMPLE', 'old.example', 'OLD.example']);
  // OLD_CHILD's users are older than its parent's: still, a parent is older than its child.
  await tenant(OLD_CHILD, OLD, ['old.example', 'child.example']);
  // No users at all: deeper than MASTER, so MASTER keeps master.example.
  await tenant(NO_USERS, MASTER, ['master.example', 'shared.example']);
  await user(MASTER, 'admin', null, NOW + 50);
  await user(YOUNG, 'young-user', 'young@young.example', NOW + 40);
  await user(OLD, 'old-user', 'old@old.example', NOW + 30);
  await user(OLD_CHILD, 'child-user', null, NOW + 10);
  // One login, two users: a username equal to another user's email.
  await user(YOUNG, 'Shared@Login.example', null, NOW + 41);
  await user(OLD, 'other-user', 'shared@login.EXAMPLE', NOW + 31);
}

const engines = migrationEngines();

describe.each(engines)('unique logins and domains migration on %s', (_name, open) => {
  const logged: Logged[] = [];
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const opened = await open();
    cleanup = opened.cleanup;
    const logger = recordingLogger(logged);
    const old = { ...opened.dialect, migrations: opened.dialect.migrations.filter((m) => m.version <= BEFORE_UNIQUE_LOGINS) };
    await runMigrations(old, logger);
    await seedVersion7(opened.dialect);
    logged.length = 0;
    store = createKyselyStore(opened.dialect, logger);
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it('applies 8 and 9 (then the later ones)', () => {
    const applied = logged.filter((l) => l.msg === 'database migration applied').map((l) => l.o.version);
    expect(applied.slice(0, 2)).toEqual([8, 9]);
    expect(applied.every((v, i) => i === 0 || Number(v) > Number(applied[i - 1]))).toBe(true);
  });

  it('lower-cases every name and leaves it to the oldest tenant holding it', async () => {
    const names = async (uuid: string) => (await store.getTenant(uuid))?.domainNames;
    expect(await names(MASTER)).toEqual(['master.example']);
    expect(await names(OLD)).toEqual(['acme.example', 'old.example']);
    expect(await names(OLD_CHILD)).toEqual(['child.example']);
    expect(await names(YOUNG)).toEqual(['young.example', 'shared.example']);
    expect(await names(NO_USERS)).toEqual([]);
    for (const [name, owner] of [
      ['ACME.example', OLD],
      ['old.example', OLD],
      ['CHILD.example', OLD_CHILD],
      ['shared.example', YOUNG],
      ['master.EXAMPLE', MASTER],
    ]) {
      expect((await store.findTenantByDomainName(name))?.uuid, name).toBe(owner);
    }
  });

  it('logs each name it removed, with the tenant that keeps it', () => {
    const removed = logged.filter((l) => l.level === 'warn' && l.o.domain_name !== undefined).map((l) => l.o);
    expect(removed).toHaveLength(4);
    expect(removed).toEqual(
      expect.arrayContaining([
        { domain_name: 'acme.example', tenant_uuid: YOUNG, kept_by_tenant_uuid: OLD },
        { domain_name: 'old.example', tenant_uuid: OLD_CHILD, kept_by_tenant_uuid: OLD },
        { domain_name: 'master.example', tenant_uuid: NO_USERS, kept_by_tenant_uuid: MASTER },
        { domain_name: 'shared.example', tenant_uuid: NO_USERS, kept_by_tenant_uuid: YOUNG },
      ]),
    );
  });

  it("reports a username equal to another user's email, changes neither, and the login then names nobody", async () => {
    const shared = logged.filter((l) => l.level === 'warn' && l.o.username_user_uuid !== undefined);
    expect(shared).toHaveLength(1);
    expect(shared[0].o).toMatchObject({ username_tenant_uuid: YOUNG, email_tenant_uuid: OLD });
    const byUsername = await store.getUser(shared[0].o.username_user_uuid as string);
    const byEmail = await store.getUser(shared[0].o.email_user_uuid as string);
    expect(byUsername?.username).toBe('Shared@Login.example');
    expect(byEmail?.emailAddress).toBe('shared@login.EXAMPLE');
    expect(await store.findUserByLogin('shared@login.example')).toBeNull();
    expect(await store.findUserByLogin('SHARED@LOGIN.EXAMPLE')).toBeNull();
    // Their other logins still work.
    expect((await store.findUserByLogin('other-user'))?.uuid).toBe(byEmail?.uuid);
    // Editing something else of either user is not refused; changing the
    // username ends the ambiguity.
    expect((await store.updateUser(byUsername!.uuid, { username: 'Shared@Login.example', firstname: 'Kept' }))?.firstname).toBe(
      'Kept',
    );
    await store.updateUser(byUsername!.uuid, { username: 'young-shared' });
    expect((await store.findUserByLogin('shared@login.example'))?.uuid).toBe(byEmail?.uuid);
  });

  it('lets one of two concurrent writes of one login as a username and as an email through, never both', async () => {
    const holder = await store.createUser({
      uuid: randomUUID(),
      tenantUuid: OLD,
      username: 'race-holder',
      firstname: null,
      lastname: null,
      emailAddress: null,
      emailConfirmed: false,
      passwordHash: null,
      purpose: 'user',
      enabled: true,
      createdAt: NOW,
    });
    for (let round = 0; round < 10; round++) {
      const login = `race-${round}@race.example`;
      const results = await Promise.allSettled([
        store.createUser({
          uuid: randomUUID(),
          tenantUuid: YOUNG,
          username: login.toUpperCase(),
          firstname: null,
          lastname: null,
          emailAddress: null,
          emailConfirmed: false,
          passwordHash: null,
          purpose: 'user',
          enabled: true,
          createdAt: NOW,
        }),
        store.updateUser(holder.uuid, { emailAddress: login, emailConfirmed: true }),
      ]);
      expect(results.map((r) => r.status).sort(), login).toEqual(['fulfilled', 'rejected']);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(StoreConflictError);
      expect(await store.findUserByLogin(login)).not.toBeNull();
    }
  });

  it('refuses, from then on, a domain name another tenant holds, in any case, on create and update', async () => {
    const create = await store
      .createTenant({ uuid: randomUUID(), name: 'x', slug: null, parentUuid: MASTER, domainNames: ['Young.Example'] })
      .catch((e: unknown) => e);
    expect(create).toBeInstanceOf(StoreConflictError);
    expect((create as StoreConflictError).field).toBe('domain_names');
    const update = await store
      .updateTenant(NO_USERS, { domainNames: ['free.example', 'CHILD.EXAMPLE'] })
      .catch((e: unknown) => e);
    expect((update as StoreConflictError).field).toBe('domain_names');
    expect((await store.getTenant(NO_USERS))?.domainNames).toEqual([]);
    expect(await store.findTenantByDomainName('free.example')).toBeNull();
    // A tenant may keep (and re-case) its own names; deleting it frees them.
    expect(
      (await store.updateTenant(YOUNG, { domainNames: ['YOUNG.example', 'shared.example', 'Shared.example'] }))?.domainNames,
    ).toEqual(['young.example', 'shared.example']);
    expect(await store.deleteTenant(NO_USERS)).not.toBeNull();
    const freed = await store.createTenant({ uuid: randomUUID(), name: 'y', slug: null, parentUuid: MASTER, domainNames: [] });
    await store.deleteTenant(YOUNG);
    expect((await store.updateTenant(freed.uuid, { domainNames: ['young.example'] }))?.domainNames).toEqual(['young.example']);
    expect((await store.findTenantByDomainName('Young.Example'))?.uuid).toBe(freed.uuid);
  });
});

describe('unique logins and domains migration on an empty database', () => {
  it.each(engines)('%s: migrates with nothing to report', async (_name, open) => {
    const { dialect, cleanup } = await open();
    const logged: Logged[] = [];
    const store = createKyselyStore(dialect, recordingLogger(logged));
    try {
      await store.migrate();
      expect(logged.filter((l) => l.level === 'warn')).toEqual([]);
      expect(await store.findTenantByDomainName('nothing.example')).toBeNull();
    } finally {
      await store.close();
      await cleanup();
    }
  });
});
