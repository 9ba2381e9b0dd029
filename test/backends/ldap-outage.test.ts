// ldap_user when the directory misbehaves: frozen (accepts, never answers),
// stopped, refusing the service account, or presenting a certificate that is
// not trusted. Every login answers 401 (bounded by ldap.timeout, no hang), with
// one clear log line, and no secret in any log line. The store plays no part
// here: SQLite only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/types.js';
import { iamApi } from '../helpers/iam.js';
import { basic } from '../helpers/service.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  DEFAULT_PEOPLE,
  PEOPLE_DN,
  ROOT_DN,
  ROOT_PASSWORD,
  SERVICE_DN,
  SERVICE_PASSWORD,
  startTestSlapd,
  type Slapd,
} from '../helpers/slapd.js';
import { startLoggedService, type LoggedService } from './logged-service.js';

const DOMAIN = 'outage.example.com';

const startWithLogs = (overrides: Partial<Config>) => startLoggedService('sqlite', overrides);

let slapd: Slapd;
let t: LoggedService;
const api = iamApi(() => t);
let admin: string;
let tenant: string;

const login = (user: string, password: string) =>
  api.inject({
    method: 'POST',
    url: '/0.1/token',
    headers: { 'content-type': 'application/json', authorization: basic(user, password) },
    payload: { domain_name: DOMAIN },
  });
const config = (over: object = {}) => ({
  host: '127.0.0.1',
  port: slapd.port,
  bind_dn: SERVICE_DN,
  bind_password: SERVICE_PASSWORD,
  user_base_dn: PEOPLE_DN,
  user_login_attribute: 'uid',
  ...over,
});
const put = (body: object) => api.as(admin, 'PUT', '/0.1/backends/ldap', body, { 'wazo-tenant': tenant });
const unavailableLines = () => t.lines.filter((l) => l.includes('LDAP directory unavailable'));

beforeAll(async () => {
  slapd = await startTestSlapd({
    people: [...DEFAULT_PEOPLE, { uid: 'dave', password: 'dave-password', mail: 'dave@example.com' }],
  });
  t = await startWithLogs({
    enabled_backend_plugins: { xivo_user: true, ldap_user: true },
    ldap: { timeout: 0.5, tls_ca_cert: slapd.caCertFile },
  });
  admin = await api.adminToken();
  tenant = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'outage', domain_names: [DOMAIN] })).json().uuid;
  const user = await api.as(
    admin,
    'POST',
    '/0.1/users',
    { username: 'alice-local', email_address: 'alice@example.com' },
    { 'wazo-tenant': tenant },
  );
  expect(user.statusCode, user.body).toBe(200);
  expect((await put(config())).statusCode).toBe(200);
});
afterAll(async () => {
  await slapd?.close();
});

describe('ldap_user with a failing directory', () => {
  it('a frozen directory: 401 once ldap.timeout has passed, then logins work again', async () => {
    expect((await login('alice', 'alice-password')).statusCode).toBe(200);
    const before = unavailableLines().length;
    slapd.freeze();
    try {
      expect((await login('alice', 'alice-password')).statusCode).toBe(401);
    } finally {
      slapd.thaw();
    }
    const lines = unavailableLines().slice(before);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 40,
      tenant_uuid: tenant,
      host: '127.0.0.1',
      port: slapd.port,
      step: 'service bind',
    });
    expect((await login('alice', 'alice-password')).statusCode).toBe(200);
  });

  it('a stopped directory: 401 with the cause logged; back when it is back', async () => {
    await slapd.stop();
    const before = unavailableLines().length;
    try {
      expect((await login('alice', 'alice-password')).statusCode).toBe(401);
      const lines = unavailableLines().slice(before);
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]).cause).toMatch(/ECONNREFUSED/);
      // The rest of the service is unaffected.
      expect((await api.inject({ method: 'GET', url: '/0.1/status' })).statusCode).toBe(200);
      expect(await api.login('admin', 'admin-secret-password')).toEqual(expect.any(String));
    } finally {
      await slapd.start();
    }
    expect((await login('alice', 'alice-password')).statusCode).toBe(200);
  });

  it('a service account the directory refuses: 401, logged without its password', async () => {
    const wrong = 'wrong-service-password-7d1f';
    expect((await put(config({ bind_password: wrong }))).statusCode).toBe(200);
    const before = unavailableLines().length;
    expect((await login('alice', 'alice-password')).statusCode).toBe(401);
    const lines = unavailableLines().slice(before);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ step: 'service bind' });
    expect((await put(config())).statusCode).toBe(200);
  });

  it('a refresh token stops working once the entry is removed from the directory', async () => {
    const dave = await api.as(
      admin,
      'POST',
      '/0.1/users',
      { username: 'dave-local', email_address: 'dave@example.com' },
      { 'wazo-tenant': tenant },
    );
    expect(dave.statusCode).toBe(200);
    const offline = await api.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { 'content-type': 'application/json', authorization: basic('dave', 'dave-password') },
      payload: { domain_name: DOMAIN, access_type: 'offline', client_id: 'outage' },
    });
    expect(offline.statusCode, offline.body).toBe(200);
    const refresh = () =>
      api.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { 'content-type': 'application/json' },
        payload: { refresh_token: offline.json().data.refresh_token, client_id: 'outage' },
      });
    expect((await refresh()).statusCode).toBe(200);
    await promisify(execFile)('ldapdelete', ['-x', '-H', slapd.url, '-D', ROOT_DN, '-w', ROOT_PASSWORD, `uid=dave,${PEOPLE_DN}`]);
    expect((await refresh()).statusCode).toBe(401);
  });

  it('never logs a bind password or a user password', () => {
    const all = t.lines.join('\n');
    expect(all).toContain('LDAP directory unavailable');
    for (const secret of [SERVICE_PASSWORD, 'wrong-service-password-7d1f', 'alice-password', 'dave-password'])
      expect(all).not.toContain(secret);
  });
});

describe('ldap_user with an untrusted certificate', () => {
  let strict: LoggedService;
  beforeAll(async () => {
    // No tls_ca_cert: the fixture's self-signed certificate is not trusted.
    strict = await startWithLogs({
      enabled_backend_plugins: { xivo_user: true, ldap_user: true },
      ldap: { timeout: 0.5, tls_ca_cert: null },
    });
  });

  it('refuses ldaps and StartTLS logins, logging the TLS failure', async () => {
    const strictApi = iamApi(() => strict);
    const token = await strictApi.adminToken();
    const tenantUuid = (await strictApi.as(token, 'POST', '/0.1/tenants', { name: 'tls', domain_names: [DOMAIN] })).json().uuid;
    await strictApi.as(
      token,
      'POST',
      '/0.1/users',
      { username: 'alice-local', email_address: 'alice@example.com' },
      { 'wazo-tenant': tenantUuid },
    );
    for (const security of [{ protocol_security: 'ldaps', port: slapd.ldapsPort }, { protocol_security: 'tls' }]) {
      const res = await strictApi.as(token, 'PUT', '/0.1/backends/ldap', config(security), { 'wazo-tenant': tenantUuid });
      expect(res.statusCode).toBe(200);
      const logged = await strictApi.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { 'content-type': 'application/json', authorization: basic('alice', 'alice-password') },
        payload: { domain_name: DOMAIN },
      });
      expect(logged.statusCode, security.protocol_security).toBe(401);
    }
    const lines = strict.lines
      .filter((l) => l.includes('LDAP directory unavailable'))
      .map((l) => JSON.parse(l) as { cause: string; step: string });
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.cause).toMatch(/self[- ]signed|certificate/i);
    expect(lines[1].step).toBe('starttls');
  });
});
