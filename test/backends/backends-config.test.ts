// Configuration of the backends (service_accounts, backend_plugins, ldap),
// read through the real loader from YAML text; pure string logic of LDAP
// escaping; the ldap_user backend's guards before any directory exchange.
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { FilterParser, EqualityFilter } from 'ldapts';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { createLdapUserBackend } from '../../src/backends/ldap/backend.js';
import {
  buildSearchFilter,
  buildUserDn,
  escapeDnValue,
  escapeFilterValue,
  searchFilterProblem,
} from '../../src/backends/ldap/ldap-syntax.js';
import type { LdapConfig, Store, Tenant } from '../../src/store/types.js';

function load(yaml: string) {
  return loadConfig({
    argv: { configFile: '/virtual/config.yml' },
    env: {},
    readFile: (file) => {
      if (file === '/virtual/config.yml') return yaml;
      const err = new Error('missing') as NodeJS.ErrnoException;
      err.code = 'ENOENT';
      throw err;
    },
    listDir: () => [],
  });
}

function loadProblem(yaml: string): string {
  try {
    load(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('backend configuration keys', () => {
  it('reads service accounts, plugins and the ldap settings', () => {
    const { config } = load(
      [
        'service_accounts:',
        '  monitor: {password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", acl: [confd.#]}',
        '  provd: {password: secret, acl: []}',
        'backend_plugins:',
        '  mine: {module: xivo-auth-plugin-mine, options: {url: "https://idp.example.com", retries: 2}}',
        'enabled_backend_plugins: {mine: true, xivo_service: true}',
        'ldap: {timeout: 0.5, tls_ca_cert: /etc/ssl/ldap-ca.pem}',
        'backend_plugin_timeout: 5',
      ].join('\n'),
    );
    expect(config.service_accounts.monitor).toEqual({
      password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
      acl: ['confd.#'],
    });
    expect(config.backend_plugins.mine).toEqual({
      module: 'xivo-auth-plugin-mine',
      options: { url: 'https://idp.example.com', retries: 2 },
    });
    expect(config.ldap).toEqual({ timeout: 0.5, tls_ca_cert: '/etc/ssl/ldap-ca.pem' });
    expect(config.backend_plugin_timeout).toBe(5);
  });

  it('names the key of a bad service account, a bad plugin, a bad timeout', () => {
    expect(loadProblem('service_accounts:\n  monitor: {acl: []}\n')).toMatch(/service_accounts\.monitor/);
    expect(loadProblem('service_accounts:\n  monitor: {password_hash: md5-abc, acl: []}\n')).toMatch(/service_accounts\.monitor/);
    expect(loadProblem('backend_plugins:\n  mine: {options: {}}\n')).toMatch(/backend_plugins\.mine/);
    expect(loadProblem('ldap: {timeout: 0}\n')).toMatch(/ldap\.timeout/);
    expect(loadProblem('backend_plugin_timeout: -1\n')).toMatch(/backend_plugin_timeout/);
  });
});

describe('LDAP escaping', () => {
  it('escapes filter values (RFC 4515)', () => {
    expect(escapeFilterValue('*)(uid=*')).toBe('\\2a\\29\\28uid=\\2a');
    expect(escapeFilterValue('a\\00\u0000')).toBe('a\\5c00\\00');
    expect(buildSearchFilter(null, 'uid', 'al*')).toBe('(uid=al\\2a)');
    expect(buildSearchFilter('&(objectClass=person)({user_login_attribute}={username})', 'cn', '{username})(x=*')).toBe(
      '(&(objectClass=person)(cn=\\7busername}\\29\\28x=\\2a))'.replace('\\7b', '{'),
    );
  });

  it('parses every injection attempt to a single equality on the whole login', () => {
    for (const login of ['*', ')(uid=*', '*)(|(uid=*', '\\00', 'alice\u0000', 'al*', '(', '\\', 'é*ü']) {
      const filter = FilterParser.parseString(buildSearchFilter(null, 'uid', login));
      expect(filter, login).toBeInstanceOf(EqualityFilter);
      expect((filter as EqualityFilter).value, login).toBe(login);
    }
  });

  it('escapes DN values (RFC 4514)', () => {
    expect(escapeDnValue('a,b+c=d')).toBe('a\\,b\\+c\\=d');
    expect(escapeDnValue('#x y ')).toBe('\\#x y\\ ');
    expect(escapeDnValue(' lead')).toBe('\\ lead');
    expect(escapeDnValue('nul\u0000"<>;\\')).toBe('nul\\00\\"\\<\\>\\;\\\\');
    expect(buildUserDn('uid', 'alice,ou=admins', 'ou=people,dc=example,dc=com')).toBe(
      'uid=alice\\,ou\\=admins,ou=people,dc=example,dc=com',
    );
  });

  it('validates search filter templates', () => {
    expect(searchFilterProblem('(&(objectClass=inetOrgPerson)({user_login_attribute}={username}))')).toBeNull();
    expect(searchFilterProblem('uid={username}')).toBeNull();
    expect(searchFilterProblem('(uid=alice)')).toMatch(/\{username\}/);
    expect(searchFilterProblem('(&(uid={username})')).toMatch(/unbalanced/);
    expect(searchFilterProblem('(uid~{username})')).toMatch(/not a valid LDAP filter/);
  });
});

describe('ldap_user before the directory', () => {
  const tenant: Tenant = {
    uuid: '11111111-1111-4111-8111-111111111111',
    name: 'acme',
    slug: 'acme',
    parentUuid: null,
    domainNames: ['acme.example.com'],
  };
  const config: LdapConfig = {
    tenantUuid: tenant.uuid,
    host: '127.0.0.1',
    port: 389,
    protocolVersion: 3,
    protocolSecurity: null,
    bindDn: null,
    bindPassword: null,
    userBaseDn: 'ou=people,dc=example,dc=com',
    userLoginAttribute: 'uid',
    userEmailAttribute: 'mail',
    searchFilters: null,
  };
  // Only the verbs the backend reaches before the directory.
  const store = {
    getTenant: async (uuid: string) => (uuid === tenant.uuid ? tenant : null),
    findTenantBySlug: async (slug: string) => (slug === 'acme' ? tenant : null),
    findTenantByDomainName: async (d: string) => (d === 'acme.example.com' ? tenant : null),
    getLdapConfig: async (uuid: string) => (uuid === tenant.uuid ? config : null),
    findTenantUser: async () => null,
  } as unknown as Store;

  it('never asks the directory with an empty password, a control character, or no tenant', async () => {
    const calls: string[] = [];
    const backend = createLdapUserBackend({
      store,
      logger: pino({ level: 'silent' }),
      directory: { timeoutMs: 1000, extraCa: [] },
      authenticate: async (_c, login) => {
        calls.push(login);
        return { kind: 'rejected', reason: 'invalid-credentials' };
      },
    });
    const ctx = { tenantUuid: null, domainName: 'acme.example.com', remoteAddr: null };
    expect(await backend.verifyPassword('alice', '', ctx)).toBeNull();
    expect(await backend.verifyPassword('alice\u0000', 'pw', ctx)).toBeNull();
    expect(await backend.verifyPassword('', 'pw', ctx)).toBeNull();
    expect(await backend.verifyPassword('alice', 'pw', { ...ctx, domainName: null })).toBeNull();
    expect(await backend.verifyPassword('alice', 'pw', { ...ctx, domainName: 'other.example.com' })).toBeNull();
    expect(calls).toEqual([]);
    expect(await backend.verifyPassword('alice', 'pw', ctx)).toBeNull();
    expect(await backend.verifyPassword('alice', 'pw', { ...ctx, domainName: null, tenantUuid: 'acme' })).toBeNull();
    expect(calls).toEqual(['alice', 'alice']);
  });
});
