// Rate limits per client address: the token bucket (pure logic, fake time),
// then over HTTP: logins and protected endpoints limited by default, checks
// only when configured, also on the fast path of a real socket.
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/security/rate-limit.js';
import { ADMIN, basic, startTestService } from '../helpers/service.js';
import { countHashes, createUser, login, securityWith } from './helpers.js';

describe('RateLimiter', () => {
  it('lets a burst through, then one request per 1/rate seconds, and says how long to wait', () => {
    let now = 0;
    const limiter = new RateLimiter({ per_second: 2, burst: 3 }, 100, () => now);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(1);
    expect(limiter.take('b')).toBe(0);
    now += 500;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(1);
    now += 10_000;
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0, 1]);
  });

  it('keeps at most max addresses, forgetting the least recently seen', () => {
    const now = 0;
    const limiter = new RateLimiter({ per_second: 1, burst: 1 }, 3, () => now);
    for (const a of ['a', 'b', 'c']) expect(limiter.take(a)).toBe(0);
    expect(limiter.take('a')).toBe(1); // a is now the most recent
    expect(limiter.take('d')).toBe(0); // evicts b
    expect(limiter.size).toBe(3);
    expect(limiter.take('b')).toBe(0); // forgotten: a fresh bucket (evicts c)
    expect(limiter.take('a')).toBe(1);
    for (let i = 0; i < 10_000; i++) limiter.take(`x${i}`);
    expect(limiter.size).toBe(3);
  });

  it('is off with per_second 0', () => {
    const limiter = new RateLimiter({ per_second: 0, burst: 1 }, 3);
    for (let i = 0; i < 100; i++) expect(limiter.take('a')).toBe(0);
    expect(limiter.size).toBe(0);
  });
});

