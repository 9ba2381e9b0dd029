// /metrics after a known workload: the counts match, labels never carry a token.
import { beforeAll, describe, expect, it } from 'vitest';
import type { FakeClock } from '../../src/clock.js';
import { ADMIN, basic, startTestService, type TestService } from '../helpers/service.js';

/** `name{labels} value` lines → value, keyed by `name{labels}` as printed. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe('GET /metrics', () => {
  let t: TestService;
  let text: string;
  let m: Map<string, number>;
  let token: string;

  beforeAll(async () => {
    t = await startTestService('sqlite', { default_token_lifetime: 60 });
    const app = t.service.app;
    const login = (password: string) =>
      app.inject({ method: 'POST', url: '/0.1/token', headers: { authorization: basic(ADMIN.username, password) }, payload: {} });
    token = (await login(ADMIN.password)).json().data.token;
    expect((await login('wrong-password')).statusCode).toBe(401);
    expect((await login('wrong-again')).statusCode).toBe(401);
    const offline = (
      await app.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic(ADMIN.username, ADMIN.password) },
        payload: { access_type: 'offline', client_id: 'metrics' },
      })
    ).json().data;
    await app.inject({
      method: 'POST',
      url: '/0.1/token',
      payload: { refresh_token: offline.refresh_token, client_id: 'metrics' },
    });
    // 3 valid checks: the first reads the store, the next two hit the cache.
    for (let i = 0; i < 3; i += 1)
      expect((await app.inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode).toBe(204);
    // 2 invalid (store), 1 via /authz valid (cache).
    await app.inject({ method: 'HEAD', url: '/0.1/token/unknown-1' });
    await app.inject({ method: 'HEAD', url: '/0.1/token/unknown-2' });
    expect((await app.inject({ method: 'GET', url: '/0.1/authz', headers: { 'x-auth-token': token } })).statusCode).toBe(200);
    // Revocations: one token, then one refresh token with its 1 access token.
    const doomed = (await login(ADMIN.password)).json().data.token;
    await app.inject({ method: 'DELETE', url: `/0.1/token/${doomed}` });
    await app.inject({
      method: 'POST',
      url: '/0.1/oauth2/revoke',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${offline.refresh_token}`,
    });
    // Reaper: every token issued above has a 60 s life.
    (t.clock as FakeClock).advance(120_000);
    await (t.service.reaper as unknown as { pass(): Promise<number> }).pass();

    await app.inject({ method: 'GET', url: `/no/such/path/${token}` });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    text = res.body;
    m = parse(text);
  });

  it('counts token checks by result and source, with their latency', () => {
    expect(m.get('xivo_auth_token_checks_total{result="valid",source="store"}')).toBe(1);
    expect(m.get('xivo_auth_token_checks_total{result="valid",source="cache"}')).toBe(3);
    expect(m.get('xivo_auth_token_checks_total{result="invalid",source="store"}')).toBe(2);
    expect(m.get('xivo_auth_token_checks_total{result="denied",source="store"}')).toBe(0);
    expect(m.get('xivo_auth_token_check_duration_seconds_count')).toBe(6);
    expect(m.get('xivo_auth_token_check_duration_seconds_bucket{le="+Inf"}')).toBe(6);
    expect(m.get('xivo_auth_token_check_duration_seconds_bucket{le="0.00005"}')).toBeGreaterThanOrEqual(0);
    expect(m.get('xivo_auth_token_cache_lookups_total{result="hit"}')).toBe(3);
    expect(m.get('xivo_auth_token_cache_lookups_total{result="miss"}')).toBeGreaterThanOrEqual(3);
  });

  it('counts logins, issued and revoked tokens, reaper deletions', () => {
    expect(m.get('xivo_auth_logins_total{backend="xivo_user",result="success"}')).toBe(4);
    expect(m.get('xivo_auth_logins_total{backend="xivo_user",result="failure"}')).toBe(2);
    expect(m.get('xivo_auth_login_duration_seconds_count')).toBe(6);
    expect(m.get('xivo_auth_tokens_issued_total{grant="password"}')).toBe(3);
    expect(m.get('xivo_auth_tokens_issued_total{grant="refresh_token"}')).toBe(1);
    expect(m.get('xivo_auth_tokens_revoked_total{reason="revoked"}')).toBe(1);
    // The offline login's token and the one refreshed from it.
    expect(m.get('xivo_auth_tokens_revoked_total{reason="refresh_token_revoked"}')).toBe(2);
    // Left: the first admin token.
    expect(m.get('xivo_auth_reaper_deleted_tokens_total')).toBe(1);
    expect(m.get('xivo_auth_password_hash_duration_seconds_count{operation="verify"}')).toBe(5);
    expect(m.get('xivo_auth_password_hash_queue{state="waiting"}')).toBe(0);
    expect(m.get('xivo_auth_token_cache_evictions_total')).toBe(0);
    expect(m.get('xivo_auth_token_cache_active')).toBe(1);
  });

  it('counts HTTP requests by route template, never the raw URL or a token', () => {
    expect(m.get('xivo_auth_http_requests_total{method="HEAD",route="/0.1/token/:token",status="204"}')).toBe(3);
    expect(m.get('xivo_auth_http_requests_total{method="HEAD",route="/0.1/token/:token",status="404"}')).toBe(2);
    expect(m.get('xivo_auth_http_requests_total{method="POST",route="/0.1/token",status="401"}')).toBe(2);
    expect(m.get('xivo_auth_http_requests_total{method="GET",route="/0.1/authz",status="200"}')).toBe(1);
    expect(m.get('xivo_auth_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect(text).not.toContain(token);
    expect(text).not.toContain('unknown-1');
    expect(text).not.toContain(ADMIN.username === 'admin' ? 'admin-secret' : ADMIN.password);
  });

  it('includes the process metrics', () => {
    expect(m.get('xivo_auth_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect([...m.keys()].some((k) => k.startsWith('xivo_auth_nodejs_eventloop_lag'))).toBe(true);
  });

  it('counts cache evictions', async () => {
    const small = await startTestService('sqlite', { token_cache: { max_entries: 1 } });
    const app = small.service.app;
    const issue = async () =>
      (
        await app.inject({
          method: 'POST',
          url: '/0.1/token',
          headers: { authorization: basic(ADMIN.username, ADMIN.password) },
          payload: {},
        })
      ).json().data.token as string;
    const a = await issue();
    const b = await issue();
    await app.inject({ method: 'HEAD', url: `/0.1/token/${a}` });
    await app.inject({ method: 'HEAD', url: `/0.1/token/${b}` });
    const after = parse((await app.inject({ method: 'GET', url: '/metrics' })).body);
    expect(after.get('xivo_auth_token_cache_evictions_total')).toBe(1);
    expect(after.get('xivo_auth_token_cache_entries')).toBe(1);
  });
});
