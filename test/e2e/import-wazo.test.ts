// `xivo-auth import wazo-auth SOURCE_URI`: a database in wazo-auth's schema
// (test/helpers/wazo-fixture.ts) imported with the built CLI into each engine,
// then the service started on the result: old passwords log in (and are
// re-hashed to argon2id), old tokens check with their ACL, the old refresh
// token and client_id give a token, listings show what was imported. Running
// the import twice changes nothing; --dry-run writes nothing; a bad source
// is refused clearly. Needs `npm run build` and PostgreSQL.
import Database from 'better-sqlite3';
import type { InjectOptions } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src/main.js';
import { hashToken } from '../../src/tokens/material.js';
import { assertBuilt, emptyConfDir, killAllClis, runCli, writeConfigFile, type ExitResult } from '../helpers/cli.js';
import { createTestDatabase } from '../helpers/pg.js';
import { ADMIN, basic, dbUriFor, ENGINES, testConfig, type Engine } from '../helpers/service.js';
import { createWazoFixture, type WazoFixture } from '../helpers/wazo-fixture.js';

const TIMEOUT = 120_000;

let fixture: WazoFixture;

beforeAll(async () => {
  assertBuilt();
  fixture = await createWazoFixture();
}, TIMEOUT);

afterAll(async () => {
  await killAllClis();
  await fixture?.drop();
});

function configFor(dbUri: string): string {
  return writeConfigFile({ db_uri: dbUri, extra_config_files: emptyConfDir(), log_level: 'warning' });
}

function importCli(configFile: string, source: string, ...extra: string[]): Promise<ExitResult> {
  return runCli(['-c', configFile, 'import', 'wazo-auth', source, ...extra], { timeoutMs: 60_000 });
}

/** The summary's table: kind → [read, created, updated, unchanged, skipped]. */
function table(stdout: string): Map<string, number[]> {
  const rows = new Map<string, number[]>();
  for (const line of stdout.split('\n')) {
    const m = /^([a-z][a-z ]*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/.exec(line);
    if (m) rows.set(m[1], m.slice(2).map(Number));
  }
  return rows;
}

/** Tables of the target store, whatever the engine. */
async function tablesOf(engine: Engine, uri: string): Promise<string[]> {
  if (engine === 'sqlite') {
    const path = uri.slice('sqlite:'.length);
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true });
    } catch {
      return [];
    }
    try {
      return (db.prepare(`select name from sqlite_master where type = 'table'`).all() as { name: string }[]).map((r) => r.name);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    return (
      await client.query<{ table_name: string }>(`select table_name from information_schema.tables where table_schema = 'public'`)
    ).rows.map((r) => r.table_name);
  } finally {
    await client.end();
  }
}

