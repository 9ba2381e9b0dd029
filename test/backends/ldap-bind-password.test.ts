// Issue 16, finding 4: the write-only LDAP bind password, kept when a PUT
// leaves it out, must never follow the configuration to another server. A PUT
// without bind_password that changes host, port, protocol_security or bind_dn
// is refused (400 naming bind_password) and changes nothing; one that keeps
// all four keeps the stored password. The password is read from the store
// here, never over HTTP.
import { beforeAll, describe, expect, it } from 'vitest';
import { iamApi } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';

const SECRET = 'operator-bind-secret';
const BASE = {
  host: 'ldap.example.com',
  port: 389,
  protocol_security: null,
  bind_dn: 'cn=svc,dc=example,dc=com',
  user_base_dn: 'ou=people,dc=example,dc=com',
  user_login_attribute: 'uid',
};

describe.each(ENGINES)('LDAP bind password on %s', (engine) => {
  let t: TestService;
  let admin: string;
  let tenant: string;
  const api = iamApi(() => t);
  const put = (body: object) => api.as(admin, 'PUT', '/0.1/backends/ldap', body, { 'wazo-tenant': tenant });
  const stored = () => t.service.store.getLdapConfig(tenant);

  beforeAll(async () => {
    t = await startTestService(engine);
    admin = await api.adminToken();
    const created = await api.as(admin, 'POST', '/0.1/tenants', { name: 'ldap secrets' });
    expect(created.statusCode, created.body).toBe(200);
    tenant = created.json().uuid;
  });

  it('refuses a new host, port, protocol_security or bind_dn without bind_password; nothing changes', async () => {
    const first = await put({ ...BASE, bind_password: SECRET });
    expect(first.statusCode, first.body).toBe(200);
    const before = await stored();
    expect(before?.bindPassword).toBe(SECRET);
    const changes: [string, object][] = [
      ['host', { host: 'attacker.example.net' }],
      ['port', { port: 10389 }],
      ['implicit port (ldaps default 636)', { port: undefined, protocol_security: 'ldaps' }],
      ['protocol_security', { protocol_security: 'tls' }],
      ['bind_dn', { bind_dn: 'cn=other,dc=example,dc=com' }],
      ['host and no security', { host: '203.0.113.7', protocol_security: null }],
    ];
    for (const [name, change] of changes) {
      const res = await put({ ...BASE, ...change });
      expect(res.statusCode, `${name}: ${res.body}`).toBe(400);
      const body = res.json();
      expect(body.error_id, name).toBe('invalid-data');
      expect(Object.keys(body.details), name).toContain('bind_password');
      expect(res.body).not.toContain(SECRET);
      expect(await stored(), name).toEqual(before);
    }
    const got = await api.as(admin, 'GET', '/0.1/backends/ldap', undefined, { 'wazo-tenant': tenant });
    expect(got.json()).toMatchObject({ host: BASE.host, port: 389, protocol_security: null, bind_dn: BASE.bind_dn });
    expect(got.body).not.toContain(SECRET);
  });

  it('keeps the stored password when host, port, protocol_security and bind_dn are unchanged', async () => {
    expect((await put({ ...BASE, bind_password: SECRET })).statusCode).toBe(200);
    // Same target (the port given or implied alike), other settings changed.
    for (const body of [
      {
        ...BASE,
        user_base_dn: 'ou=staff,dc=example,dc=com',
        search_filters: '(&(objectClass=person)({user_login_attribute}={username}))',
      },
      { ...BASE, port: undefined, user_email_attribute: 'email' },
    ]) {
      const res = await put(body);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.body).not.toContain(SECRET);
      expect((await stored())?.bindPassword).toBe(SECRET);
    }
    expect((await stored())?.userEmailAttribute).toBe('email');
  });

  it('accepts a new target with its bind_password, and a direct bind (no bind_dn) without one', async () => {
    expect((await put({ ...BASE, bind_password: SECRET })).statusCode).toBe(200);
    const moved = await put({
      ...BASE,
      host: 'ldap2.example.com',
      protocol_security: 'ldaps',
      port: 636,
      bind_password: 'new-secret',
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(await stored()).toMatchObject({
      host: 'ldap2.example.com',
      port: 636,
      protocolSecurity: 'ldaps',
      bindPassword: 'new-secret',
    });
    const direct = await put({ ...BASE, host: 'ldap3.example.com', bind_dn: null });
    expect(direct.statusCode, direct.body).toBe(200);
    expect(await stored()).toMatchObject({ host: 'ldap3.example.com', bindDn: null, bindPassword: null });
    // From a direct bind, a service bind needs its password, as before.
    const noPassword = await put({ ...BASE, host: 'ldap3.example.com' });
    expect(noPassword.statusCode).toBe(400);
    expect(Object.keys(noPassword.json().details)).toContain('bind_password');
  });
});
