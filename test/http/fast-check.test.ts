// The HEAD check's fast path (in front of Fastify) answers exactly what the
// Fastify route answers: compared over a real socket against inject().
import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FakeClock } from '../../src/clock.js';
import { ADMIN, basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { NoSuchTokenError, ScopeDeniedError } from '../../src/errors.js';
import { cachedDecision, refusalDecisionOf, validDecision } from '../../src/http/token-check.js';
import { CHECK_DENIED, CHECK_INVALID } from '../../src/metrics/token-observer.js';
import type { TokenRecord } from '../../src/tokens/types.js';

// A check answered from the cache (TokenService.checkCached) is mapped by
// cachedDecision; check() throws in its place, mapped by refusalDecisionOf.
describe('cachedDecision', () => {
  it('answers what the errors check() throws in its place answer', () => {
    expect(cachedDecision(CHECK_INVALID)).toEqual(refusalDecisionOf(new NoSuchTokenError()));
    expect(cachedDecision(CHECK_DENIED)).toEqual(refusalDecisionOf(new ScopeDeniedError('confd.users.read')));
    const record = { expiresAt: Date.now() + 60_000 } as TokenRecord;
    expect(cachedDecision(record)).toEqual(validDecision(record));
    expect(cachedDecision(record).status).toBe(204);
  });
});

describe.each(ENGINES)('HEAD /0.1/token fast path on %s', (engine) => {
  let t: TestService;
  let base: string;
  let token: string;
  let tenant: string;
  const inject = (opts: InjectOptions) => t.service.app.inject(opts);
  const overSocket = async (path: string) => {
    const res = await fetch(`${base}${path}`, { method: 'HEAD' });
    return { status: res.status, retryAfter: res.headers.get('retry-after') };
  };

  beforeAll(async () => {
    t = await startTestService(engine, {
      default_policies: { p: { acl: ['confd.users.me.read', '!confd.users.me.delete'] } },
      default_user_policy: 'p',
    });
    base = await t.service.listen();
    const admin = (
      await inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic(ADMIN.username, ADMIN.password) },
        payload: {},
      })
    ).json().data.token;
    await inject({
      method: 'POST',
      url: '/0.1/users',
      headers: { 'x-auth-token': admin },
      payload: { username: 'quinn', password: 'quinn-password' },
    });
    const d = (
      await inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic('quinn', 'quinn-password') },
        payload: { expiration: 60 },
      })
    ).json().data;
    token = d.token;
    tenant = d.metadata.tenant_uuid;
  });

  it('answers every case as the Fastify route does', async () => {
    const paths = [
      `/0.1/token/${token}`,
      `/0.1/token/${token}?scope=confd.users.me.read`,
      `/0.1/token/${token}?scope=confd.users.me.delete`,
      `/0.1/token/${token}?scope=confd.users.read`,
      `/0.1/token/${token}?scope=confd.users.me.read%0A`,
      `/0.1/token/${token}?scope=confd.users.me.read%00`,
      `/0.1/token/${token}?scope=`,
      `/0.1/token/${token}?tenant=${tenant}`,
      `/0.1/token/${token}?tenant=00000000-0000-4000-8000-000000000000`,
      `/0.1/token/${token}?tenant=%00`,
      `/0.1/token/${token}?scope=confd.users.me.read&tenant=${tenant}`,
      `/0.1/token/${token}?scope=a&scope=b`,
      `/0.1/token/${token}?unrelated=1`,
      '/0.1/token/unknown',
      '/0.1/token/%00',
      '/0.1/token/%E0%A4%A',
      `/0.1/token/${'x'.repeat(600)}`,
      `/0.1/token/${token}/scopes/check`,
      '/0.1/token/',
    ];
    for (const path of paths) {
      const expected = (await inject({ method: 'HEAD', url: path })).statusCode;
      expect((await overSocket(path)).status, path).toBe(expected);
    }
    expect((await overSocket(`/0.1/token/${token}?scope=confd.users.me.read`)).status).toBe(204);
  });

  it('answers GET|HEAD /0.1/authz as the Fastify route does, headers included', async () => {
    const cases: Array<[string, string, Record<string, string>]> = [
      ['GET', '/0.1/authz', {}],
      ['GET', '/0.1/authz', { 'x-auth-token': token }],
      ['HEAD', '/0.1/authz', { authorization: `Bearer ${token}` }],
      ['GET', '/0.1/authz?access=confd.users.me.read', { 'x-auth-token': token }],
      ['GET', '/0.1/authz?access=confd.users.read', { 'x-auth-token': token }],
      ['GET', '/0.1/authz?access=confd.users.me.delete', { 'x-auth-token': token }],
      ['GET', '/0.1/authz', { 'x-auth-token': token, 'x-auth-required-access': 'confd.users.me.read' }],
      ['GET', '/0.1/authz', { 'x-auth-token': token, 'wazo-tenant': tenant }],
      ['GET', '/0.1/authz', { 'x-auth-token': token, 'wazo-tenant': '00000000-0000-4000-8000-000000000000' }],
      ['GET', '/0.1/authz', { 'x-auth-token': 'unknown' }],
      ['GET', '/0.1/authz?access=', { 'x-auth-token': token }],
      ['GET', `/0.1/authz?access=${'a'.repeat(1100)}`, { 'x-auth-token': token }],
      ['GET', '/0.1/authz?access=a&access=b', { 'x-auth-token': token }],
      ['GET', '/0.1/authz?access=%00', { 'x-auth-token': token }],
      ['GET', '/0.1/authzfoo', { 'x-auth-token': token }],
    ];
    const relevant = [
      'www-authenticate',
      'cache-control',
      'retry-after',
      'x-auth-user-uuid',
      'x-auth-tenant-uuid',
      'x-auth-session-uuid',
      'x-auth-id',
      'x-auth-purpose',
      'remote-user',
    ];
    for (const [method, path, headers] of cases) {
      const expected = await inject({ method: method as 'GET', url: path, headers });
      const got = await fetch(`${base}${path}`, { method, headers });
      const what = `${method} ${path.slice(0, 60)} ${JSON.stringify(headers).slice(0, 80)}`;
      expect(got.status, what).toBe(expected.statusCode);
      for (const name of relevant)
        expect(got.headers.get(name) ?? undefined, `${what}: ${name}`).toBe(expected.headers[name] ?? undefined);
    }
  });

  it('sees revocations and expiry at once', async () => {
    const d = (
      await inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic('quinn', 'quinn-password') },
        payload: { expiration: 5 },
      })
    ).json().data;
    expect((await overSocket(`/0.1/token/${d.token}`)).status).toBe(204);
    (t.clock as FakeClock).advance(5_000);
    expect((await overSocket(`/0.1/token/${d.token}`)).status).toBe(404);
    (t.clock as FakeClock).advance(-5_000);
    expect((await overSocket(`/0.1/token/${d.token}`)).status).toBe(204);
    await inject({ method: 'DELETE', url: `/0.1/token/${d.token}` });
    expect((await overSocket(`/0.1/token/${d.token}`)).status).toBe(404);
  });

  it('counts its answers in the request metrics under the route template', async () => {
    const before = await inject({ method: 'GET', url: '/metrics' });
    const series = 'xivo_auth_http_requests_total{method="HEAD",route="/0.1/token/:token",status="204"}';
    const value = (text: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(series))
          ?.split(' ')[1] ?? 0,
      );
    await overSocket(`/0.1/token/${token}`);
    await overSocket(`/0.1/token/${token}`);
    const after = await inject({ method: 'GET', url: '/metrics' });
    expect(value(after.body) - value(before.body)).toBe(2);
  });
});