async function startOn(dbUri: string): Promise<Service> {
  const logger = pino({ level: 'silent' }, { write() {} });
  const service = await createService(testConfig(dbUri), logger);
  await service.app.ready();
  return service;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

describe.each(ENGINES)('import wazo-auth into %s', (engine) => {
  let target: { uri: string; cleanup(): Promise<void> };
  let configFile: string;
  let service: Service | null = null;

  beforeAll(async () => {
    target = await dbUriFor(engine);
    configFile = configFor(target.uri);
  }, TIMEOUT);

  afterAll(async () => {
    await service?.close();
    await target?.cleanup();
  });

  const inject = (opts: InjectOptions) => service!.app.inject(opts);
  const login = (username: string, password: string, body: object = {}) =>
    inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { ...JSON_HEADERS, authorization: basic(username, password) },
      payload: body,
    });
  const as = (token: string, url: string, headers: Record<string, string> = {}) =>
    inject({
      method: 'GET',
      url,
      headers: { 'x-auth-token': token, ...headers },
    });

  it(
    '--dry-run counts what it would write and writes nothing',
    async () => {
      const res = await importCli(configFile, fixture.uri, '--dry-run');
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toContain('dry run: nothing was written');
      const rows = table(res.stdout);
      expect(rows.get('tenants')).toEqual([3, 3, 0, 0, 0]);
      expect(rows.get('users')).toEqual([4, 4, 0, 0, 0]);
      expect(await tablesOf(engine, target.uri)).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'imports everything, and prints a summary without secrets',
    async () => {
      const res = await importCli(configFile, fixture.uri);
      expect(res.code, res.stderr).toBe(0);
      const rows = table(res.stdout);
      expect(rows.get('tenants')).toEqual([3, 3, 0, 0, 0]);
      expect(rows.get('tenant domains')).toEqual([2, 2, 0, 0, 0]);
      expect(rows.get('users')).toEqual([4, 4, 0, 0, 0]);
      expect(rows.get('emails')).toEqual([3, 3, 0, 0, 0]);
      expect(rows.get('tenant contacts')).toEqual([1, 1, 0, 0, 0]);
      expect(rows.get('policies')).toEqual([4, 4, 0, 0, 0]);
      expect(rows.get('groups')).toEqual([4, 4, 0, 0, 0]);
      expect(rows.get('group members')).toEqual([5, 5, 0, 0, 0]);
      expect(rows.get('user policies')).toEqual([2, 2, 0, 0, 0]);
      expect(rows.get('group policies')).toEqual([4, 4, 0, 0, 0]);
      expect(rows.get('ldap configs')).toEqual([1, 1, 0, 0, 0]);
      // One IdP per tenant here: acme's second domain's row is skipped.
      expect(rows.get('saml configs')).toEqual([2, 1, 0, 0, 1]);
      expect(res.stdout).toContain('another domain of the tenant');
      expect(rows.get('refresh tokens')).toEqual([1, 1, 0, 0, 0]);
      expect(rows.get('sessions')).toEqual([2, 1, 0, 0, 1]);
      expect(rows.get('tokens')).toEqual([2, 1, 0, 0, 1]);
      expect(res.stdout).toContain('tokens: 1 expired');
      expect(res.stdout).toMatch(/1 user\(s\) log in with ldap in wazo-auth/);
      expect(res.stdout).toContain('import complete');
      const printed = res.stdout + res.stderr;
      for (const secret of [
        fixture.tokens.live,
        fixture.refreshToken.value,
        fixture.ldapBindPassword,
        fixture.users.alice.password,
        'pbkdf2',
      ]) {
        expect(printed).not.toContain(secret);
      }
    },
    TIMEOUT,
  );

  it(
    'running it again changes nothing',
    async () => {
      const res = await importCli(configFile, fixture.uri);
      expect(res.code, res.stderr).toBe(0);
      for (const [kind, [, created, updated]] of table(res.stdout)) {
        expect({ kind, created, updated }).toEqual({ kind, created: 0, updated: 0 });
      }
      expect(table(res.stdout).get('users')).toEqual([4, 0, 0, 4, 0]);
    },
    TIMEOUT,
  );

  it(
    'serves the imported data: the service starts on the store',
    async () => {
      service = await startOn(target.uri);
      const top = await service.store.getTopTenant();
      expect(top?.uuid).toBe(fixture.tenants.master);
      // Only a hash of a token or refresh token string is stored.
      expect(await service.store.findTokenByHash(hashToken(fixture.tokens.live))).not.toBeNull();
      expect(await service.store.findRefreshTokenByHash(hashToken(fixture.refreshToken.value))).not.toBeNull();
    },
    TIMEOUT,
  );

  it('checks a token wazo-auth issued: its ACL, metadata, session and expiry', async () => {
    const url = `/0.1/token/${fixture.tokens.live}`;
    expect((await inject({ method: 'HEAD', url: `${url}?scope=confd.users.me.read` })).statusCode).toBe(204);
    expect((await inject({ method: 'HEAD', url: `${url}?scope=calld.users.me.calls.read` })).statusCode).toBe(204);
    expect((await inject({ method: 'HEAD', url: `${url}?scope=confd.users.read` })).statusCode).toBe(403);
    const got = await inject({ method: 'GET', url });
    expect(got.statusCode, got.body).toBe(200);
    const data = got.json().data;
    expect(data).toMatchObject({
      token: fixture.tokens.live,
      auth_id: fixture.users.alice.uuid,
      session_uuid: fixture.tokens.liveSession,
      xivo_uuid: fixture.xivoUuid,
      acl: fixture.tokens.liveAcl,
      metadata: { uuid: fixture.users.alice.uuid, tenant_uuid: fixture.tenants.acme },
    });
    expect(Date.parse(data.utc_expires_at) - Date.now()).toBeGreaterThan(3000 * 1000);
    // The tenant check uses the session's tenant.
    expect((await inject({ method: 'HEAD', url: `${url}?tenant=${fixture.tenants.acme}` })).statusCode).toBe(204);
    // The expired one was left behind.
    expect((await inject({ method: 'HEAD', url: `/0.1/token/${fixture.tokens.expired}` })).statusCode).toBe(404);
  });

  it(
    'logs in with the wazo-auth password, then keeps only an argon2id hash',
    async () => {
      const { alice } = fixture.users;
      expect((await service!.store.getUser(alice.uuid))?.passwordHash).toMatch(/^pbkdf2-sha512\$250000\$/);
      expect((await login(alice.username, 'wrong-password')).statusCode).toBe(401);
      expect((await service!.store.getUser(alice.uuid))?.passwordHash).toMatch(/^pbkdf2-sha512\$/);
      const res = await login(alice.username, alice.password);
      expect(res.statusCode, res.body).toBe(200);
      const acl = res.json().data.acl as string[];
      // Her own policy, her group's, and the one of every user of her tenant (via the "all users" group).
      expect(acl).toEqual(expect.arrayContaining(['dird.directories.lookup.*.read', 'chatd.users.me.#', 'confd.users.me.read']));
      expect((await service!.store.getUser(alice.uuid))?.passwordHash).toMatch(/^\$argon2id\$/);
      expect((await login(alice.username, alice.password)).statusCode).toBe(200);
      // The main address, confirmed in wazo-auth, is a login too.
      expect((await login(alice.email, alice.password)).statusCode).toBe(200);
    },
    TIMEOUT,
  );

  it(
    'does not let a wazo-auth password work where wazo-auth would not take it',
    async () => {
      const { bob, carol } = fixture.users;
      expect((await login(bob.username, bob.password)).statusCode).toBe(401); // LDAP user
      expect((await login(carol.username, carol.password)).statusCode).toBe(401); // disabled
    },
    TIMEOUT,
  );

  it(
    'gives a token for the old refresh token and client_id',
    async () => {
      const ok = await inject({
        method: 'POST',
        url: '/0.1/token',
        headers: JSON_HEADERS,
        payload: { refresh_token: fixture.refreshToken.value, client_id: fixture.refreshToken.clientId },
      });
      expect(ok.statusCode, ok.body).toBe(200);
      expect(ok.json().data.metadata.uuid).toBe(fixture.users.alice.uuid);
      const wrongClient = await inject({
        method: 'POST',
        url: '/0.1/token',
        headers: JSON_HEADERS,
        payload: { refresh_token: fixture.refreshToken.value, client_id: 'another-client' },
      });
      expect(wrongClient.statusCode).toBe(401);
    },
    TIMEOUT,
  );

  it(
    'lists the imported tenants, users, policies and groups over HTTP',
    async () => {
      const { cli, alice } = fixture.users;
      const cliLogin = await login(cli.username, cli.password);
      expect(cliLogin.statusCode, cliLogin.body).toBe(200);
      const token = cliLogin.json().data.token as string;
      const top = { 'wazo-tenant': fixture.tenants.master };

      const users = await as(token, '/0.1/users?recurse=true&limit=100', top);
      expect(users.statusCode, users.body).toBe(200);
      const byName = new Map(
        (users.json().items as { username: string }[]).map((u) => [u.username, u as Record<string, unknown>]),
      );
      expect([...byName.keys()]).toEqual(expect.arrayContaining(['wazo-auth-cli', 'alice', 'bob', 'carol']));
      expect(byName.get('alice')).toMatchObject({
        uuid: alice.uuid,
        firstname: 'Alice',
        lastname: 'Liddell',
        tenant_uuid: fixture.tenants.acme,
        purpose: 'user',
        enabled: true,
      });
      expect(byName.get('carol')).toMatchObject({ enabled: false });
      const aliceEmails = (byName.get('alice')!.emails as { address: string; main: boolean; confirmed: boolean }[]).map((e) => ({
        address: e.address,
        main: e.main,
        confirmed: e.confirmed,
      }));
      expect(aliceEmails).toEqual(
        expect.arrayContaining([
          { address: alice.email, main: true, confirmed: true },
          { address: alice.otherEmail, main: false, confirmed: false },
        ]),
      );

      const policies = await as(token, '/0.1/policies?recurse=true&limit=100', top);
      expect(policies.statusCode, policies.body).toBe(200);
      const bySlug = new Map((policies.json().items as { slug: string }[]).map((p) => [p.slug, p as Record<string, unknown>]));
      expect(bySlug.get('sales')).toMatchObject({ uuid: fixture.policies.sales, tenant_uuid: fixture.tenants.acme });
      expect(bySlug.get('wazo_default_user_policy')).toMatchObject({
        uuid: fixture.policies.defaultUser,
        read_only: true,
        shared: true,
      });
      expect(bySlug.get('wazo_default_master_user_policy')).toMatchObject({ acl: ['#'], read_only: false });

      const tenants = await as(token, '/0.1/tenants?limit=100', top);
      expect(tenants.statusCode, tenants.body).toBe(200);
      const acme = (tenants.json().items as { uuid: string }[]).find((t) => t.uuid === fixture.tenants.acme) as Record<
        string,
        unknown
      >;
      expect(acme).toMatchObject({ slug: 'acme', name: 'ACME Corp', parent_uuid: fixture.tenants.master });
      expect(acme.domain_names).toEqual(['acme.example.com', 'acme.example.net']);

      const groups = await as(token, '/0.1/groups?recurse=true&limit=100', top);
      expect(groups.statusCode, groups.body).toBe(200);
      expect((groups.json().items as { uuid: string }[]).map((g) => g.uuid)).toEqual(
        expect.arrayContaining([fixture.groups.sales, fixture.groups.allUsers.acme]),
      );

      const ldap = await service!.store.getLdapConfig(fixture.tenants.acme);
      expect(ldap).toMatchObject({
        host: 'ldap.acme.example.com',
        port: 636,
        protocolSecurity: 'ldaps',
        bindPassword: fixture.ldapBindPassword,
      });
      const backends = await as(token, '/0.1/backends/ldap', { 'wazo-tenant': fixture.tenants.acme });
      expect(backends.body).not.toContain(fixture.ldapBindPassword);

      // acme's SAML IdP: the settings as wazo-auth had them, and a login starts at that IdP.
      const saml = await as(token, '/0.1/backends/saml', { 'wazo-tenant': fixture.tenants.acme });
      expect(saml.statusCode, saml.body).toBe(200);
      expect(saml.json()).toMatchObject({
        tenant_uuid: fixture.tenants.acme,
        entity_id: fixture.saml.entityId,
        acs_url: fixture.saml.acsUrl,
        idp_entity_id: fixture.saml.idpEntityId,
      });
      const sso = await inject({
        method: 'POST',
        url: '/0.1/saml/sso',
        headers: JSON_HEADERS,
        payload: { domain: 'acme.example.net', redirect_url: 'https://portal.acme.example.com/' },
      });
      expect(sso.statusCode, sso.body).toBe(200);
      expect(sso.json().location).toMatch(new RegExp(`^${fixture.saml.ssoUrl}\\?SAMLRequest=`));
    },
    TIMEOUT,
  );

  it(
    'a run while the service serves: new wazo-auth tokens check at once; a re-hashed password stays',
    async () => {
      const fresh = await fixture.addLiveToken(['webhookd.#']);
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${fresh}` })).statusCode).toBe(404);
      const res = await importCli(configFile, fixture.uri);
      expect(res.code, res.stderr).toBe(0);
      const rows = table(res.stdout);
      expect(rows.get('tokens')?.[1]).toBe(1);
      // alice's argon2id hash (from her login) is not replaced by wazo-auth's PBKDF2 one.
      expect(rows.get('users')).toEqual([4, 0, 0, 4, 0]);
      expect((await service!.store.getUser(fixture.users.alice.uuid))?.passwordHash).toMatch(/^\$argon2id\$/);
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${fresh}?scope=webhookd.subscriptions.read` })).statusCode).toBe(
        204,
      );
      await fixture.revokeToken(fresh);
    },
    TIMEOUT,
  );
});