describe('rate limits over HTTP', () => {
  it('limits logins per address: 429 with Retry-After and the legacy body; another address goes on', async () => {
    const t = await startTestService('sqlite', {
      security: securityWith({ rate_limits: { login: { per_second: 0.01, burst: 3 } } }),
    });
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await login(t.service, ADMIN.username, ADMIN.password, '198.51.100.1')).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await login(t.service, ADMIN.username, ADMIN.password, '198.51.100.1');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.json()).toMatchObject({ reason: ['Too many requests, retry later'], status_code: 429 });
    expect((await login(t.service, ADMIN.username, ADMIN.password, '198.51.100.2')).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) await login(t.service, ADMIN.username, ADMIN.password, '198.51.100.1');
    await t.service.security.audit.flush();
    const records = await t.service.store.listAuditRecords({ tenantUuids: [], includeUntenanted: true }, { search: 'throttled' });
    // 7 refusals in a row, audited at the 1st, 2nd and 4th.
    expect(
      records.items
        .filter((r) => r.details.scope === 'rate_limit')
        .map((r) => r.details.refused)
        .sort(),
    ).toEqual([1, 2, 4]);
    await t.close();
  });

  it('counts single sign-on starts and IdP returns as logins (no token: each writes or checks before any caller is known)', async () => {
    const t = await startTestService('sqlite', {
      security: securityWith({ rate_limits: { login: { per_second: 0.01, burst: 3 }, api: { per_second: 1000, burst: 1000 } } }),
    });
    const sso = (url: string, remoteAddress: string) =>
      t.service.app.inject({
        method: 'POST',
        url,
        remoteAddress,
        headers: { 'content-type': 'application/json' },
        payload: { domain: 'nowhere.example.test', redirect_url: 'https://portal.example.test/' },
      });
    const statuses: number[] = [];
    for (const url of ['/0.1/saml/sso', '/0.1/oidc/authorize', '/0.1/saml/sso', '/0.1/oidc/authorize'])
      statuses.push((await sso(url, '198.51.100.9')).statusCode);
    // Unknown domain (404) three times, then the address's login bucket is empty.
    expect(statuses).toEqual([404, 404, 404, 429]);
    const callback = await t.service.app.inject({
      method: 'GET',
      url: '/0.1/oidc/callback?code=x&state=y',
      remoteAddress: '198.51.100.9',
    });
    expect(callback.statusCode).toBe(429);
    // Another address is not held back, nor are this address's API calls.
    expect((await sso('/0.1/saml/sso', '198.51.100.10')).statusCode).toBe(404);
    expect((await t.service.app.inject({ method: 'GET', url: '/0.1/status', remoteAddress: '198.51.100.9' })).statusCode).toBe(
      200,
    );
    await t.close();
  });

  it('holds credential stuffing (one address, one password, many accounts) at the login rate, before any hash', async () => {
    const t = await startTestService('sqlite', {
      security: securityWith({ rate_limits: { login: { per_second: 0.01, burst: 10 } } }),
    });
    const admin = (await login(t.service, ADMIN.username, ADMIN.password, '192.0.2.50')).json().data.token as string;
    for (let i = 0; i < 20; i++) await createUser(t.service, admin, { username: `victim${i}`, password: `victim-password-${i}` });
    const hashes = countHashes(t.service);
    const before = hashes.count;
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await login(t.service, `victim${i}`, 'Summer2026!', '198.51.100.66')).statusCode);
    // Each account sees one failure only (far below its own threshold): the address's rate stops the sweep.
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(10).fill(429));
    expect(hashes.count - before).toBe(10);
    // The victims are not affected from their own addresses.
    expect((await login(t.service, 'victim15', 'victim-password-15', '203.0.113.15')).statusCode).toBe(200);
    await t.close();
  });

  it('limits protected endpoints, not checks by default; checks when configured, on the fast path too', async () => {
    const t = await startTestService('sqlite', {
      security: securityWith({ rate_limits: { api: { per_second: 0.01, burst: 5 } } }),
    });
    const token = (await login(t.service, ADMIN.username, ADMIN.password, '198.51.100.3')).json().data.token as string;
    const list = () =>
      t.service.app.inject({
        method: 'GET',
        url: '/0.1/users',
        remoteAddress: '198.51.100.3',
        headers: { 'x-auth-token': token },
      });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await list()).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await list();
    expect(limited.json()).toMatchObject({ error_id: 'too-many-requests' });
    expect(limited.headers['retry-after']).toBeDefined();
    // Checks: unlimited by default.
    for (let i = 0; i < 50; i++) {
      const check = await t.service.app.inject({ method: 'HEAD', url: `/0.1/token/${token}`, remoteAddress: '198.51.100.3' });
      expect(check.statusCode).toBe(204);
    }
    await t.close();

    const limitedChecks = await startTestService('sqlite', {
      security: securityWith({ rate_limits: { checks: { per_second: 0.01, burst: 3 } } }),
    });
    const url = await limitedChecks.service.listen();
    const res = await fetch(`${url}/0.1/token`, {
      method: 'POST',
      headers: { authorization: basic(ADMIN.username, ADMIN.password), 'content-type': 'application/json' },
      body: '{}',
    });
    const own = (await res.json()).data.token as string;
    const heads = [];
    for (let i = 0; i < 4; i++) heads.push(await fetch(`${url}/0.1/token/${own}`, { method: 'HEAD' }));
    expect(heads.map((h) => h.status)).toEqual([204, 204, 204, 429]);
    expect(heads[3].headers.get('retry-after')).not.toBeNull();
    // A HEAD answer: no body, no headers about one; no-store as every check.
    expect(heads[3].headers.get('x-content-type-options')).toBeNull();
    expect(heads[3].headers.get('cache-control')).toBe('no-store');
    const authz = await fetch(`${url}/0.1/authz?access=auth.users.read`, { headers: { 'x-auth-token': own } });
    expect(authz.status).toBe(429);
    // A GET's 429 has a JSON body: the whole set.
    expect(authz.headers.get('x-content-type-options')).toBe('nosniff');
    await limitedChecks.close();
  });
});
