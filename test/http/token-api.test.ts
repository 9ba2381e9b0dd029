// The token API (API.md §1) through inject(), on both engines.
import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FakeClock } from '../../src/clock.js';
import { ADMIN, basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

describe.each(ENGINES)('token API on %s', (engine) => {
  let t: TestService;
  let adminToken: string;

  const inject = (opts: InjectOptions) => t.service.app.inject(opts);

  async function login(user: string, password: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    return inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { ...JSON_HEADERS, authorization: basic(user, password), ...headers },
      payload: body,
    });
  }

  /** POST /0.1/token with a refresh token (no Basic credentials). */
  function refreshLogin(payload: Record<string, unknown>) {
    return inject({ method: 'POST', url: '/0.1/token', headers: JSON_HEADERS, payload });
  }

  async function createUser(username: string, password: string | null, extra: Record<string, unknown> = {}) {
    const res = await inject({
      method: 'POST',
      url: '/0.1/users',
      headers: { ...JSON_HEADERS, 'x-auth-token': adminToken },
      payload: { username, password, ...extra },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { uuid: string; tenant_uuid: string };
  }

  beforeAll(async () => {
    t = await startTestService(engine, {
      max_user_concurrent_sessions: 3,
      default_policies: { users_read_own: { acl: ['confd.users.me.read', 'auth.users.me.tokens.#'] } },
      default_user_policy: 'users_read_own',
    });
    const res = await login(ADMIN.username, ADMIN.password);
    expect(res.statusCode, res.body).toBe(200);
    adminToken = res.json().data.token;
  });

  describe('POST /token', () => {
    it('issues a token with the documented fields and formats', async () => {
      const alice = await createUser('alice', 'alice-password');
      const res = await login('alice', 'alice-password', { backend: 'xivo_user', expiration: 600 });
      expect(res.statusCode).toBe(200);
      expect(res.headers['wazo-sessions-revoked']).toBe('0');
      const data = res.json().data;
      expect(data.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(data.auth_id).toBe(alice.uuid);
      expect(data.uuid).toBe(alice.uuid);
      expect(data.xivo_user_uuid).toBe(alice.uuid);
      expect(data.metadata.pbx_user_uuid).toBe(alice.uuid);
      expect(data.utc_issued_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
      expect(data.issued_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
      const lifetime = Date.parse(`${data.utc_expires_at.slice(0, 23)}Z`) - Date.parse(`${data.utc_issued_at.slice(0, 23)}Z`);
      expect(lifetime).toBe(600_000);
      expect(data.metadata).toMatchObject({
        uuid: alice.uuid,
        tenant_uuid: alice.tenant_uuid,
        auth_id: alice.uuid,
        purpose: 'user',
      });
      expect(data.acl).toEqual(expect.arrayContaining(['confd.users.me.read']));
      expect(data.session_uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(data).not.toHaveProperty('refresh_token');
    });

    it('defaults to 7200 s and accepts wazo_user as an alias', async () => {
      await createUser('bob', 'bob-password');
      const res = await login('bob', 'bob-password', { backend: 'wazo_user' });
      expect(res.statusCode).toBe(200);
      const d = res.json().data;
      expect(Date.parse(`${d.utc_expires_at.slice(0, 23)}Z`) - Date.parse(`${d.utc_issued_at.slice(0, 23)}Z`)).toBe(7_200_000);
    });

    it('matches the login case-insensitively, and by confirmed email', async () => {
      await createUser('Carol', 'carol-password', { email_address: 'carol@example.com' });
      expect((await login('CAROL', 'carol-password')).statusCode).toBe(200);
      expect((await login('Carol@Example.com', 'carol-password')).statusCode).toBe(200);
    });

    it.each([
      ['0', 0],
      ['negative', -5],
      ['float', 1.5],
      ['string', '600'],
      ['boolean', true],
      ['null', null],
      ['too large', 315360001],
    ])('rejects expiration %s with 400 and the legacy body', async (_name, expiration) => {
      const res = await login('alice', 'alice-password', { expiration });
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body.status_code).toBe(400);
      expect(Array.isArray(body.reason)).toBe(true);
      expect(typeof body.timestamp[0]).toBe('number');
    });

    it.each([
      ['offline with refresh_token', { access_type: 'offline', refresh_token: 'x', client_id: 'c' }],
      ['offline without client_id', { access_type: 'offline' }],
      ['refresh_token without client_id', { refresh_token: 'x' }],
      ['tenant_id and domain_name', { tenant_id: 'a', domain_name: 'b' }],
      ['bad access_type', { access_type: 'sometimes' }],
      ['client_id too long', { access_type: 'offline', client_id: 'c'.repeat(1025) }],
    ])('rejects %s with 400', async (_name, body) => {
      expect((await login('alice', 'alice-password', body)).statusCode).toBe(400);
    });

    it('requires a JSON object body', async () => {
      for (const payload of ['', 'not json', '[]', 'null', '"x"', '{"a":']) {
        const res = await inject({
          method: 'POST',
          url: '/0.1/token',
          headers: { ...JSON_HEADERS, authorization: basic('alice', 'alice-password') },
          payload,
        });
        expect(res.statusCode, `payload ${JSON.stringify(payload)}`).toBe(400);
        expect(res.json().status_code).toBe(400);
      }
    });

    it('ignores unknown keys', async () => {
      expect((await login('alice', 'alice-password', { whatever: 1 })).statusCode).toBe(200);
    });

    it('answers the same 401 body for every credential failure', async () => {
      await createUser('dave', 'dave-password', { enabled: false });
      await createUser('erin', null);
      const failures = [
        await login('alice', 'wrong'),
        await login('nobody', 'whatever'),
        await login('dave', 'dave-password'),
        await login('erin', ''),
        await login('alice', 'alice-password\u0000'),
        await login('alice', 'alice-password '),
        await login('alice', 'alice-password', { backend: 'no_such_backend' }),
      ];
      for (const res of failures) {
        expect(res.statusCode).toBe(401);
        expect(res.json().reason).toEqual(['Authentication Failed']);
      }
    });

    it('answers 401 for malformed Authorization headers', async () => {
      for (const authorization of [
        'Basic !!!notbase64',
        `Basic ${Buffer.from('nocolon').toString('base64')}`,
        'Bearer abc',
        'Basic',
        '',
      ]) {
        const res = await inject({ method: 'POST', url: '/0.1/token', headers: { ...JSON_HEADERS, authorization }, payload: {} });
        expect(res.statusCode, authorization).toBe(401);
      }
      const none = await inject({ method: 'POST', url: '/0.1/token', headers: JSON_HEADERS, payload: {} });
      expect(none.statusCode).toBe(401);
    });

    it('decodes Latin-1 credentials when they are not UTF-8', async () => {
      await createUser('zoé', 'pässword');
      const latin1 = `Basic ${Buffer.from('zoé:pässword', 'latin1').toString('base64')}`;
      const res = await inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { ...JSON_HEADERS, authorization: latin1 },
        payload: {},
      });
      expect(res.statusCode).toBe(200);
      expect((await login('zoé', 'pässword')).statusCode).toBe(200);
    });

    it('caps concurrent sessions of user purposes with 429, not internal users', async () => {
      await createUser('frank', 'frank-password');
      for (let i = 0; i < 3; i += 1) expect((await login('frank', 'frank-password')).statusCode).toBe(200);
      const res = await login('frank', 'frank-password');
      expect(res.statusCode).toBe(429);
      expect(res.json().status_code).toBe(429);
      for (let i = 0; i < 4; i += 1) expect((await login(ADMIN.username, ADMIN.password)).statusCode).toBe(200);
    });

    it('caps them for refresh-token logins too (no password read: the cap counts on its own)', async () => {
      await createUser('hank', 'hank-password');
      const offline = (await login('hank', 'hank-password', { access_type: 'offline', client_id: 'hank-app' })).json().data;
      for (let i = 0; i < 2; i += 1) expect((await login('hank', 'hank-password')).statusCode).toBe(200);
      const viaRefresh = await refreshLogin({ refresh_token: offline.refresh_token, client_id: 'hank-app' });
      expect(viaRefresh.statusCode).toBe(429);
      expect((await login('hank', 'hank-password')).statusCode).toBe(429);
    });

    it('records remote address, user agent and mobile sessions', async () => {
      await createUser('gina', 'gina-password');
      const res = await login('gina', 'gina-password', {}, { 'user-agent': 'test-agent/1', 'wazo-session-type': 'Mobile' });
      const d = res.json().data;
      expect(d.user_agent).toBe('test-agent/1');
      expect(d.remote_addr).toBe('127.0.0.1');
    });
  });

  describe('GET/HEAD /token/{token}', () => {
    let token: string;
    let authId: string;
    let sessionUuid: string;
    beforeAll(async () => {
      await createUser('henry', 'henry-password');
      const d = (await login('henry', 'henry-password', { expiration: 3600 })).json().data;
      token = d.token;
      authId = d.auth_id;
      sessionUuid = d.session_uuid;
    });

    it('HEAD answers 204 with no body, GET the details', async () => {
      const head = await inject({ method: 'HEAD', url: `/0.1/token/${token}` });
      expect(head.statusCode).toBe(204);
      expect(head.body).toBe('');
      const get = await inject({ method: 'GET', url: `/0.1/token/${token}` });
      expect(get.statusCode).toBe(200);
      expect(get.json().data).toMatchObject({ token, auth_id: authId, session_uuid: sessionUuid });
    });

    it('checks the scope against the ACL (me → auth_id)', async () => {
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${token}?scope=confd.users.me.read` })).statusCode).toBe(204);
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${token}?scope=confd.users.${authId}.read` })).statusCode).toBe(
        204,
      );
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${token}?scope=confd.users.someone-else.read` })).statusCode).toBe(
        403,
      );
      const get = await inject({ method: 'GET', url: `/0.1/token/${token}?scope=confd.users.read` });
      expect(get.statusCode).toBe(403);
      expect(get.json().reason).toEqual(['Unauthorized for confd.users.read']);
      // A trailing newline or NUL makes another access.
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${token}?scope=confd.users.me.read%0A` })).statusCode).toBe(403);
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${token}?scope=confd.users.me.read%00` })).statusCode).toBe(403);
    });

    it('checks the tenant', async () => {
      const tenant = (await inject({ method: 'GET', url: `/0.1/token/${token}` })).json().data.metadata.tenant_uuid;
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${token}?tenant=${tenant}` })).statusCode).toBe(204);
      const other = await inject({ method: 'GET', url: `/0.1/token/${token}?tenant=00000000-0000-4000-8000-000000000000` });
      expect(other.statusCode).toBe(403);
      expect(other.json().reason).toEqual(['Unauthorized for tenant 00000000-0000-4000-8000-000000000000']);
    });

    it('answers 404 for unknown and malformed tokens, never 401', async () => {
      for (const bad of ['unknown', 'x'.repeat(2000), '00000000-0000-4000-8000-000000000000', '%00', 'a%0Ab']) {
        const res = await inject({ method: 'GET', url: `/0.1/token/${bad}` });
        expect(res.statusCode, bad).toBe(404);
        expect(res.json().reason).toEqual(['No such token']);
        expect((await inject({ method: 'HEAD', url: `/0.1/token/${bad}` })).statusCode).toBe(404);
      }
    });

    it('expires tokens by the clock', async () => {
      const d = (await login('henry', 'henry-password', { expiration: 5 })).json().data;
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${d.token}` })).statusCode).toBe(204);
      (t.clock as FakeClock).advance(5_000);
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${d.token}` })).statusCode).toBe(404);
      // The reaper removes it, and the session left empty.
      const removed = await t.service.reaper.runOnce();
      expect(removed).toBeGreaterThanOrEqual(1);
      expect(await t.service.store.findTokenByHash((await import('../../src/tokens/material.js')).hashToken(d.token))).toBeNull();
      (t.clock as FakeClock).advance(-5_000);
    });
  });

  describe('DELETE /token/{token} and scopes/check', () => {
    it('revokes at once; 200 also for unknown tokens', async () => {
      await createUser('ivan', 'ivan-password');
      const { token } = (await login('ivan', 'ivan-password')).json().data;
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode).toBe(204);
      const del = await inject({ method: 'DELETE', url: `/0.1/token/${token}` });
      expect(del.statusCode).toBe(200);
      expect(del.json()).toEqual({ data: { message: 'success' } });
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode).toBe(404);
      expect((await inject({ method: 'DELETE', url: `/0.1/token/${token}` })).statusCode).toBe(200);
      expect((await inject({ method: 'DELETE', url: '/0.1/token/never-existed' })).statusCode).toBe(200);
    });

    it('checks several scopes', async () => {
      await createUser('judy', 'judy-password');
      const { token } = (await login('judy', 'judy-password')).json().data;
      const url = `/0.1/token/${token}/scopes/check`;
      const res = await inject({
        method: 'POST',
        url,
        headers: JSON_HEADERS,
        payload: { scopes: ['confd.users.me.read', 'confd.users.read'] },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ scopes: { 'confd.users.me.read': true, 'confd.users.read': false } });
      expect((await inject({ method: 'POST', url, headers: JSON_HEADERS, payload: { scopes: [] } })).json()).toEqual({
        scopes: {},
      });
      expect((await inject({ method: 'POST', url, headers: JSON_HEADERS, payload: { scopes: [1] } })).statusCode).toBe(400);
      expect((await inject({ method: 'POST', url, headers: JSON_HEADERS })).statusCode).toBe(400);
      expect(
        (await inject({ method: 'POST', url: '/0.1/token/nope/scopes/check', headers: JSON_HEADERS, payload: { scopes: [] } }))
          .statusCode,
      ).toBe(404);
      const other = await inject({
        method: 'POST',
        url,
        headers: JSON_HEADERS,
        payload: { scopes: [], tenant_uuid: '00000000-0000-4000-8000-000000000000' },
      });
      expect(other.statusCode).toBe(403);
    });
  });

  describe('refresh tokens', () => {
    it('issues, uses, replaces, lists and deletes refresh tokens', async () => {
      const kim = await createUser('kim', 'kim-password');
      const first = (
        await login('kim', 'kim-password', { access_type: 'offline', client_id: 'my-app' }, { 'wazo-session-type': 'mobile' })
      ).json().data;
      expect(first.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const viaRefresh = await refreshLogin({ refresh_token: first.refresh_token, client_id: 'my-app', expiration: 60 });
      expect(viaRefresh.statusCode).toBe(200);
      const refreshed = viaRefresh.json().data;
      expect(refreshed.auth_id).toBe(kim.uuid);
      expect(refreshed.session_uuid).not.toBe(first.session_uuid);
      expect(refreshed).not.toHaveProperty('refresh_token');

      const wrongClient = await refreshLogin({ refresh_token: first.refresh_token, client_id: 'other' });
      expect(wrongClient.statusCode).toBe(401);
      const unknown = await refreshLogin({ refresh_token: 'nope', client_id: 'my-app' });
      expect(unknown.statusCode).toBe(401);

      // A new offline login replaces the refresh token.
      const second = (await login('kim', 'kim-password', { access_type: 'offline', client_id: 'my-app' })).json().data;
      expect(second.refresh_token).not.toBe(first.refresh_token);
      const old = await refreshLogin({ refresh_token: first.refresh_token, client_id: 'my-app' });
      expect(old.statusCode).toBe(401);

      const mine = await inject({ method: 'GET', url: '/0.1/users/me/tokens', headers: { 'x-auth-token': second.token } });
      expect(mine.statusCode, mine.body).toBe(200);
      expect(mine.json()).toMatchObject({
        total: 1,
        filtered: 1,
        items: [{ client_id: 'my-app', user_uuid: kim.uuid, mobile: false }],
      });

      const byAdmin = await inject({
        method: 'GET',
        url: `/0.1/users/${kim.uuid}/tokens`,
        headers: { 'x-auth-token': adminToken },
      });
      expect(byAdmin.json().total).toBe(1);
      const all = await inject({ method: 'GET', url: '/0.1/tokens', headers: { 'x-auth-token': adminToken } });
      expect(all.statusCode).toBe(200);
      expect(all.json().items.some((i: { client_id: string }) => i.client_id === 'my-app')).toBe(true);

      const missing = await inject({
        method: 'DELETE',
        url: '/0.1/users/me/tokens/not-a-client',
        headers: { 'x-auth-token': second.token },
      });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error_id).toBe('cannot-find-refresh-token-matching-client-id');
      const unknownUser = await inject({
        method: 'DELETE',
        url: '/0.1/users/00000000-0000-4000-8000-000000000000/tokens/my-app',
        headers: { 'x-auth-token': adminToken },
      });
      expect(unknownUser.statusCode).toBe(404);
      expect(unknownUser.json().error_id).toBe('unknown-user');

      const del = await inject({
        method: 'DELETE',
        url: '/0.1/users/me/tokens/my-app',
        headers: { 'x-auth-token': second.token },
      });
      expect(del.statusCode).toBe(204);
      // Access tokens issued earlier stay valid.
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${second.token}` })).statusCode).toBe(204);
      const after = await refreshLogin({ refresh_token: second.refresh_token, client_id: 'my-app' });
      expect(after.statusCode).toBe(401);
    });
  });

  describe('service endpoints', () => {
    it('lists backends, status and the OpenAPI document', async () => {
      expect((await inject({ method: 'GET', url: '/0.1/backends' })).json()).toEqual({ data: ['xivo_user'] });
      const status = await inject({ method: 'GET', url: '/0.1/status' });
      expect(status.statusCode).toBe(200);
      expect(status.json()).toMatchObject({ rest_api: { status: 'ok' }, store: { status: 'ok' } });
      expect((await inject({ method: 'HEAD', url: '/0.1/status' })).statusCode).toBe(200);
      const doc = await inject({ method: 'GET', url: '/0.1/api/api.yml' });
      expect(doc.statusCode).toBe(200);
      expect(doc.body).toContain('openapi: 3.0.3');
      expect(doc.body).toContain('/0.1/token/{token}');
      expect(doc.body).toContain('expiration');
    });

    it('answers unknown routes with a JSON 404', async () => {
      const res = await inject({ method: 'GET', url: '/0.1/nope' });
      expect(res.statusCode).toBe(404);
      expect(res.json().error_id).toBe('not-found');
    });
  });
});