describe('import wazo-auth: what is refused', () => {
  it(
    'an unreachable source: exit 1, a clear message, no password shown',
    async () => {
      const target = await dbUriFor('sqlite');
      try {
        const res = await importCli(configFor(target.uri), 'postgresql://wazo:hunter2-secret@127.0.0.1:1/asterisk');
        expect(res.code).toBe(1);
        expect(res.stderr).toContain('cannot connect to the wazo-auth database at postgresql://wazo:***@127.0.0.1:1/asterisk');
        expect(res.stdout + res.stderr).not.toContain('hunter2-secret');
      } finally {
        await target.cleanup();
      }
    },
    TIMEOUT,
  );

  it(
    "a database that is not wazo-auth's, and an unknown schema revision",
    async () => {
      const target = await dbUriFor('sqlite');
      const empty = await createTestDatabase();
      const future = await createWazoFixture({ revision: 'ffffffffffff' });
      try {
        const cfg = configFor(target.uri);
        const notWazo = await importCli(cfg, empty.uri);
        expect(notWazo.code).toBe(1);
        expect(notWazo.stderr).toContain('is not a wazo-auth database: it has no alembic_version table');
        const unknown = await importCli(cfg, future.uri);
        expect(unknown.code).toBe(1);
        expect(unknown.stderr).toContain('unsupported wazo-auth schema revision ffffffffffff');
        expect(unknown.stderr).toContain('1c862ebfbb3a');
        expect(await tablesOf('sqlite', target.uri)).not.toContain('tenants');
      } finally {
        await future.drop();
        await empty.drop();
        await target.cleanup();
      }
    },
    TIMEOUT,
  );

  it(
    'bad usage: no source URI, another source, --dry-run elsewhere (exit 2)',
    async () => {
      const cfg = configFor('sqlite::memory:');
      expect((await runCli(['-c', cfg, 'import', 'wazo-auth'])).code).toBe(2);
      expect((await runCli(['-c', cfg, 'import', 'keycloak', 'postgresql://x@y/z'])).code).toBe(2);
      expect((await runCli(['-c', cfg, 'migrate', '--dry-run'])).code).toBe(2);
      const help = await runCli(['--help']);
      expect(help.stdout).toContain('import wazo-auth SOURCE_URI [--dry-run]');
    },
    TIMEOUT,
  );

  it(
    'a store whose own top tenant holds data: refused, nothing written; one holding only what xivo-auth makes at start-up: replaced',
    async () => {
      const used = await dbUriFor('sqlite');
      const pristine = await dbUriFor('sqlite');
      try {
        // The bootstrap administrator lives in xivo-auth's own top tenant.
        const withAdmin = await startOn(used.uri);
        const ownTop = (await withAdmin.store.getTopTenant())!.uuid;
        await withAdmin.close();
        const refused = await importCli(configFor(used.uri), fixture.uri);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(`already has a top tenant of its own (${ownTop}`);
        expect(refused.stderr).toContain('1 user(s)');
        const after = await startOn(used.uri);
        expect((await after.store.getTopTenant())!.uuid).toBe(ownTop);
        expect(await after.store.getUser(fixture.users.alice.uuid)).toBeNull();
        await after.close();

        // Started once without a bootstrap administrator: only its top tenant and "all users" group.
        const logger = pino({ level: 'silent' }, { write() {} });
        const bare = await createService({ ...testConfig(pristine.uri), bootstrap_user_on_startup: false }, logger);
        await bare.close();
        const replaced = await importCli(configFor(pristine.uri), fixture.uri);
        expect(replaced.code, replaced.stderr).toBe(0);
        expect(replaced.stdout).toContain("is replaced by wazo-auth's");
        const served = await startOn(pristine.uri);
        try {
          expect((await served.store.getTopTenant())!.uuid).toBe(fixture.tenants.master);
          const admin = await served.app.inject({
            method: 'POST',
            url: '/0.1/token',
            headers: { ...JSON_HEADERS, authorization: basic(ADMIN.username, ADMIN.password) },
            payload: {},
          });
          expect(admin.statusCode, admin.body).toBe(200);
        } finally {
          await served.close();
        }
      } finally {
        await used.cleanup();
        await pristine.cleanup();
      }
    },
    TIMEOUT,
  );
});
