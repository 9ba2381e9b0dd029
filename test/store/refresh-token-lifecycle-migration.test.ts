// Migration 12 (src/store/migrations/refresh-token-lifecycle.ts) on both
// engines: a database at version 11 holding a refresh token is migrated; the
// refresh token keeps its data and created_at, and starts its idle window at
// the migration. A row written without last_used_at (as an import may) is
// measured from its creation. Retired hashes go with their family.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKyselyStore } from '../../src/store/kysely-store.js';
import { runMigrations } from '../../src/store/migrations/run-migrations.js';
import type { StoreDialect } from '../../src/store/store-dialect.js';
import type { Store } from '../../src/store/types.js';
import { type Logged, migrationEngines, QUIET_LOGGER, recordingLogger } from '../helpers/migration-engines.js';

const BEFORE_LIFECYCLE = 11;
const TENANT = '00000000-0000-4000-8000-000000000001';
const USER = '00000000-0000-4000-8000-0000000000aa';
const REFRESH = '00000000-0000-4000-8000-0000000000bb';
const HASH = 'a'.repeat(64);
const CREATED = Date.UTC(2020, 0, 1);
const DAY = 86_400_000;

const quiet = QUIET_LOGGER;
const logged: Logged[] = [];
const recording = recordingLogger(logged);

const engines = migrationEngines();

describe.each(engines)('refresh-token lifecycle migration on %s', (_name, open) => {
  let store: Store;
  let dialect: StoreDialect;
  let cleanup: () => Promise<void>;
  let migratedFrom: number;
  let migratedTo: number;

  beforeAll(async () => {
    const opened = await open();
    dialect = opened.dialect;
    cleanup = opened.cleanup;
    await runMigrations({ ...dialect, migrations: dialect.migrations.filter((m) => m.version <= BEFORE_LIFECYCLE) }, quiet);
    await sql`insert into tenants (uuid, name, slug, parent_uuid, domain_names)
              values (${TENANT}, 'master', 'master', ${null}, '[]')`.execute(dialect.db);
    await sql`insert into users (uuid, tenant_uuid, username, purpose, enabled, created_at)
              values (${USER}, ${TENANT}, 'alice', 'user', ${1}, ${CREATED})`.execute(dialect.db);
    await sql`insert into refresh_tokens (uuid, hash, client_id, user_uuid, tenant_uuid, backend, login, mobile, created_at)
              values (${REFRESH}, ${HASH}, 'phone', ${USER}, ${TENANT}, 'xivo_user', 'alice', ${1}, ${CREATED})`.execute(
      dialect.db,
    );
    logged.length = 0;
    store = createKyselyStore(dialect, recording);
    migratedFrom = Date.now();
    await store.migrate();
    migratedTo = Date.now();
  });

  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it('applies 12 (and the later ones), nothing before', () => {
    const applied = logged.filter((l) => l.msg === 'database migration applied').map((l) => Number(l.o.version));
    expect(applied[0]).toBe(12);
    expect(applied.every((v) => v >= 12)).toBe(true);
  });

  it('keeps the refresh token and its created_at; its idle window starts at the migration', async () => {
    const rt = await store.findRefreshTokenByHash(HASH);
    expect(rt).toMatchObject({
      uuid: REFRESH,
      clientId: 'phone',
      userUuid: USER,
      tenantUuid: TENANT,
      backend: 'xivo_user',
      login: 'alice',
      mobile: true,
      createdAt: CREATED,
    });
    expect(rt!.lastUsedAt).toBeGreaterThanOrEqual(migratedFrom);
    expect(rt!.lastUsedAt).toBeLessThanOrEqual(migratedTo);
    // Idle-expired only an idle timeout after the upgrade; the absolute lifetime counts from created_at.
    expect(await store.deleteExpiredRefreshTokens({ lastUsedBefore: migratedFrom - 1, createdBefore: null }, 10)).toEqual([]);
  });

  it('measures a row written without last_used_at from its creation', async () => {
    const uuid = randomUUID();
    const hash = 'b'.repeat(64);
    await sql`insert into refresh_tokens (uuid, hash, client_id, user_uuid, tenant_uuid, backend, login, mobile, created_at)
              values (${uuid}, ${hash}, 'imported', ${USER}, ${TENANT}, 'xivo_user', 'alice', ${0}, ${CREATED})`.execute(
      dialect.db,
    );
    expect((await store.findRefreshTokenByHash(hash))?.lastUsedAt).toBe(CREATED);
    const removed = await store.deleteExpiredRefreshTokens({ lastUsedBefore: CREATED + DAY, createdBefore: null }, 10);
    expect(removed.map((rt) => rt.uuid)).toEqual([uuid]);
  });

  it('keeps retired hashes with their family only (foreign key, cascade)', async () => {
    await expect(
      sql`insert into refresh_token_retired (hash, family_uuid, retired_at)
                     values (${'c'.repeat(64)}, ${randomUUID()}, ${CREATED})`.execute(dialect.db),
    ).rejects.toThrow();
    expect(
      await store.useRefreshToken({
        uuid: REFRESH,
        hash: HASH,
        at: migratedTo,
        rotateTo: { hash: 'd'.repeat(64), keepRetired: 5 },
      }),
    ).toBe(true);
    expect(await store.findRetiredRefreshToken(HASH)).toEqual({ hash: HASH, familyUuid: REFRESH, retiredAt: migratedTo });
    await store.deleteRefreshToken(USER, 'phone');
    expect(await store.findRetiredRefreshToken(HASH)).toBeNull();
  });
});
