// Migration 10 (src/store/migrations/user-emails.ts) on both engines: a
// database at version 9 whose users have one address each in
// users.email_address (confirmed or not) is migrated; every address becomes
// its user's main address in user_emails with its flag, the old columns go,
// and each user gets the authentication method of its purpose.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKyselyStore } from '../../src/store/kysely-store.js';
import { StoreConflictError } from '../../src/store/errors.js';
import { runMigrations } from '../../src/store/migrations/run-migrations.js';
import type { StoreDialect } from '../../src/store/store-dialect.js';
import type { Store } from '../../src/store/types.js';
import { type Logged, migrationEngines, QUIET_LOGGER, recordingLogger } from '../helpers/migration-engines.js';

const NOW = Date.UTC(2026, 0, 1);
const BEFORE_USER_EMAILS = 9;
const TENANT = '00000000-0000-4000-8000-000000000001';
const silent = QUIET_LOGGER;

interface Seeded {
  uuid: string;
  username: string;
  email: string | null;
  confirmed: boolean;
  purpose: string;
}

const SEED: Seeded[] = [
  { uuid: randomUUID(), username: 'confirmed', email: 'Confirmed@Example.com', confirmed: true, purpose: 'user' },
  { uuid: randomUUID(), username: 'unconfirmed', email: 'unconfirmed@example.com', confirmed: false, purpose: 'user' },
  { uuid: randomUUID(), username: 'no-email', email: null, confirmed: false, purpose: 'user' },
  { uuid: randomUUID(), username: 'service', email: 'service@example.com', confirmed: true, purpose: 'internal' },
  { uuid: randomUUID(), username: 'api', email: null, confirmed: false, purpose: 'external_api' },
];

async function seedVersion9(dialect: StoreDialect): Promise<void> {
  const db = dialect.db;
  await sql`insert into tenants (uuid, name, slug, parent_uuid) values (${TENANT}, 'master', 'master', ${null})`.execute(db);
  for (const u of SEED) {
    await sql`insert into users (uuid, tenant_uuid, username, email_address, email_confirmed, password_hash, purpose, enabled, created_at)
      values (${u.uuid}, ${TENANT}, ${u.username}, ${u.email}, ${u.confirmed ? 1 : 0}, ${null}, ${u.purpose}, ${1}, ${NOW})`.execute(
      db,
    );
  }
}

const engines = migrationEngines();

async function columnsOf(dialect: StoreDialect, table: string): Promise<string[]> {
  if (dialect.engine === 'sqlite') {
    const { rows } = await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(dialect.db);
    return rows.map((r) => r.name);
  }
  const { rows } = await sql<{ column_name: string }>`
    select column_name from information_schema.columns where table_schema = current_schema() and table_name = ${table}`.execute(
    dialect.db,
  );
  return rows.map((r) => r.column_name);
}

describe.each(engines)('user email addresses migration on %s', (_name, open) => {
  const logged: Logged[] = [];
  let store: Store;
  let dialect: StoreDialect;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const opened = await open();
    dialect = opened.dialect;
    cleanup = opened.cleanup;
    const logger = recordingLogger(logged);
    await runMigrations({ ...dialect, migrations: dialect.migrations.filter((m) => m.version <= BEFORE_USER_EMAILS) }, silent);
    await seedVersion9(dialect);
    store = createKyselyStore(dialect, logger);
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it('applies 10, saying how many addresses moved', () => {
    const applied = logged.filter((l) => l.msg === 'database migration applied').map((l) => l.o.version);
    expect(applied[0]).toBe(10);
    expect(logged.find((l) => l.msg === 'user email addresses moved to user_emails')?.o).toEqual({ count: 3 });
  });

  it("makes each stored address its user's main address, with its confirmed flag and a uuid of its own", async () => {
    const uuids = new Set<string>();
    for (const u of SEED) {
      const user = await store.getUser(u.uuid);
      if (u.email === null) {
        expect(user?.emails, u.username).toEqual([]);
        continue;
      }
      expect(user?.emails, u.username).toEqual([
        { uuid: expect.stringMatching(/^[0-9a-f-]{36}$/), address: u.email, main: true, confirmed: u.confirmed },
      ]);
      expect(user?.emailAddress).toBe(u.email);
      expect(user?.emailConfirmed).toBe(u.confirmed);
      uuids.add(user!.emails[0].uuid);
    }
    expect(uuids.size).toBe(3);
  });

  it('keeps the logins: a confirmed address (any case) logs in, an unconfirmed one does not', async () => {
    expect((await store.findUserByLogin('confirmed@example.COM'))?.uuid).toBe(SEED[0].uuid);
    expect(await store.findUserByLogin('unconfirmed@example.com')).toBeNull();
    expect((await store.findUserByLogin('unconfirmed'))?.uuid).toBe(SEED[1].uuid);
  });

  it('gives each user the authentication method of its purpose', async () => {
    const methods = await Promise.all(SEED.map(async (u) => (await store.getUser(u.uuid))?.authenticationMethod));
    expect(methods).toEqual(['default', 'default', 'default', 'native', 'native']);
  });

  it('drops users.email_address and users.email_confirmed; the addresses stay unique case-insensitively', async () => {
    const columns = await columnsOf(dialect, 'users');
    expect(columns).toContain('authentication_method');
    expect(columns).not.toContain('email_address');
    expect(columns).not.toContain('email_confirmed');
    expect((await columnsOf(dialect, 'user_emails')).sort()).toEqual(['address', 'confirmed', 'main', 'user_uuid', 'uuid']);
    const err = await store
      .replaceUserEmails(SEED[2].uuid, [{ address: 'CONFIRMED@example.com', main: true, confirmed: true }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreConflictError);
    expect((err as StoreConflictError).field).toBe('email_address');
  });
});
