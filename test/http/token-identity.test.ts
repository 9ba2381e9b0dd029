// Issue 18, over real HTTP on both engines:
//  - the token's PBX identity: metadata.pbx_user_uuid and xivo_user_uuid are
//    the user's uuid for purpose `user`, null for `internal` / `external_api`
//    (daemons such as wazo-call-logd refuse a user token without it);
//  - an empty `scope=` is a literal required access '' (wazo-auth), granted
//    only by a pattern matching the empty string (`#`, `*`), on the Fastify
//    route, the HEAD fast path and POST /token/{t}/scopes/check alike.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iamApi } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';

describe.each(ENGINES)('token identity and empty scopes on %s', (engine) => {
  let t: TestService;
  let base: string;
  const api = iamApi(() => t);
  let admin: string;

  const login = (username: string, password: string, body: Record<string, unknown> = {}) =>
    api.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
      },
      payload: body,
    });

  async function userWith(username: string, purpose: string, acl: string[] = []): Promise<string> {
    const res = await api.as(admin, 'POST', '/0.1/users', { username, password: `${username}-password`, purpose });
    expect(res.statusCode, res.body).toBe(200);
    const uuid = res.json().uuid as string;
    if (acl.length > 0) {
      const policy = await api.as(admin, 'POST', '/0.1/policies', { name: `${username} policy`, acl });
      expect(policy.statusCode, policy.body).toBe(200);
      expect((await api.as(admin, 'PUT', `/0.1/users/${uuid}/policies/${policy.json().uuid}`)).statusCode).toBe(204);
    }
    return uuid;
  }

  beforeAll(async () => {
    t = await startTestService(engine);
    base = await t.service.listen();
    admin = await api.adminToken();
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('pbx_user_uuid / xivo_user_uuid', () => {
    it('is the user uuid for purpose user, in POST and GET, and in tokens from its refresh token', async () => {
      const uuid = await userWith('pbx-user', 'user');
      const res = await login('pbx-user', 'pbx-user-password', { access_type: 'offline', client_id: 'softphone' });
      expect(res.statusCode, res.body).toBe(200);
      const data = res.json().data;
      expect(data.xivo_user_uuid).toBe(uuid);
      expect(data.metadata).toMatchObject({ uuid, pbx_user_uuid: uuid, purpose: 'user' });
      expect(data).not.toHaveProperty('pbx_user_uuid');

      const got = (await api.inject({ method: 'GET', url: `/0.1/token/${data.token}` })).json().data;
      expect(got.xivo_user_uuid).toBe(uuid);
      expect(got.metadata.pbx_user_uuid).toBe(uuid);

      const refreshed = await api.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { 'content-type': 'application/json' },
        payload: { refresh_token: data.refresh_token, client_id: 'softphone' },
      });
      expect(refreshed.statusCode, refreshed.body).toBe(200);
      expect(refreshed.json().data.xivo_user_uuid).toBe(uuid);
      expect(refreshed.json().data.metadata.pbx_user_uuid).toBe(uuid);
    });

    it.each(['internal', 'external_api'])('is null for purpose %s', async (purpose) => {
      const uuid = await userWith(`pbx-${purpose}`, purpose);
      const data = (await login(`pbx-${purpose}`, `pbx-${purpose}-password`)).json().data;
      expect(data.metadata).toMatchObject({ uuid, purpose, pbx_user_uuid: null });
      expect(data.xivo_user_uuid).toBeNull();
      expect((await api.inject({ method: 'GET', url: `/0.1/token/${data.token}` })).json().data.xivo_user_uuid).toBeNull();
    });

    it('is null for the bootstrap administrator (purpose internal)', async () => {
      const data = (await api.inject({ method: 'GET', url: `/0.1/token/${admin}` })).json().data;
      expect(data.metadata.purpose).toBe('internal');
      expect(data.xivo_user_uuid).toBeNull();
      expect(data.metadata.pbx_user_uuid).toBeNull();
    });
  });

  describe("empty scope ('')", () => {
    let plain: string;
    let hashed: string;
    let starred: string;
    beforeAll(async () => {
      await userWith('scope-plain', 'user', ['confd.users.me.read', 'auth.#']);
      await userWith('scope-hash', 'user', ['#']);
      await userWith('scope-star', 'user', ['*']);
      plain = await api.login('scope-plain', 'scope-plain-password');
      hashed = await api.login('scope-hash', 'scope-hash-password');
      starred = await api.login('scope-star', 'scope-star-password');
    });

    const overSocket = async (path: string) => (await fetch(`${base}${path}`, { method: 'HEAD' })).status;

    it('HEAD and GET answer 403 without a pattern matching the empty string (fast path and route alike)', async () => {
      for (const path of [`/0.1/token/${plain}?scope=`, `/0.1/token/${plain}?scope=&tenant=`]) {
        expect((await api.inject({ method: 'HEAD', url: path })).statusCode, path).toBe(403);
        expect(await overSocket(path), path).toBe(403);
      }
      const get = await api.inject({ method: 'GET', url: `/0.1/token/${plain}?scope=` });
      expect(get.statusCode).toBe(403);
      expect(get.json().reason).toEqual(['Unauthorized for ']);
      // No scope at all is still "nothing required".
      expect((await api.inject({ method: 'HEAD', url: `/0.1/token/${plain}` })).statusCode).toBe(204);
      expect(await overSocket(`/0.1/token/${plain}`)).toBe(204);
    });

    it('`#` and `*` grant it', async () => {
      for (const token of [hashed, starred]) {
        expect((await api.inject({ method: 'HEAD', url: `/0.1/token/${token}?scope=` })).statusCode).toBe(204);
        expect(await overSocket(`/0.1/token/${token}?scope=`)).toBe(204);
        expect((await api.inject({ method: 'GET', url: `/0.1/token/${token}?scope=` })).statusCode).toBe(200);
      }
    });

    it('scopes/check answers "" → false unless granted', async () => {
      const check = (token: string) =>
        api.inject({
          method: 'POST',
          url: `/0.1/token/${token}/scopes/check`,
          headers: { 'content-type': 'application/json' },
          payload: { scopes: ['', 'confd.users.me.read'] },
        });
      expect((await check(plain)).json()).toEqual({ scopes: { '': false, 'confd.users.me.read': true } });
      expect((await check(hashed)).json()).toEqual({ scopes: { '': true, 'confd.users.me.read': true } });
    });
  });
});
