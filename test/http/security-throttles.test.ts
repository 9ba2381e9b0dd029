// GET /0.1/security/throttles and DELETE /0.1/security/throttles/{id}
// (issue 25): the login counters backing off, named from the audit trail and
// scoped by tenant; an unlock lets the next attempt through and is audited.
// Also: /console/ is not served with console.enabled false.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { iamApi } from '../helpers/iam.js';
import { basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';

interface Throttle {
  id: string;
  kind: string;
  login: string | null;
  remote_addr: string | null;
  tenant_uuid: string | null;
  failures: number;
}

describe.each(ENGINES)('login throttles API on %s', (engine) => {
  let t: TestService;
  const api = iamApi(() => t);
  let admin: string;
  let acme: string;
  let acmeAdmin: string;
  const attempt = (login: string, password: string) =>
    api.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { authorization: basic(login, password), 'content-type': 'application/json' },
      payload: {},
    });
  const list = async (token: string, recurse = false) => {
    const res = await api.as(token, 'GET', `/0.1/security/throttles${recurse ? '?recurse=true' : ''}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().items as Throttle[];
  };

  beforeAll(async () => {
    t = await startTestService(engine, {
      security: {
        ...DEFAULT_CONFIG.security,
        login_throttle: {
          ...DEFAULT_CONFIG.security.login_throttle,
          threshold: 2,
          base_delay_seconds: 600,
          max_delay_seconds: 600,
        },
      },
    });
    admin = await api.adminToken();
    acme = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'Acme' })).json().uuid;
    const policy = (
      await api.as(
        admin,
        'POST',
        '/0.1/policies',
        { name: 'throttle-admins', acl: ['auth.security.throttles.#'] },
        { 'wazo-tenant': acme },
      )
    ).json().uuid;
    const boss = await api.createUser(admin, 'acme-boss', 'acme-boss-password', acme);
    expect(
      (await api.as(admin, 'PUT', `/0.1/users/${boss}/policies/${policy}`, undefined, { 'wazo-tenant': acme })).statusCode,
    ).toBe(204);
    await api.createUser(admin, 'ann', 'ann-password-123', acme);
    acmeAdmin = await api.login('acme-boss', 'acme-boss-password');
    for (const login of ['ann', 'ghost']) {
      for (let i = 0; i < 2; i++) expect((await attempt(login, 'wrong-password')).statusCode).toBe(401);
      expect((await attempt(login, 'wrong-password')).statusCode).toBe(429);
    }
  });
  afterAll(async () => t?.close());

  it('lists the counters backing off: the top tenant sees all, a tenant its own', async () => {
    const all = await list(admin, true);
    // Without recurse, the top tenant lists its own and the untenanted (ghost: an unknown login); ann is Acme's.
    expect((await list(admin)).map((x) => x.login)).toEqual(['ghost']);
    const ann = all.find((x) => x.login === 'ann');
    expect(ann).toMatchObject({ kind: 'address', remote_addr: '127.0.0.1', tenant_uuid: acme, failures: 2 });
    expect(ann!.id).toMatch(/^p:[0-9a-f]{64}$/);
    expect(all.some((x) => x.login === 'ghost')).toBe(true);
    const own = await list(acmeAdmin);
    expect(own.map((x) => x.login)).toEqual(['ann']);
  });

  it("unlocks one counter in the caller's tenants, audited; others are 404", async () => {
    const ghost = (await list(admin, true)).find((x) => x.login === 'ghost')!;
    const ghostRes = await api.as(acmeAdmin, 'DELETE', `/0.1/security/throttles/${encodeURIComponent(ghost.id)}`);
    expect(ghostRes.statusCode).toBe(404);
    expect(ghostRes.json().error_id).toBe('unknown-throttle');
    expect((await api.as(admin, 'DELETE', '/0.1/security/throttles/p:0000')).statusCode).toBe(404);

    const ann = (await list(acmeAdmin))[0];
    expect((await attempt('ann', 'ann-password-123')).statusCode).toBe(429);
    expect((await api.as(acmeAdmin, 'DELETE', `/0.1/security/throttles/${encodeURIComponent(ann.id)}`)).statusCode).toBe(204);
    expect(await list(acmeAdmin)).toEqual([]);
    expect((await attempt('ann', 'ann-password-123')).statusCode).toBe(200);

    await t.service.security?.audit.flush();
    const audit = await api.as(admin, 'GET', '/0.1/audit?recurse=true&search=security.throttles');
    const entries = audit.json().items as Array<{ action: string; outcome: string; target_id: string }>;
    expect(entries.filter((e) => e.outcome === 'success').map((e) => [e.action, e.target_id])).toEqual([
      ['security.throttles.delete', ann.id],
    ]);
  });
});

describe('console.enabled', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('sqlite', { console: { enabled: false } });
  });
  afterAll(async () => t?.close());

  it('off: /console/ is not served', async () => {
    expect((await t.service.app.inject({ method: 'GET', url: '/console/' })).statusCode).toBe(404);
  });
});
