// Migrations 15 (src/store/migrations/mfa.ts) and 17
// (src/store/migrations/mfa-tenant-policy.ts) on both engines: a database at
// version 14 holding tenants, users, a session and its token is upgraded to
// the latest version; everything keeps its data, and the MFA tables work
// (factors, recovery codes, login challenges with and without a single
// sign-on principal, per-tenant policies up the tenant tree), going with
// their user or tenant.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKyselyStore } from '../../src/store/kysely-store.js';
import { expectedSchemaVersion, runMigrations } from '../../src/store/migrations/run-migrations.js';
import type { StoreDialect } from '../../src/store/store-dialect.js';
import type { Store } from '../../src/store/types.js';
import { hashToken } from '../../src/tokens/material.js';
import { migrationEngines, QUIET_LOGGER } from '../helpers/migration-engines.js';

const BEFORE_MFA = 14;
const MASTER = '00000000-0000-4000-8000-000000000001';
const CHILD = '00000000-0000-4000-8000-000000000002';
const LEAF = '00000000-0000-4000-8000-000000000003';
const USER = '00000000-0000-4000-8000-0000000000aa';
const OTHER = '00000000-0000-4000-8000-0000000000bb';
const SESSION = '00000000-0000-4000-8000-0000000000cc';
const TOKEN = 'kept-token-value';

const engines = migrationEngines();

