// The sessions API (API.md §4): lists, deletion revoking tokens, tenant
// scoping (invisible sessions survive a 204), on both engines.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../helpers/until.js';
import { createService, type Service } from '../../src/main.js';
import { iamApi, UNKNOWN_UUID } from '../helpers/iam.js';
import { createTestDatabase } from '../helpers/pg.js';
import { ENGINES, startTestService, testConfig, type TestService } from '../helpers/service.js';

describe.each(ENGINES)('sessions API on %s', (engine) => {
  let t: TestService;
  let admin: string;
  const api = iamApi(() => t);

  beforeAll(async () => {
    t = await startTestService(engine);
    admin = await api.adminToken();
  });

  const sessionOf = async (token: string) =>
    (await api.as(null, 'GET', `/0.1/token/${token}`)).json().data.session_uuid as string;

  it('refuses calls without a token or without the access', async () => {
    expect((await api.as(null, 'GET', '/0.1/sessions')).json().details.required_access).toBe('auth.sessions.read');
    await api.createUser(admin, 'session-nobody', 'nobody-password');
    const nobody = await api.login('session-nobody', 'nobody-password');
    const s = UNKNOWN_UUID;
    for (const [method, url, access] of [
      ['GET', '/0.1/sessions', 'auth.sessions.read'],
      ['DELETE', `/0.1/sessions/${s}`, `auth.sessions.${s}.delete`],
      ['GET', `/0.1/users/${s}/sessions`, `auth.users.${s}.sessions.read`],
      ['DELETE', `/0.1/users/${s}/sessions/${s}`, `auth.users.${s}.sessions.${s}.delete`],
    ]) {
      const res = await api.as(nobody, method, url);
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json().details.required_access).toBe(access);
    }
  });

  it("lists sessions, a user's sessions, and deletes one revoking its token at once", async () => {
    const userUuid = await api.createUser(admin, 'session-user', 'session-password');
    const first = await api.login('session-user', 'session-password');
    const mobile = await api.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: {
        'content-type': 'application/json',
        'wazo-session-type': 'mobile',
        authorization: `Basic ${Buffer.from('session-user:session-password').toString('base64')}`,
      },
      payload: {},
    });
    const second = mobile.json().data.token;
    const s1 = await sessionOf(first);
    const s2 = await sessionOf(second);

    const all = (await api.as(admin, 'GET', '/0.1/sessions?limit=100')).json();
    expect(all.items).toEqual(
      expect.arrayContaining([
        { uuid: s1, mobile: false, tenant_uuid: expect.any(String), user_uuid: userUuid },
        { uuid: s2, mobile: true, tenant_uuid: expect.any(String), user_uuid: userUuid },
      ]),
    );
    const mine = (await api.as(admin, 'GET', `/0.1/users/${userUuid}/sessions?order=mobile&direction=desc`)).json();
    expect(mine).toMatchObject({ total: 2, filtered: 2 });
    expect(mine.items.map((s: { uuid: string }) => s.uuid)).toEqual([s2, s1]);
    expect((await api.as(admin, 'GET', '/0.1/sessions?order=token')).json().error_id).toBe('invalid-list-param');

    // Cached first, so the deletion must reach the cache too.
    expect((await api.as(null, 'HEAD', `/0.1/token/${first}`)).statusCode).toBe(204);
    expect((await api.as(admin, 'DELETE', `/0.1/sessions/${s1}`)).statusCode).toBe(204);
    expect((await api.as(null, 'HEAD', `/0.1/token/${first}`)).statusCode).toBe(404);
    expect((await api.as(null, 'HEAD', `/0.1/token/${second}`)).statusCode).toBe(204);

    expect((await api.as(admin, 'DELETE', `/0.1/users/${userUuid}/sessions/${s2}`)).statusCode).toBe(204);
    expect((await api.as(null, 'HEAD', `/0.1/token/${second}`)).statusCode).toBe(404);
    expect((await api.as(admin, 'GET', `/0.1/users/${userUuid}/sessions`)).json().total).toBe(0);

    // Unknown sessions: 204 (idempotent); unknown user: 404.
    expect((await api.as(admin, 'DELETE', `/0.1/sessions/${UNKNOWN_UUID}`)).statusCode).toBe(204);
    expect((await api.as(admin, 'DELETE', '/0.1/sessions/not-a-uuid')).statusCode).toBe(204);
    const unknownUser = await api.as(admin, 'GET', `/0.1/users/${UNKNOWN_UUID}/sessions`);
    expect(unknownUser.statusCode).toBe(404);
    expect(unknownUser.json().error_id).toBe('unknown-user');
  });

  it("hides sessions outside the caller's tenants: 204 on delete, and they survive", async () => {
    const a = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'session a' })).json();
    const b = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'session b' })).json();
    const policy = (
      await api.as(
        admin,
        'POST',
        '/0.1/policies',
        { name: 'session admin', acl: ['auth.sessions.#', 'auth.users.#'] },
        { 'wazo-tenant': a.uuid },
      )
    ).json();
    const aAdmin = await api.createUser(admin, 'session-a-admin', 'a-password', a.uuid);
    await api.as(admin, 'PUT', `/0.1/users/${aAdmin}/policies/${policy.uuid}`, undefined, { 'wazo-tenant': a.uuid });
    const aToken = await api.login('session-a-admin', 'a-password');
    const bUser = await api.createUser(admin, 'session-b-user', 'b-password', b.uuid);
    const bToken = await api.login('session-b-user', 'b-password');
    const bSession = await sessionOf(bToken);

    const seen = (await api.as(aToken, 'GET', '/0.1/sessions')).json();
    expect(seen.items.map((s: { uuid: string }) => s.uuid)).not.toContain(bSession);
    expect(seen.items.every((s: { tenant_uuid: string }) => s.tenant_uuid === a.uuid)).toBe(true);
    expect((await api.as(aToken, 'DELETE', `/0.1/sessions/${bSession}`)).statusCode).toBe(204);
    expect((await api.as(null, 'HEAD', `/0.1/token/${bToken}`)).statusCode).toBe(204);
    expect((await api.as(aToken, 'DELETE', `/0.1/users/${bUser}/sessions/${bSession}`)).statusCode).toBe(404);
    expect((await api.as(aToken, 'GET', '/0.1/sessions', undefined, { 'wazo-tenant': b.uuid })).json().error_id).toBe(
      'unauthorized-tenant',
    );
    expect((await api.as(null, 'HEAD', `/0.1/token/${bToken}`)).statusCode).toBe(204);

    // The master admin sees it with recurse, and a user-path delete of another user's session is a no-op.
    const deep = (await api.as(admin, 'GET', '/0.1/sessions?recurse=true&limit=1000')).json();
    expect(deep.items.map((s: { uuid: string }) => s.uuid)).toContain(bSession);
    expect((await api.as(admin, 'DELETE', `/0.1/users/${aAdmin}/sessions/${bSession}`)).statusCode).toBe(204);
    expect((await api.as(null, 'HEAD', `/0.1/token/${bToken}`)).statusCode).toBe(204);
  });
});

