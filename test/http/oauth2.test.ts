// RFC 7662 introspection, RFC 7009 revocation and RFC 8414 metadata, on both engines.
import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FakeClock } from '../../src/clock.js';
import { parseForm } from '../../src/http/routes/oauth2.js';
import { ADMIN, basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';

const FORM = 'application/x-www-form-urlencoded';
const form = (params: Record<string, string>) => new URLSearchParams(params).toString();

describe('form parsing', () => {
  it('decodes UTF-8 and percent-escapes, refuses repeats and bad UTF-8', () => {
    expect(parseForm(Buffer.from('token=a%2Bb+c&token_type_hint=access_token'))).toEqual({
      token: 'a+b c',
      token_type_hint: 'access_token',
    });
    expect(() => parseForm(Buffer.from('token=a&token=b'))).toThrow(/repeated/);
    expect(() => parseForm(Buffer.from([0x74, 0x3d, 0xff]))).toThrow(/UTF-8/);
    expect(parseForm(Buffer.from('__proto__=x')).__proto__).toBe('x');
  });
});

describe.each(ENGINES)('OAuth 2.0 endpoints on %s', (engine) => {
  let t: TestService;
  let adminToken: string;
  let aliceToken: string;
  let alice: { uuid: string; tenant_uuid: string };
  const inject = (opts: InjectOptions) => t.service.app.inject(opts);
  const login = async (user: string, password: string, payload: Record<string, unknown> = {}) =>
    (await inject({ method: 'POST', url: '/0.1/token', headers: { authorization: basic(user, password) }, payload })).json().data;
  const introspect = (params: Record<string, string>, bearer: string | null = adminToken) =>
    inject({
      method: 'POST',
      url: '/0.1/oauth2/introspect',
      headers: { 'content-type': FORM, ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }) },
      payload: form(params),
    });
  const revoke = (params: Record<string, string>) =>
    inject({ method: 'POST', url: '/0.1/oauth2/revoke', headers: { 'content-type': FORM }, payload: form(params) });
  const check = async (token: string) => (await inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode;

  beforeAll(async () => {
    t = await startTestService(engine, {
      default_policies: { own: { acl: ['confd.users.me.read'] } },
      default_user_policy: 'own',
    });
    adminToken = (await login(ADMIN.username, ADMIN.password)).token;
    alice = (
      await inject({
        method: 'POST',
        url: '/0.1/users',
        headers: { 'x-auth-token': adminToken },
        payload: { username: 'alice', password: 'alice-password' },
      })
    ).json();
    aliceToken = (await login('alice', 'alice-password', { expiration: 600 })).token;
  });

  describe('POST /0.1/oauth2/introspect (RFC 7662)', () => {
    it('describes an active token', async () => {
      const res = await introspect({ token: aliceToken, token_type_hint: 'access_token' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['cache-control']).toBe('no-store');
      const body = res.json();
      const now = Math.floor(t.clock.now() / 1000);
      expect(body).toEqual({
        active: true,
        scope: 'confd.users.me.read',
        sub: alice.uuid,
        username: alice.uuid,
        exp: now + 600,
        iat: now,
        token_type: 'Bearer',
        tenant_uuid: alice.tenant_uuid,
        session_uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
        xivo_user_uuid: alice.uuid,
      });
    });

    it('answers only {"active": false} for unknown, expired, and lacking required_access', async () => {
      expect((await introspect({ token: 'no-such-token' })).json()).toEqual({ active: false });
      expect((await introspect({ token: 'x'.repeat(5000) })).json()).toEqual({ active: false });
      expect((await introspect({ token: aliceToken, required_access: 'confd.lines.read' })).json()).toEqual({ active: false });
      expect((await introspect({ token: aliceToken, required_access: 'confd.users.me.read' })).json().active).toBe(true);
      const short = (await login('alice', 'alice-password', { expiration: 2 })).token;
      (t.clock as FakeClock).advance(3000);
      const res = await introspect({ token: short });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ active: false });
    });

    it('requires a bearer token granting auth.tokens.introspect (never Basic)', async () => {
      const none = await introspect({ token: aliceToken }, null);
      expect(none.statusCode).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="xivo-auth", error="invalid_token"');
      expect(none.json().error).toBe('invalid_token');
      const bad = await introspect({ token: aliceToken }, 'not-a-token');
      expect(bad.statusCode).toBe(401);
      const basicAuth = await inject({
        method: 'POST',
        url: '/0.1/oauth2/introspect',
        headers: { 'content-type': FORM, authorization: basic(ADMIN.username, ADMIN.password) },
        payload: form({ token: aliceToken }),
      });
      expect(basicAuth.statusCode).toBe(401);
      const weak = await introspect({ token: aliceToken }, aliceToken);
      expect(weak.statusCode).toBe(403);
      expect(weak.headers['www-authenticate']).toBe('Bearer realm="xivo-auth", error="insufficient_scope"');
      expect(weak.json()).toMatchObject({ error: 'insufficient_scope' });
      // X-Auth-Token works too.
      const own = await inject({
        method: 'POST',
        url: '/0.1/oauth2/introspect',
        headers: { 'content-type': FORM, 'x-auth-token': adminToken },
        payload: form({ token: aliceToken }),
      });
      expect(own.json().active).toBe(true);
    });

    it('400 invalid_request for a missing token, a repeated parameter or bad UTF-8', async () => {
      const missing = await introspect({ token_type_hint: 'access_token' });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().error).toBe('invalid_request');
      const repeated = await inject({
        method: 'POST',
        url: '/0.1/oauth2/introspect',
        headers: { 'content-type': FORM, authorization: `Bearer ${adminToken}` },
        payload: 'token=a&token=b',
      });
      expect(repeated.statusCode).toBe(400);
      expect(repeated.json().error).toBe('invalid_request');
      const utf = await inject({
        method: 'POST',
        url: '/0.1/oauth2/introspect',
        headers: { 'content-type': FORM, authorization: `Bearer ${adminToken}` },
        payload: Buffer.from([0x74, 0x6f, 0x6b, 0x65, 0x6e, 0x3d, 0xff]),
      });
      expect(utf.statusCode).toBe(400);
    });
  });

  describe('POST /0.1/oauth2/revoke (RFC 7009)', () => {
    it('revokes an access token; 200 with an empty body, also for unknown tokens and any hint', async () => {
      const token = (await login('alice', 'alice-password')).token;
      expect(await check(token)).toBe(204);
      const res = await revoke({ token, token_type_hint: 'access_token' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('');
      expect(await check(token)).toBe(404);
      expect((await revoke({ token })).statusCode).toBe(200);
      expect((await revoke({ token: 'never-issued', token_type_hint: 'something_else' })).statusCode).toBe(200);
      expect((await revoke({ token: 'x'.repeat(5000) })).statusCode).toBe(200);
    });

    it('revoking a refresh token revokes it and the access tokens issued from it', async () => {
      const first = await login('alice', 'alice-password', { access_type: 'offline', client_id: 'oauth-test' });
      const refreshed = (
        await inject({
          method: 'POST',
          url: '/0.1/token',
          payload: { refresh_token: first.refresh_token, client_id: 'oauth-test' },
        })
      ).json().data;
      const unrelated = (await login('alice', 'alice-password')).token;
      expect(await check(first.token)).toBe(204);
      expect(await check(refreshed.token)).toBe(204);
      // The wrong hint only changes the order of the lookups.
      expect((await revoke({ token: first.refresh_token, token_type_hint: 'access_token' })).statusCode).toBe(200);
      expect(await check(first.token)).toBe(404);
      expect(await check(refreshed.token)).toBe(404);
      expect(await check(unrelated)).toBe(204);
      const reuse = await inject({
        method: 'POST',
        url: '/0.1/token',
        payload: { refresh_token: first.refresh_token, client_id: 'oauth-test' },
      });
      expect(reuse.statusCode).toBe(401);
    });

    it('400 invalid_request without a token', async () => {
      const res = await revoke({});
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_request' });
    });
  });

  it('publishes RFC 8414 metadata at the root', async () => {
    const res = await inject({
      method: 'GET',
      url: '/.well-known/oauth-authorization-server',
      headers: { host: 'auth.example.com' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      issuer: 'http://auth.example.com',
      introspection_endpoint: 'http://auth.example.com/0.1/oauth2/introspect',
      introspection_endpoint_auth_methods_supported: ['bearer'],
      revocation_endpoint: 'http://auth.example.com/0.1/oauth2/revoke',
      revocation_endpoint_auth_methods_supported: ['none'],
      response_types_supported: [],
    });
  });

  it('leaves the JSON endpoints as they were for form-typed bodies (curl -d)', async () => {
    const res = await inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { 'content-type': FORM, authorization: basic('alice', 'alice-password') },
      payload: JSON.stringify({ expiration: 60 }),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data.token).toBeDefined();
  });
});