describe.each(engines)('mfa migrations on %s', (_name, open) => {
  let store: Store;
  let dialect: StoreDialect;
  let cleanup: () => Promise<void>;
  const now = Date.now();

  beforeAll(async () => {
    const opened = await open();
    dialect = opened.dialect;
    cleanup = opened.cleanup;
    await runMigrations({ ...dialect, migrations: dialect.migrations.filter((m) => m.version <= BEFORE_MFA) }, QUIET_LOGGER);
    const db = dialect.db;
    await sql`insert into tenants (uuid, name, slug, parent_uuid, domain_names) values (${MASTER}, 'master', 'master', ${null}, '[]')`.execute(
      db,
    );
    await sql`insert into tenants (uuid, name, slug, parent_uuid, domain_names) values (${CHILD}, 'child', 'child', ${MASTER}, '[]')`.execute(
      db,
    );
    await sql`insert into tenants (uuid, name, slug, parent_uuid, domain_names) values (${LEAF}, 'leaf', 'leaf', ${CHILD}, '[]')`.execute(
      db,
    );
    for (const [uuid, username] of [
      [USER, 'kept-user'],
      [OTHER, 'other-user'],
    ]) {
      await sql`insert into users (uuid, tenant_uuid, username, password_hash, purpose, enabled, created_at)
                values (${uuid}, ${LEAF}, ${username}, 'kept-hash', 'user', ${1}, ${now})`.execute(db);
    }
    await sql`insert into sessions (uuid, tenant_uuid, user_uuid, mobile, created_at) values (${SESSION}, ${LEAF}, ${USER}, ${0}, ${now})`.execute(
      db,
    );
    await sql`insert into tokens (hash, session_uuid, auth_id, user_uuid, tenant_uuid, issued_at, expires_at, acl, metadata)
              values (${hashToken(TOKEN)}, ${SESSION}, ${USER}, ${USER}, ${LEAF}, ${now}, ${now + 3_600_000}, '["confd.#"]', '{"purpose": "user"}')`.execute(
      db,
    );
    store = createKyselyStore(dialect, QUIET_LOGGER);
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it('reaches the latest version (17 at least) with nothing missing', async () => {
    const version = await store.schemaVersion();
    expect(version.expected).toBe(expectedSchemaVersion(dialect.migrations));
    expect(version.expected).toBeGreaterThanOrEqual(17);
    expect(version).toMatchObject({ current: version.expected, missing: [], unknown: [] });
  });

  it('keeps tenants, users, the session and its token', async () => {
    expect(await store.getTenant(LEAF)).toMatchObject({ name: 'leaf', parentUuid: CHILD });
    expect(await store.getUser(USER)).toMatchObject({ tenantUuid: LEAF, username: 'kept-user' });
    const token = await store.findTokenByHash(hashToken(TOKEN));
    expect(token).toMatchObject({
      sessionUuid: SESSION,
      userUuid: USER,
      tenantUuid: LEAF,
      acl: ['confd.#'],
      expiresAt: now + 3_600_000,
    });
  });

  it('stores factors and recovery codes of an existing user, and they go with the user', async () => {
    const factor = {
      uuid: '00000000-0000-4000-8000-0000000000f1',
      userUuid: OTHER,
      tenantUuid: LEAF,
      type: 'totp' as const,
      name: 'phone',
      secret: 'sealed',
      confirmed: false,
      lastStep: null,
      createdAt: now,
      confirmedAt: null,
    };
    await store.insertMfaFactor(factor);
    expect(await store.confirmMfaFactor(factor.uuid, now, 10)).toBe(true);
    expect(await store.acceptTotpStep(factor.uuid, 10)).toBe(false);
    expect(await store.acceptTotpStep(factor.uuid, 11)).toBe(true);
    await store.replaceRecoveryCodes(
      {
        ...factor,
        uuid: '00000000-0000-4000-8000-0000000000f2',
        type: 'recovery_code',
        secret: null,
        confirmed: true,
        confirmedAt: now,
      },
      ['h1', 'h2'],
    );
    expect(await store.useRecoveryCode(OTHER, 'h1', now)).toBe(true);
    expect(await store.useRecoveryCode(OTHER, 'h1', now)).toBe(false);
    const listed = await store.listMfaFactors(OTHER);
    expect(listed.map((f) => [f.type, f.confirmed, f.remaining])).toEqual([
      ['totp', true, null],
      ['recovery_code', true, 1],
    ]);
    await sql`delete from users where uuid = ${OTHER}`.execute(dialect.db);
    expect(await store.listMfaFactors(OTHER)).toEqual([]);
  });

  it('stores login challenges, with the single sign-on principal when there is one, used once', async () => {
    await store.insertMfaChallenge('c-password', USER, 'binding-1', now + 60_000);
    await store.insertMfaChallenge('c-sso', USER, 'binding-2', now + 60_000, '{"method":"oidc"}');
    expect(await store.peekMfaChallenge('c-password', now)).toEqual({ userUuid: USER, binding: 'binding-1', sso: null });
    expect(await store.useMfaChallenge('c-sso', now)).toEqual({ userUuid: USER, binding: 'binding-2', sso: '{"method":"oidc"}' });
    expect(await store.useMfaChallenge('c-sso', now)).toBeNull();
    expect(await store.useMfaChallenge('c-password', now + 60_000)).toBeNull();
  });

  it('stores per-tenant policies, read up the tenant tree, replaced in place and gone with their tenant', async () => {
    expect(await store.listMfaTenantPolicies(LEAF)).toEqual([]);
    await store.putMfaTenantPolicy({ tenantUuid: MASTER, acl: ['confd.#'], purposes: [], updatedAt: now });
    await store.putMfaTenantPolicy({ tenantUuid: CHILD, acl: [], purposes: ['user'], updatedAt: now });
    await store.putMfaTenantPolicy({ tenantUuid: CHILD, acl: ['auth.#'], purposes: ['internal'], updatedAt: now + 1 });
    const lineage = (await store.listMfaTenantPolicies(LEAF)).sort((a, b) => a.tenantUuid.localeCompare(b.tenantUuid));
    expect(lineage).toEqual([
      { tenantUuid: MASTER, acl: ['confd.#'], purposes: [], updatedAt: now },
      { tenantUuid: CHILD, acl: ['auth.#'], purposes: ['internal'], updatedAt: now + 1 },
    ]);
    // Not down the tree: the top tenant only sees its own.
    expect((await store.listMfaTenantPolicies(MASTER)).map((p) => p.tenantUuid)).toEqual([MASTER]);
    expect(await store.getMfaTenantPolicy(LEAF)).toBeNull();
    await store.putMfaTenantPolicy({ tenantUuid: LEAF, acl: [], purposes: ['user'], updatedAt: now });
    await sql`delete from tokens`.execute(dialect.db);
    await sql`delete from sessions`.execute(dialect.db);
    await sql`delete from users`.execute(dialect.db);
    await sql`delete from tenants where uuid = ${LEAF}`.execute(dialect.db);
    expect(await store.getMfaTenantPolicy(LEAF)).toBeNull();
    expect(await store.getMfaTenantPolicy(CHILD)).not.toBeNull();
  });
});