describe('session and tenant deletion across two instances on PostgreSQL', () => {
  let db: { uri: string; drop(): Promise<void> };
  let a: Service;
  let b: Service;

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = testConfig(db.uri);
    a = await createService(config, pino({ level: 'silent' }));
    b = await createService(config, pino({ level: 'silent' }));
    await Promise.all([a.app.ready(), b.app.ready()]);
    await until(async () => a.cache.isActive && b.cache.isActive, 'both caches on', 10_000);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('B forgets the tokens of a session or a tenant deleted on A', async () => {
    const onA = iamApi(() => ({ service: a }) as TestService);
    const onB = iamApi(() => ({ service: b }) as TestService);
    const admin = await onA.adminToken();
    const tenant = (await onA.as(admin, 'POST', '/0.1/tenants', { name: 'two instances' })).json();
    await onA.createUser(admin, 'twin', 'twin-password', tenant.uuid);
    const first = await onA.login('twin', 'twin-password');
    const second = await onA.login('twin', 'twin-password');
    for (const token of [first, second]) {
      expect((await onB.as(null, 'HEAD', `/0.1/token/${token}`)).statusCode).toBe(204);
      expect((await onB.as(null, 'HEAD', `/0.1/token/${token}`)).statusCode).toBe(204); // cached on B
    }
    const session = (await onA.as(null, 'GET', `/0.1/token/${first}`)).json().data.session_uuid;
    expect((await onA.as(admin, 'DELETE', `/0.1/sessions/${session}`)).statusCode).toBe(204);
    await until(
      async () => (await onB.as(null, 'HEAD', `/0.1/token/${first}`)).statusCode === 404,
      "B to forget the session's token",
      2000,
    );
    expect((await onB.as(null, 'HEAD', `/0.1/token/${second}`)).statusCode).toBe(204);
    expect((await onA.as(admin, 'DELETE', `/0.1/tenants/${tenant.uuid}`)).statusCode).toBe(204);
    await until(
      async () => (await onB.as(null, 'HEAD', `/0.1/token/${second}`)).statusCode === 404,
      "B to forget the tenant's tokens",
      2000,
    );
  });
});
