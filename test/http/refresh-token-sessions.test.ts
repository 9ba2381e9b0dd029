// Issue 18, over real HTTP on both engines, with the real RabbitMQ:
//  - refresh-token listings (GET /tokens, /users/{u}/tokens, /users/me/tokens):
//    items {client_id, created_at, mobile, user_uuid, tenant_uuid, metadata};
//    search, client_id and mobile filters; recurse on /tokens;
//  - mobile sessions (wazo-auth 26.04): an offline login with
//    `Wazo-Session-Type: mobile` revokes the user's other mobile refresh
//    tokens with their sessions (events through the outbox, in the login's
//    transaction), and `Wazo-Sessions-Revoked` says how many sessions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AMQP_URI, type BusConsumer, type BusMessage, startBusConsumer } from '../helpers/bus.js';
import { iamApi } from '../helpers/iam.js';
import { basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { until } from '../helpers/until.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

interface Issued {
  token: string;
  session_uuid: string;
  refresh_token?: string;
  metadata: { uuid: string; tenant_uuid: string };
}

describe.each(ENGINES)('refresh tokens and mobile sessions on %s', (engine) => {
  let t: TestService;
  let bus: BusConsumer;
  const api = iamApi(() => t);
  let admin: string;

  async function login(username: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    const res = await api.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { ...JSON_HEADERS, authorization: basic(username, `${username}-password`), ...headers },
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(200);
    return { data: res.json().data as Issued, revoked: res.headers['wazo-sessions-revoked'] };
  }
  const offline = (username: string, clientId: string, mobile: boolean) =>
    login(username, { access_type: 'offline', client_id: clientId }, mobile ? { 'wazo-session-type': 'Mobile' } : {});
  async function refresh(refreshToken: string, clientId: string, headers: Record<string, string> = {}) {
    return api.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { ...JSON_HEADERS, ...headers },
      payload: { refresh_token: refreshToken, client_id: clientId },
    });
  }
  const live = async (token: string) => (await api.inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode === 204;
  const clientIds = async (token: string) =>
    ((await api.as(token, 'GET', '/0.1/users/me/tokens')).json().items as { client_id: string }[]).map((i) => i.client_id).sort();
  const named = (name: string, pred: (data: Record<string, unknown>) => boolean) =>
    bus.messages.filter((m) => m.headers.name === name && pred(m.body.data as Record<string, unknown>));

  beforeAll(async () => {
    bus = await startBusConsumer();
    t = await startTestService(engine, {
      amqp: {
        enabled: true,
        uri: AMQP_URI,
        exchange_name: bus.exchange,
        poll_interval_ms: 50,
        retry_min_ms: 50,
        retry_max_ms: 200,
      },
      default_policies: { own_tokens: { acl: ['auth.users.me.tokens.#'] } },
      default_user_policy: 'own_tokens',
    });
    await t.service.listen(); // starts the outbox relay
    admin = await api.adminToken();
  });
  afterAll(async () => {
    await t?.close();
    await bus?.close();
  });

  describe('listing', () => {
    let userUuid: string;
    let tenantUuid: string;
    let subUser: string;
    let myToken: string;

    beforeAll(async () => {
      userUuid = await api.createUser(admin, 'lister', 'lister-password');
      await offline('lister', 'app.desktop', false);
      await offline('lister', 'app.desktop2', false);
      const phone = await offline('lister', 'app.phone', true);
      myToken = phone.data.token;
      tenantUuid = phone.data.metadata.tenant_uuid;
      const sub = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'Listing sub' })).json().uuid as string;
      subUser = await api.createUser(admin, 'sublister', 'sublister-password', sub);
      await offline('sublister', 'sub.app', true);
    });

    it('answers items {client_id, created_at, mobile, user_uuid, tenant_uuid, metadata}', async () => {
      const res = await api.as(admin, 'GET', `/0.1/users/${userUuid}/tokens?order=client_id`);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ total: 3, filtered: 3 });
      expect(body.items[0]).toEqual({
        client_id: 'app.desktop',
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/),
        mobile: false,
        user_uuid: userUuid,
        tenant_uuid: tenantUuid,
        metadata: {},
      });
      expect(Date.parse(body.items[0].created_at)).toBeGreaterThan(Date.now() - 3_600_000);
      expect(body.items.map((i: { client_id: string; mobile: boolean }) => [i.client_id, i.mobile])).toEqual([
        ['app.desktop', false],
        ['app.desktop2', false],
        ['app.phone', true],
      ]);
      // /users/me/tokens is the same list.
      expect((await api.as(myToken, 'GET', '/0.1/users/me/tokens?order=client_id')).json()).toEqual(body);
    });

    it('filters by search (substring of client_id), client_id (exact) and mobile; total stays the scope', async () => {
      const list = async (query: string) => {
        const res = await api.as(admin, 'GET', `/0.1/users/${userUuid}/tokens?order=client_id&${query}`);
        expect(res.statusCode, `${query}: ${res.body}`).toBe(200);
        const b = res.json();
        return { total: b.total, filtered: b.filtered, ids: b.items.map((i: { client_id: string }) => i.client_id) };
      };
      expect(await list('search=DESK')).toEqual({ total: 3, filtered: 2, ids: ['app.desktop', 'app.desktop2'] });
      expect(await list('client_id=app.desktop')).toEqual({ total: 3, filtered: 1, ids: ['app.desktop'] });
      expect(await list('client_id=app.desk')).toEqual({ total: 3, filtered: 0, ids: [] });
      expect(await list('mobile=true')).toEqual({ total: 3, filtered: 1, ids: ['app.phone'] });
      expect(await list('mobile=false')).toEqual({ total: 3, filtered: 2, ids: ['app.desktop', 'app.desktop2'] });
      expect(await list('mobile=false&search=2')).toEqual({ total: 3, filtered: 1, ids: ['app.desktop2'] });
      expect(await list('mobile=false&limit=1&offset=1&direction=desc')).toEqual({ total: 3, filtered: 2, ids: ['app.desktop'] });
    });

    it('GET /tokens: the acting tenant, and with recurse its sub-tenants too', async () => {
      const ids = async (query: string) =>
        ((await api.as(admin, 'GET', `/0.1/tokens?${query}`)).json().items as { client_id: string; user_uuid: string }[])
          .filter((i) => i.user_uuid === userUuid || i.user_uuid === subUser)
          .map((i) => i.client_id)
          .sort();
      expect(await ids('')).toEqual(['app.desktop', 'app.desktop2', 'app.phone']);
      expect(await ids('recurse=false')).toEqual(['app.desktop', 'app.desktop2', 'app.phone']);
      expect(await ids('recurse=true')).toEqual(['app.desktop', 'app.desktop2', 'app.phone', 'sub.app']);
      expect(await ids('recurse=true&mobile=true')).toEqual(['app.phone', 'sub.app']);
      expect(await ids('recurse=true&client_id=sub.app')).toEqual(['sub.app']);
    });

    it('answers 400 invalid-list-param for bad parameters', async () => {
      for (const query of ['order=user_uuid', 'mobile=maybe', 'limit=-1', 'direction=up', 'recurse=perhaps']) {
        const res = await api.as(admin, 'GET', `/0.1/tokens?${query}`);
        expect(res.statusCode, query).toBe(400);
        expect(res.json().error_id, query).toBe('invalid-list-param');
      }
    });
  });

  describe('mobile sessions', () => {
    it('a mobile offline login revokes the other mobile refresh tokens and their sessions, and counts them', async () => {
      const uuid = await api.createUser(admin, 'mobi', 'mobi-password');
      await api.createUser(admin, 'other', 'other-password');
      const desktop = await offline('mobi', 'desktop', false);
      const phoneA = await offline('mobi', 'phone-a', true);
      expect(phoneA.revoked).toBe('0');
      // A second session of phone-a's refresh token.
      const fromA = await refresh(phoneA.data.refresh_token!, 'phone-a', { 'wazo-session-type': 'mobile' });
      expect(fromA.statusCode, fromA.body).toBe(200);
      expect(fromA.headers['wazo-sessions-revoked']).toBe('0');
      const online = await login('mobi', {}, { 'wazo-session-type': 'mobile' });
      expect(online.revoked).toBe('0');
      const othersPhone = await offline('other', 'phone-a', true);
      // Checked once, so the records are in the token cache.
      expect(await live(phoneA.data.token)).toBe(true);
      expect(await live(fromA.json().data.token)).toBe(true);

      const phoneB = await offline('mobi', 'phone-b', true);
      expect(phoneB.revoked).toBe('2');
      // phone-a: its refresh token and both its sessions are gone, on the store and in the cache.
      expect(await live(phoneA.data.token)).toBe(false);
      expect(await live(fromA.json().data.token)).toBe(false);
      expect((await refresh(phoneA.data.refresh_token!, 'phone-a')).statusCode).toBe(401);
      // Untouched: non-mobile refresh tokens and their sessions, mobile sessions
      // without a refresh token, the new login, other users.
      expect(await live(desktop.data.token)).toBe(true);
      expect((await refresh(desktop.data.refresh_token!, 'desktop')).statusCode).toBe(200);
      expect(await live(online.data.token)).toBe(true);
      expect(await live(phoneB.data.token)).toBe(true);
      expect(await live(othersPhone.data.token)).toBe(true);
      expect((await refresh(othersPhone.data.refresh_token!, 'phone-a')).statusCode).toBe(200);
      expect(await clientIds(phoneB.data.token)).toEqual(['desktop', 'phone-b']);

      // Events: each revoked session, then the refresh token, then the new login's.
      const sessionsGone = [phoneA.data.session_uuid, fromA.json().data.session_uuid];
      await until(() => named('auth_refresh_token_created', (d) => d.client_id === 'phone-b').length === 1, 'phone-b created');
      const deletedSessions = named('auth_session_deleted', (d) => sessionsGone.includes(d.uuid as string));
      expect(deletedSessions.map((m) => (m.body.data as { uuid: string }).uuid).sort()).toEqual([...sessionsGone].sort());
      for (const m of deletedSessions) expect(m.body.data).toMatchObject({ user_uuid: uuid });
      const rtDeleted = named('auth_refresh_token_deleted', (d) => d.client_id === 'phone-a' && d.user_uuid === uuid);
      expect(rtDeleted).toHaveLength(1);
      expect(rtDeleted[0].body.data).toEqual({
        client_id: 'phone-a',
        mobile: true,
        user_uuid: uuid,
        tenant_uuid: phoneA.data.metadata.tenant_uuid,
      });
      const order = (m: BusMessage) => bus.messages.indexOf(m);
      const created = named('auth_refresh_token_created', (d) => d.client_id === 'phone-b')[0];
      for (const m of deletedSessions) expect(order(m)).toBeLessThan(order(rtDeleted[0]));
      expect(order(rtDeleted[0])).toBeLessThan(order(created));
      expect(
        named('auth_session_deleted', (d) => d.uuid === desktop.data.session_uuid || d.uuid === online.data.session_uuid),
      ).toEqual([]);
      expect(named('auth_refresh_token_deleted', (d) => d.client_id === 'desktop' || d.user_uuid !== uuid)).toEqual([]);
    });

    it('a mobile relogin with the same client_id supersedes it too; non-mobile logins revoke nothing', async () => {
      await api.createUser(admin, 'relog', 'relog-password');
      const first = await offline('relog', 'phone', true);
      const second = await offline('relog', 'phone', true);
      expect(second.revoked).toBe('1');
      expect(await live(first.data.token)).toBe(false);
      expect((await refresh(first.data.refresh_token!, 'phone')).statusCode).toBe(401);
      expect(await live(second.data.token)).toBe(true);
      expect((await refresh(second.data.refresh_token!, 'phone')).statusCode).toBe(200);

      const desktop = await offline('relog', 'desktop', false);
      expect(desktop.revoked).toBe('0');
      expect((await login('relog')).revoked).toBe('0');
      expect(await live(second.data.token)).toBe(true);
      expect(await clientIds(second.data.token)).toEqual(['desktop', 'phone']);
      // A refresh-token login, even mobile, supersedes nothing.
      const again = await refresh(second.data.refresh_token!, 'phone', { 'wazo-session-type': 'mobile' });
      expect(again.headers['wazo-sessions-revoked']).toBe('0');
      expect(await live(second.data.token)).toBe(true);
    });

    it('the supersession commits with the login: rolled back, nothing is revoked and no event is written', async () => {
      const uuid = await api.createUser(admin, 'rollback', 'rollback-password');
      const phone = await offline('rollback', 'phone-r', true);
      await expect(
        t.service.store.transaction(async (tx) => {
          const removal = await tx.deleteMobileRefreshTokens(uuid);
          expect(removal.refreshTokens.map((rt) => rt.clientId)).toEqual(['phone-r']);
          expect(removal.sessions.map((s) => s.uuid)).toEqual([phone.data.session_uuid]);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(await live(phone.data.token)).toBe(true);
      expect((await refresh(phone.data.refresh_token!, 'phone-r')).statusCode).toBe(200);
      // Events leave in commit order: once this later login's is out, a
      // committed deletion would have been too.
      const marker = await login('rollback');
      await until(() => named('auth_session_created', (d) => d.uuid === marker.data.session_uuid).length === 1, 'marker event');
      expect(named('auth_refresh_token_deleted', (d) => d.user_uuid === uuid)).toEqual([]);
      expect(named('auth_session_deleted', (d) => d.uuid === phone.data.session_uuid)).toEqual([]);
    });
  });
});
