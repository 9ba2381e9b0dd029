// ldap_user against a real OpenLDAP slapd, on both engines: logins through a
// service bind + search and through a direct bind, failures, LDAP injection
// attempts, LDAPS and StartTLS, backend selection, and /0.1/backends/ldap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iamApi, UNKNOWN_UUID } from '../helpers/iam.js';
import { basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { withoutThrottling } from './relaxed.js';
import { PEOPLE_DN, SERVICE_DN, SERVICE_PASSWORD, startTestSlapd, type Slapd } from '../helpers/slapd.js';

const DOMAIN = 'acme.example.com';

let slapd: Slapd;
beforeAll(async () => {
  slapd = await startTestSlapd();
});
afterAll(async () => {
  await slapd?.close();
});

describe.each(ENGINES)('ldap_user on %s', (engine) => {
  let t: TestService;
  const api = iamApi(() => t);
  let admin: string;
  let tenant: string;
  let aliceUuid: string;
  let carolUuid: string;

  const serviceBindConfig = () => ({
    host: '127.0.0.1',
    port: slapd.port,
    bind_dn: SERVICE_DN,
    bind_password: SERVICE_PASSWORD,
    user_base_dn: PEOPLE_DN,
    user_login_attribute: 'uid',
    user_email_attribute: 'mail',
  });
  const putConfig = (body: object, tenantUuid = tenant, token = admin) =>
    api.as(token, 'PUT', '/0.1/backends/ldap', body, { 'wazo-tenant': tenantUuid });
  const login = (user: string, password: string, body: object = { domain_name: DOMAIN }) =>
    api.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { 'content-type': 'application/json', authorization: basic(user, password) },
      payload: body,
    });

  beforeAll(async () => {
    t = await startTestService(engine, {
      enabled_backend_plugins: { xivo_user: true, ldap_user: true },
      ldap: { timeout: 2, tls_ca_cert: slapd.caCertFile },
      ...withoutThrottling(),
    });
    admin = await api.adminToken();
    const created = await api.as(admin, 'POST', '/0.1/tenants', { name: 'acme', slug: 'acme', domain_names: [DOMAIN] });
    expect(created.statusCode).toBe(200);
    tenant = created.json().uuid;
    const mk = async (body: object, tenantUuid: string) => {
      const res = await api.as(admin, 'POST', '/0.1/users', body, { 'wazo-tenant': tenantUuid });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().uuid as string;
    };
    // alice: matched by email; carol (no mail in the directory): by username.
    aliceUuid = await mk({ username: 'alice-local', email_address: 'alice@example.com' }, tenant);
    carolUuid = await mk({ username: 'carol' }, tenant);
    // bob's address belongs to a user of another tenant: never a match for acme.
    const master = (await api.as(admin, 'GET', '/0.1/tenants'))
      .json()
      .items.find((x: { slug: string }) => x.slug !== 'acme').uuid;
    await mk({ username: 'bob-elsewhere', email_address: 'bob@example.com' }, master);
    const policy = await api.as(
      admin,
      'POST',
      '/0.1/policies',
      { name: 'ldap users', acl: ['confd.users.me.read'] },
      { 'wazo-tenant': tenant },
    );
    expect(policy.statusCode, policy.body).toBe(200);
    const linked = await api.as(admin, 'PUT', `/0.1/users/${aliceUuid}/policies/${policy.json().uuid}`, undefined, {
      'wazo-tenant': tenant,
    });
    expect(linked.statusCode, linked.body).toBe(204);
  });

  describe('with a service bind and search', () => {
    beforeAll(async () => {
      const res = await putConfig(serviceBindConfig());
      expect(res.statusCode, res.body).toBe(200);
    });

    it('logs alice in by domain_name: her identity, tenant and ACL', async () => {
      const res = await login('alice', 'alice-password');
      expect(res.statusCode, res.body).toBe(200);
      const data = res.json().data;
      expect(data.auth_id).toBe(aliceUuid);
      expect(data.metadata).toMatchObject({ uuid: aliceUuid, tenant_uuid: tenant, purpose: 'user', pbx_user_uuid: aliceUuid });
      expect(data.xivo_user_uuid).toBe(aliceUuid);
      expect(data.acl).toContain('confd.users.me.read');
      const check = await api.inject({ method: 'HEAD', url: `/0.1/token/${data.token}?scope=confd.users.me.read` });
      expect(check.statusCode).toBe(204);
    });

    it('selects the tenant by tenant_id (uuid or slug), or with an explicit backend', async () => {
      expect((await login('alice', 'alice-password', { tenant_id: tenant })).statusCode).toBe(200);
      expect((await login('alice', 'alice-password', { tenant_id: 'acme' })).statusCode).toBe(200);
      expect(
        (await login('alice', 'alice-password', { backend: 'ldap_user', domain_name: DOMAIN.toUpperCase() })).statusCode,
      ).toBe(200);
    });

    it('matches an entry without mail by username', async () => {
      const res = await login('carol', 'carol-password');
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().data.auth_id).toBe(carolUuid);
    });

    it('refuses a wrong password, an empty password, an unknown user', async () => {
      for (const [user, password] of [
        ['alice', 'wrong'],
        ['alice', ''],
        ['alice', 'alice-password '],
        ['nobody', 'alice-password'],
      ]) {
        const res = await login(user, password);
        expect(res.statusCode, `${user}:${password}`).toBe(401);
        expect(res.json().reason).toEqual(['Authentication Failed']);
      }
    });

    it('issues refresh tokens that the service account honours while the entry exists', async () => {
      const offline = await login('alice', 'alice-password', {
        domain_name: DOMAIN,
        access_type: 'offline',
        client_id: 'ldap-test',
      });
      expect(offline.statusCode, offline.body).toBe(200);
      const refreshToken = offline.json().data.refresh_token as string;
      const refreshed = await api.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { 'content-type': 'application/json' },
        payload: { refresh_token: refreshToken, client_id: 'ldap-test' },
      });
      expect(refreshed.statusCode, refreshed.body).toBe(200);
      expect(refreshed.json().data.auth_id).toBe(aliceUuid);
      expect(refreshed.json().data.acl).toContain('confd.users.me.read');
    });

    it('refuses an entry that matches no local user of the tenant', async () => {
      expect((await login('bob', 'bob-password')).statusCode).toBe(401);
    });

    it('refuses LDAP injection through the login', async () => {
      // "al*" and "*lice" would find alice if the login reached the filter unescaped.
      const logins = [
        '*',
        'al*',
        '*lice',
        ')(uid=*',
        '*)(uid=*',
        'alice)(uid=*',
        '*)(|(uid=*',
        '\\00',
        'alice\\00',
        '\\2a',
        'alice\u0000',
      ];
      for (const injected of logins) {
        for (const password of ['alice-password', 'admin-ldap-password']) {
          const res = await login(injected, password);
          expect(res.statusCode, JSON.stringify(injected)).toBe(401);
        }
      }
    });

    it('without tenant_id or domain_name, and for a tenant without LDAP, uses xivo_user', async () => {
      expect((await login('admin', 'admin-secret-password', {})).statusCode).toBe(200);
      // acme has an LDAP configuration: the local admin password is not checked there.
      expect((await login('admin', 'admin-secret-password')).statusCode).toBe(401);
      // An explicit backend wins.
      expect((await login('admin', 'admin-secret-password', { backend: 'xivo_user', domain_name: DOMAIN })).statusCode).toBe(200);
      expect((await login('alice', 'alice-password', { domain_name: 'unknown.example.com' })).statusCode).toBe(401);
      expect((await login('alice', 'alice-password', { backend: 'ldap_user' })).statusCode).toBe(401);
    });
  });

  describe('with a direct bind (no service account)', () => {
    beforeAll(async () => {
      const { bind_dn: _dn, bind_password: _pw, ...direct } = serviceBindConfig();
      const res = await putConfig({ ...direct, bind_dn: null });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().bind_dn).toBeNull();
    });

    it('logs alice in with the DN built from the login attribute', async () => {
      const res = await login('alice', 'alice-password');
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().data.auth_id).toBe(aliceUuid);
    });

    it('refuses refresh tokens: without a service account the entry cannot be looked up', async () => {
      const offline = await login('alice', 'alice-password', {
        domain_name: DOMAIN,
        access_type: 'offline',
        client_id: 'ldap-direct',
      });
      expect(offline.statusCode).toBe(200);
      const refreshed = await api.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { 'content-type': 'application/json' },
        payload: { refresh_token: offline.json().data.refresh_token, client_id: 'ldap-direct' },
      });
      expect(refreshed.statusCode).toBe(401);
    });

    it('refuses wrong passwords, unknown users and DN injection', async () => {
      for (const [user, password] of [
        ['alice', 'wrong'],
        ['alice', ''],
        ['nobody', 'x'],
        ['bob', 'bob-password'],
        ['alice,ou=people,dc=example,dc=com', 'alice-password'],
        ['alice+cn=alice', 'alice-password'],
        ['*', 'alice-password'],
        ['alice\\', 'alice-password'],
        ['uid=alice', 'alice-password'],
      ]) {
        expect((await login(user, password)).statusCode, `${user}:${password}`).toBe(401);
      }
    });
  });

  describe("over TLS with the fixture's self-signed certificate", () => {
    it('LDAPS', async () => {
      expect((await putConfig({ ...serviceBindConfig(), protocol_security: 'ldaps', port: slapd.ldapsPort })).statusCode).toBe(
        200,
      );
      expect((await login('alice', 'alice-password')).statusCode).toBe(200);
      expect((await login('alice', 'wrong')).statusCode).toBe(401);
    });

    it('StartTLS', async () => {
      expect((await putConfig({ ...serviceBindConfig(), protocol_security: 'tls' })).statusCode).toBe(200);
      expect((await login('alice', 'alice-password')).statusCode).toBe(200);
    });

    it('refuses a certificate that does not name the host', async () => {
      // The certificate names 127.0.0.1 and localhost, not 127.0.0.2 (also loopback).
      expect((await putConfig({ ...serviceBindConfig(), host: '127.0.0.2', protocol_security: 'tls' })).statusCode).toBe(200);
      expect((await login('alice', 'alice-password')).statusCode).toBe(401);
    });
  });

  describe('/0.1/backends/ldap', () => {
    it('needs a token granting the access', async () => {
      expect((await api.as(null, 'GET', '/0.1/backends/ldap')).statusCode).toBe(401);
      await putConfig(serviceBindConfig());
      const alice = (await login('alice', 'alice-password')).json().data.token as string;
      for (const [method, body] of [
        ['GET', undefined],
        ['PUT', serviceBindConfig()],
        ['DELETE', undefined],
      ] as const) {
        const res = await api.as(alice, method, '/0.1/backends/ldap', body);
        expect(res.statusCode, method).toBe(401);
        expect(res.json()).toMatchObject({
          error_id: 'unauthorized',
          details: {
            required_access: `auth.backends.ldap.${method === 'GET' ? 'read' : method === 'PUT' ? 'update' : 'delete'}`,
          },
        });
      }
    });

    it('never returns bind_password; keeps it when a PUT leaves it out', async () => {
      const put = await putConfig(serviceBindConfig());
      expect(put.statusCode).toBe(200);
      expect(put.json()).toEqual({
        tenant_uuid: tenant,
        host: '127.0.0.1',
        port: slapd.port,
        protocol_version: 3,
        protocol_security: null,
        bind_dn: SERVICE_DN,
        user_base_dn: PEOPLE_DN,
        user_login_attribute: 'uid',
        user_email_attribute: 'mail',
        search_filters: null,
      });
      const got = await api.as(admin, 'GET', '/0.1/backends/ldap', undefined, { 'wazo-tenant': tenant });
      expect(got.statusCode).toBe(200);
      expect(got.json()).toEqual(put.json());
      expect(got.body).not.toContain(SERVICE_PASSWORD);
      expect(put.body).not.toContain(SERVICE_PASSWORD);
      const { bind_password: _pw, ...withoutPassword } = serviceBindConfig();
      expect(
        (
          await putConfig({
            ...withoutPassword,
            search_filters: '(&(objectClass=inetOrgPerson)({user_login_attribute}={username}))',
          })
        ).statusCode,
      ).toBe(200);
      expect((await login('alice', 'alice-password')).statusCode).toBe(200);
    });

    it('answers 400 with the documented body for bad input', async () => {
      const base = serviceBindConfig();
      const cases: [object, string][] = [
        [{ ...base, host: undefined }, 'host'],
        [{ ...base, host: 'ldap://evil' }, 'host'],
        [{ ...base, port: 70000 }, 'port'],
        [{ ...base, protocol_security: 'ssl' }, 'protocol_security'],
        [{ ...base, protocol_version: 2 }, 'protocol_version'],
        [{ ...base, user_login_attribute: 'uid)(x' }, 'user_login_attribute'],
        [{ ...base, user_base_dn: 'ou=x\u0000' }, 'user_base_dn'],
        [{ ...base, search_filters: '(uid={username}' }, 'search_filters'],
        [{ ...base, search_filters: '(uid=alice)' }, 'search_filters'],
        [{ ...base, bind_password: null }, 'bind_password'],
      ];
      for (const [body, field] of cases) {
        const res = await putConfig(body);
        expect(res.statusCode, field).toBe(400);
        const error = res.json();
        expect(error).toMatchObject({ error_id: 'invalid-data', message: expect.any(String), timestamp: expect.any(Number) });
        expect(Object.keys(error.details), field).toContain(field);
      }
      expect((await api.as(admin, 'PUT', '/0.1/backends/ldap', [], { 'wazo-tenant': tenant })).statusCode).toBe(400);
    });

    it('refuses an unknown tenant', async () => {
      const res = await putConfig(serviceBindConfig(), UNKNOWN_UUID);
      expect(res.statusCode).toBe(401);
      expect(res.json().error_id).toBe('unauthorized-tenant');
    });

    it('DELETE removes it (then logins by tenant use xivo_user); GET answers 404', async () => {
      await putConfig(serviceBindConfig());
      const del = await api.as(admin, 'DELETE', '/0.1/backends/ldap', undefined, { 'wazo-tenant': tenant });
      expect(del.statusCode).toBe(204);
      expect((await api.as(admin, 'DELETE', '/0.1/backends/ldap', undefined, { 'wazo-tenant': tenant })).statusCode).toBe(204);
      const got = await api.as(admin, 'GET', '/0.1/backends/ldap', undefined, { 'wazo-tenant': tenant });
      expect(got.statusCode).toBe(404);
      expect(got.json().error_id).toBe('unknown-ldap-config');
      expect((await login('alice', 'alice-password')).statusCode).toBe(401);
      expect((await login('admin', 'admin-secret-password')).statusCode).toBe(200);
    });

    it('is in the served OpenAPI document', async () => {
      const doc = (await api.inject({ method: 'GET', url: '/0.1/api/api.yml' })).body;
      expect(doc).toContain('/backends/ldap');
      expect(doc).toContain('user_login_attribute');
    });
  });
});
