// GET|HEAD /0.1/authz, the gateway endpoint, through inject() on both engines.
import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FakeClock } from '../../src/clock.js';
import { compileRouteTable } from '../../src/http/routes/gateway.js';
import { ADMIN, basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';

const INVALID = 'Bearer realm="xivo-auth", error="invalid_token"';
const INSUFFICIENT = 'Bearer realm="xivo-auth", error="insufficient_scope"';

const ROUTES = [
  { path: '/api/users/{user_uuid}', access: 'confd.users.{user_uuid}.read', methods: ['GET', 'HEAD'] },
  { path: '/api/users/{user_uuid}', access: 'confd.users.{user_uuid}.update', methods: ['PUT'] },
  { path: '/api/lines', access: 'confd.lines.read' },
];

describe('route table', () => {
  const table = compileRouteTable(ROUTES);
  it('fills placeholders from the path, by method, ignoring the query string', () => {
    expect(table('GET', '/api/users/abc?x=1')).toBe('confd.users.abc.read');
    expect(table('head', '/api/users/abc')).toBe('confd.users.abc.read');
    expect(table('PUT', '/api/users/abc#frag')).toBe('confd.users.abc.update');
    expect(table('POST', '/api/lines')).toBe('confd.lines.read');
  });
  it('matches no other path, and keeps values inside their level', () => {
    expect(table('DELETE', '/api/users/abc')).toBeNull();
    expect(table('GET', '/api/users')).toBeNull();
    expect(table('GET', '/api/users/abc/extra')).toBeNull();
    expect(table('GET', '/api/users/a.b')).toBe('confd.users.a_b.read');
    expect(table('GET', '/api/users/a%2Fb')).toBeNull();
    expect(table('GET', '/api/users/%E0%A4%A')).toBeNull();
    expect(table('GET', `/api/users/${'x'.repeat(9000)}`)).toBeNull();
  });
  it('is empty without routes', () => {
    expect(compileRouteTable([])('GET', '/api/lines')).toBeNull();
  });
});

describe.each(ENGINES)('GET|HEAD /0.1/authz on %s', (engine) => {
  let t: TestService;
  let adminToken: string;
  let aliceToken: string;
  let alice: { uuid: string; tenant_uuid: string };
  const inject = (opts: InjectOptions) => t.service.app.inject(opts);
  const authz = (headers: Record<string, string>, query = '', method: 'GET' | 'HEAD' = 'GET') =>
    inject({ method, url: `/0.1/authz${query}`, headers });

  beforeAll(async () => {
    t = await startTestService(engine, {
      default_policies: { users_own: { acl: ['confd.users.me.read'] } },
      default_user_policy: 'users_own',
      authz: { routes: ROUTES, cache_max_age: 0 },
    });
    adminToken = (
      await inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic(ADMIN.username, ADMIN.password) },
        payload: {},
      })
    ).json().data.token;
    const created = await inject({
      method: 'POST',
      url: '/0.1/users',
      headers: { 'x-auth-token': adminToken },
      payload: { username: 'alice', password: 'alice-password' },
    });
    expect(created.statusCode, created.body).toBe(200);
    alice = created.json();
    const res = await inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { authorization: basic('alice', 'alice-password') },
      payload: { expiration: 600 },
    });
    aliceToken = res.json().data.token;
  });

  it('200 with the identity headers, empty body and no-store, for X-Auth-Token and for Bearer', async () => {
    for (const headers of [
      { 'x-auth-token': aliceToken },
      { authorization: `Bearer ${aliceToken}` },
      { authorization: `bearer ${aliceToken}` },
    ] as Record<string, string>[]) {
      const res = await authz(headers, '?access=confd.users.me.read');
      expect(res.statusCode, res.body).toBe(200);
      expect(res.body).toBe('');
      expect(res.headers['x-auth-user-uuid']).toBe(alice.uuid);
      expect(res.headers['x-auth-tenant-uuid']).toBe(alice.tenant_uuid);
      expect(res.headers['x-auth-session-uuid']).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers['x-auth-id']).toBe(alice.uuid);
      expect(res.headers['x-auth-purpose']).toBe('user');
      expect(res.headers['remote-user']).toBe(alice.uuid);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['www-authenticate']).toBeUndefined();
    }
  });

  it('HEAD answers like GET', async () => {
    const ok = await authz({ 'x-auth-token': aliceToken }, '', 'HEAD');
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['x-auth-user-uuid']).toBe(alice.uuid);
    const denied = await authz({ 'x-auth-token': aliceToken }, '?access=confd.lines.read', 'HEAD');
    expect(denied.statusCode).toBe(403);
  });

  it('200 without any required access for a valid token', async () => {
    expect((await authz({ 'x-auth-token': aliceToken })).statusCode).toBe(200);
  });

  it.each([
    ['no token', {}],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['Basic credentials', { authorization: basic('alice', 'alice-password') }],
    ['an unknown token', { 'x-auth-token': 'unknown-token' }],
    ['an oversized token', { 'x-auth-token': 'x'.repeat(5000) }],
  ])('401 invalid_token for %s', async (_name, headers) => {
    const res = await authz(headers as Record<string, string>, '?access=confd.users.me.read');
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(INVALID);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-auth-user-uuid']).toBeUndefined();
    expect(res.body).toBe('');
  });

  it('401 once the token expired or was revoked', async () => {
    const short = (
      await inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic('alice', 'alice-password') },
        payload: { expiration: 5 },
      })
    ).json().data.token;
    expect((await authz({ 'x-auth-token': short })).statusCode).toBe(200);
    (t.clock as FakeClock).advance(6000);
    expect((await authz({ 'x-auth-token': short })).statusCode).toBe(401);

    const other = (
      await inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic('alice', 'alice-password') },
        payload: {},
      })
    ).json().data.token;
    expect((await authz({ 'x-auth-token': other })).statusCode).toBe(200);
    await inject({ method: 'DELETE', url: `/0.1/token/${other}` });
    expect((await authz({ 'x-auth-token': other })).headers['www-authenticate']).toBe(INVALID);
  });

  it('403 insufficient_scope from ?access= or X-Auth-Required-Access', async () => {
    for (const [query, headers] of [
      ['?access=confd.lines.read', {}],
      ['', { 'x-auth-required-access': 'confd.lines.read' }],
    ] as const) {
      const res = await authz({ 'x-auth-token': aliceToken, ...headers }, query);
      expect(res.statusCode).toBe(403);
      expect(res.headers['www-authenticate']).toBe(INSUFFICIENT);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-auth-user-uuid']).toBeUndefined();
    }
    expect((await authz({ 'x-auth-token': aliceToken, 'x-auth-required-access': 'confd.users.me.read' })).statusCode).toBe(200);
  });

  it('derives the access from X-Original-URI / X-Forwarded-Uri and X-Forwarded-Method', async () => {
    const own = `/api/users/${alice.uuid}?recurse=true`;
    expect((await authz({ 'x-auth-token': aliceToken, 'x-original-uri': own })).statusCode).toBe(200);
    expect((await authz({ 'x-auth-token': aliceToken, 'x-forwarded-uri': own, 'x-forwarded-method': 'GET' })).statusCode).toBe(
      200,
    );
    // PUT needs .update, which alice lacks; another user's uuid needs another access.
    expect((await authz({ 'x-auth-token': aliceToken, 'x-original-uri': own, 'x-forwarded-method': 'PUT' })).statusCode).toBe(
      403,
    );
    expect((await authz({ 'x-auth-token': aliceToken, 'x-original-uri': '/api/users/someone-else' })).statusCode).toBe(403);
    // Not in the table: fail closed.
    expect((await authz({ 'x-auth-token': aliceToken, 'x-original-uri': '/api/unknown' })).statusCode).toBe(403);
    // The route table wins over a header the client may have forged.
    expect(
      (
        await authz({
          'x-auth-token': aliceToken,
          'x-original-uri': '/api/lines',
          'x-auth-required-access': 'confd.users.me.read',
        })
      ).statusCode,
    ).toBe(403);
    // The admin passes everything in the table.
    expect(
      (await authz({ 'x-auth-token': adminToken, 'x-original-uri': '/api/lines', 'x-forwarded-method': 'DELETE' })).statusCode,
    ).toBe(200);
  });

  it('Envoy form: the original path appended, the method kept, the query string never read as ?access=', async () => {
    const ok = await inject({
      method: 'GET',
      url: `/0.1/authz/api/users/${alice.uuid}`,
      headers: { authorization: `Bearer ${aliceToken}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['x-auth-user-uuid']).toBe(alice.uuid);
    const put = await inject({
      method: 'PUT',
      url: `/0.1/authz/api/users/${alice.uuid}`,
      headers: { authorization: `Bearer ${aliceToken}` },
    });
    expect(put.statusCode).toBe(403);
    const sneaky = await inject({
      method: 'GET',
      url: '/0.1/authz/api/lines?access=confd.users.me.read',
      headers: { authorization: `Bearer ${aliceToken}` },
    });
    expect(sneaky.statusCode).toBe(403);
    // Percent-escapes are decoded once, as for X-Original-URI: an escaped slash stays inside the segment and matches nothing.
    const escaped = await inject({
      method: 'GET',
      url: `/0.1/authz/api/users/${alice.uuid.slice(0, 4)}%2F${alice.uuid.slice(4)}`,
      headers: { authorization: `Bearer ${aliceToken}` },
    });
    expect(escaped.statusCode).toBe(403);
    const none = await inject({ method: 'POST', url: '/0.1/authz/api/lines', headers: {} });
    expect(none.statusCode).toBe(401);
  });

  it("checks Wazo-Tenant against the token's subtree", async () => {
    expect((await authz({ 'x-auth-token': aliceToken, 'wazo-tenant': alice.tenant_uuid })).statusCode).toBe(200);
    const res = await authz({ 'x-auth-token': aliceToken, 'wazo-tenant': '00000000-0000-4000-8000-000000000000' });
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toBe(INSUFFICIENT);
    expect((await authz({ 'x-auth-token': aliceToken, 'wazo-tenant': 'x'.repeat(300) })).statusCode).toBe(403);
  });

  it('400, never 500, for a malformed ?access=', async () => {
    expect((await authz({ 'x-auth-token': aliceToken }, `?access=${'a'.repeat(2000)}`)).statusCode).toBe(400);
    expect((await authz({ 'x-auth-token': aliceToken }, '?access=')).statusCode).toBe(400);
  });
});

describe('authz.cache_max_age', () => {
  it("sends private, max-age bounded by the token's remaining life", async () => {
    const t = await startTestService('sqlite', { authz: { routes: [], cache_max_age: 300 } });
    const token = async (expiration: number) =>
      (
        await t.service.app.inject({
          method: 'POST',
          url: '/0.1/token',
          headers: { authorization: basic(ADMIN.username, ADMIN.password) },
          payload: { expiration },
        })
      ).json().data.token as string;
    const long = await t.service.app.inject({ method: 'GET', url: '/0.1/authz', headers: { 'x-auth-token': await token(3600) } });
    expect(long.headers['cache-control']).toBe('private, max-age=300');
    const short = await t.service.app.inject({ method: 'GET', url: '/0.1/authz', headers: { 'x-auth-token': await token(60) } });
    expect(short.headers['cache-control']).toBe('private, max-age=60');
    const denied = await t.service.app.inject({ method: 'GET', url: '/0.1/authz', headers: {} });
    expect(denied.headers['cache-control']).toBe('no-store');
  });
});
