// xivo_service (service accounts from the configuration) and third-party
// backend plugins: the example plugin of examples/backend-plugin, and broken
// ones (test/fixtures/backend-plugins) that must never take the service down.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Algorithm, hash } from '@node-rs/argon2';
import { beforeAll, describe, expect, it } from 'vitest';
import { maskSecrets, MASK } from '../../src/config/index.js';
import { iamApi, UNKNOWN_UUID } from '../helpers/iam.js';
import { basic, ENGINES, FAST_HASHING } from '../helpers/service.js';
import { startLoggedService, type LoggedService } from './logged-service.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixture = (name: string) => path.join(ROOT, 'test', 'fixtures', 'backend-plugins', name);

const MONITOR_ACL = ['confd.#', '!confd.users.*.delete'];
const PBX_USER_UUID = '7d1b4a35-3a4f-4c55-9a3e-6f0e4d2c9b10';

describe.each(ENGINES)('backends on %s', (engine) => {
  let t: LoggedService;
  const api = iamApi(() => t);
  const login = (user: string, password: string, backend?: string) =>
    api.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { 'content-type': 'application/json', authorization: basic(user, password) },
      payload: backend === undefined ? {} : { backend },
    });

  beforeAll(async () => {
    const monitorHash = await hash('monitor-password', {
      algorithm: Algorithm.Argon2id,
      memoryCost: FAST_HASHING.memory_kib,
      timeCost: 1,
      parallelism: 1,
    });
    t = await startLoggedService(engine, {
      enabled_backend_plugins: {
        xivo_user: true,
        ldap_user: true,
        xivo_service: true,
        static_accounts: true,
        throws_at_load: true,
        throws_at_login: true,
        never_answers: true,
        no_factory: true,
        missing_module: true,
        missing_package: true,
        bad_identity: true,
        pbx_identity: true,
        not_configured: true,
        disabled_example: false,
      },
      service_accounts: {
        monitor: { password_hash: monitorHash, acl: MONITOR_ACL },
        provd: { password: 'provd-plain-password', acl: ['provd.#'] },
      },
      backend_plugins: {
        // Relative to the current directory (the repository root under vitest).
        static_accounts: {
          module: './examples/backend-plugin/index.js',
          options: {
            accounts: {
              kiosk: { password: 'kiosk-password', acl: ['confd.parkings.read'] },
              'admin-alias': { password: 'alias-password', local_user: 'admin', acl: ['extra.access'] },
            },
          },
        },
        disabled_example: { module: './examples/backend-plugin/index.js' },
        throws_at_load: { module: fixture('throws-at-load.js') },
        throws_at_login: { module: fixture('throws-at-login.js') },
        never_answers: { module: fixture('never-answers.js') },
        no_factory: { module: fixture('no-factory.js') },
        missing_module: { module: fixture('does-not-exist.js') },
        missing_package: { module: 'xivo-auth-no-such-plugin-package' },
        bad_identity: { module: fixture('bad-identity.js'), options: { ghost: UNKNOWN_UUID } },
        pbx_identity: { module: fixture('pbx-identity.js'), options: { pbx: PBX_USER_UUID } },
      },
      backend_plugin_timeout: 0.3,
    });
  });

  it('GET /backends lists the built-ins and the plugins that loaded, nothing else', async () => {
    const res = await api.inject({ method: 'GET', url: '/0.1/backends' });
    expect(res.json()).toEqual({
      data: [
        'xivo_user',
        'ldap_user',
        'xivo_service',
        'static_accounts',
        'throws_at_login',
        'never_answers',
        'bad_identity',
        'pbx_identity',
      ],
    });
  });

  it('logs each plugin that failed to load, by name', () => {
    const failed = t.lines
      .map((l) => JSON.parse(l) as { msg: string; backend?: string })
      .filter((l) => l.msg === 'backend failed to load: left out')
      .map((l) => l.backend);
    expect(failed.sort()).toEqual(['missing_module', 'missing_package', 'no_factory', 'throws_at_load']);
    expect(t.lines.some((l) => l.includes('unknown backend in enabled_backend_plugins') && l.includes('not_configured'))).toBe(
      true,
    );
  });

  describe('xivo_service', () => {
    it('logs a service account in with the ACL of the configuration, purpose internal', async () => {
      const res = await login('monitor', 'monitor-password', 'xivo_service');
      expect(res.statusCode, res.body).toBe(200);
      const data = res.json().data;
      expect(data.acl).toEqual(MONITOR_ACL);
      expect(data.auth_id).toBe('monitor');
      expect(data.metadata).toMatchObject({ purpose: 'internal', uuid: null, service_account: 'monitor', pbx_user_uuid: null });
      expect(data.xivo_user_uuid).toBeNull();
      expect((await api.inject({ method: 'HEAD', url: `/0.1/token/${data.token}?scope=confd.users.read` })).statusCode).toBe(204);
      expect((await api.inject({ method: 'HEAD', url: `/0.1/token/${data.token}?scope=confd.users.1.delete` })).statusCode).toBe(
        403,
      );
    });

    it('hashes a plain password at start-up', async () => {
      const res = await login('provd', 'provd-plain-password', 'xivo_service');
      expect(res.statusCode).toBe(200);
      expect(res.json().data.acl).toEqual(['provd.#']);
    });

    it('refuses a wrong password, an unknown account, and local users', async () => {
      for (const [user, password] of [
        ['monitor', 'wrong'],
        ['monitor', 'monitor-password '],
        ['nobody', 'monitor-password'],
        ['admin', 'admin-secret-password'],
      ]) {
        expect((await login(user, password, 'xivo_service')).statusCode, user).toBe(401);
      }
      // Service accounts are not xivo_user users.
      expect((await login('monitor', 'monitor-password')).statusCode).toBe(401);
    });
  });

  describe('the example plugin', () => {
    it('logs in an account of its own with its ACL', async () => {
      const res = await login('kiosk', 'kiosk-password', 'static_accounts');
      expect(res.statusCode, res.body).toBe(200);
      const data = res.json().data;
      expect(data.auth_id).toBe('static:kiosk');
      expect(data.acl).toEqual(['confd.parkings.read']);
      expect(data.metadata).toMatchObject({ purpose: 'external_api', static_account: 'kiosk', uuid: null });
    });

    it("logs in as a local user: that user's identity, plus the plugin's ACL", async () => {
      const adminUuid = (await api.inject({ method: 'GET', url: `/0.1/token/${await api.adminToken()}` })).json().data.auth_id;
      const res = await login('admin-alias', 'alias-password', 'static_accounts');
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().data.auth_id).toBe(adminUuid);
      expect(res.json().data.acl).toContain('extra.access');
    });

    it("a plugin's own pbxUserUuid is kept; without one the token names no PBX user", async () => {
      const named = await login('desk-phone', 'pbx-password', 'pbx_identity');
      expect(named.statusCode, named.body).toBe(200);
      expect(named.json().data.xivo_user_uuid).toBe(PBX_USER_UUID);
      expect(named.json().data.metadata).toMatchObject({ pbx_user_uuid: PBX_USER_UUID, purpose: 'external_api' });
      const stored = (await api.inject({ method: 'GET', url: `/0.1/token/${named.json().data.token}` })).json().data;
      expect(stored.xivo_user_uuid).toBe(PBX_USER_UUID);
      expect(stored.metadata.pbx_user_uuid).toBe(PBX_USER_UUID);
      const unnamed = (await login('no-pbx', 'pbx-password', 'pbx_identity')).json().data;
      expect(unnamed.xivo_user_uuid).toBeNull();
      expect(unnamed.metadata.pbx_user_uuid).toBeNull();
      const kiosk = (await login('kiosk', 'kiosk-password', 'static_accounts')).json().data;
      expect(kiosk.xivo_user_uuid).toBeNull();
    });

    it('refuses wrong passwords and unknown accounts', async () => {
      expect((await login('kiosk', 'wrong', 'static_accounts')).statusCode).toBe(401);
      expect((await login('nobody', 'kiosk-password', 'static_accounts')).statusCode).toBe(401);
      expect((await login('kiosk', 'kiosk-password', 'disabled_example')).statusCode).toBe(401);
    });
  });

  describe('broken plugins', () => {
    it('a plugin that throws, or never answers, gives 401; the service stays up', async () => {
      for (const [password, backend] of [
        ['x', 'throws_at_login'],
        ['async', 'throws_at_login'],
        ['x', 'never_answers'],
      ]) {
        const res = await login('someone', password, backend);
        expect(res.statusCode, `${backend}/${password}`).toBe(401);
        expect(res.json().reason).toEqual(['Authentication Failed']);
      }
      expect((await api.inject({ method: 'GET', url: '/0.1/status' })).statusCode).toBe(200);
      expect(await api.adminToken()).toEqual(expect.any(String));
      const warned = t.lines.filter((l) => l.includes('backend plugin failed a login'));
      expect(warned.some((l) => l.includes('PluginTimeoutError'))).toBe(true);
    });

    it('a plugin answering an identity that does not hold together gives 401', async () => {
      for (const user of ['no-auth-id', 'ghost-user', 'bad-purpose', 'bad-acl']) {
        expect((await login(user, 'x', 'bad_identity')).statusCode, user).toBe(401);
      }
    });

    it('unknown and load-failed backends are 401', async () => {
      for (const backend of ['throws_at_load', 'missing_module', 'not_configured', 'no_such_backend']) {
        expect((await login('kiosk', 'kiosk-password', backend)).statusCode, backend).toBe(401);
      }
    });

    it("shuts down even when a plugin's close never returns", async () => {
      await t.close();
      expect(t.lines.some((l) => l.includes('backend plugin failed to close') && l.includes('never_answers'))).toBe(true);
    });
  });
});

describe('service accounts in `config show`', () => {
  it('masks password and password_hash', () => {
    const masked = maskSecrets({
      service_accounts: {
        a: { password: 'p', acl: ['x'] },
        b: { password_hash: '$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA', acl: [] },
      },
    });
    expect(masked).toEqual({ service_accounts: { a: { password: MASK, acl: ['x'] }, b: { password_hash: MASK, acl: [] } } });
  });
});
