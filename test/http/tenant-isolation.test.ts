// Tenant isolation (issue 16, findings 1–3): a refresh token is its own
// user's, a group never confers a policy its editor could not grant, and a
// password change or a disable ends every refresh token taken before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AMQP_URI, type BusConsumer, startBusConsumer } from '../helpers/bus.js';
import { iamApi } from '../helpers/iam.js';
import { basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { until } from '../helpers/until.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

describe.each(ENGINES)('tenant isolation on %s', (engine) => {
  let t: TestService;
  let bus: BusConsumer;
  let admin: string;
  const api = iamApi(() => t);

  async function offline(
    username: string,
    password: string,
    clientId: string,
  ): Promise<{ token: string; refresh: string; uuid: string }> {
    const res = await api.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { ...JSON_HEADERS, authorization: basic(username, password) },
      payload: { access_type: 'offline', client_id: clientId },
    });
    expect(res.statusCode, res.body).toBe(200);
    const data = res.json().data;
    return { token: data.token, refresh: data.refresh_token, uuid: data.metadata.uuid };
  }

  function refresh(refreshToken: string, clientId: string) {
    return api.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: JSON_HEADERS,
      payload: { refresh_token: refreshToken, client_id: clientId },
    });
  }

  /** A tenant under the top one, with an administrator holding `acl` there. */
  async function tenantWithAdmin(name: string, acl: string[]): Promise<{ uuid: string; adminUuid: string; token: string }> {
    const tenant = (await api.as(admin, 'POST', '/0.1/tenants', { name })).json();
    const policy = (
      await api.as(admin, 'POST', '/0.1/policies', { name: `${name} admin`, acl }, { 'wazo-tenant': tenant.uuid })
    ).json();
    const adminUuid = await api.createUser(admin, `${name}-admin`, `${name}-admin-password`, tenant.uuid);
    expect(
      (await api.as(admin, 'PUT', `/0.1/users/${adminUuid}/policies/${policy.uuid}`, undefined, { 'wazo-tenant': tenant.uuid }))
        .statusCode,
    ).toBe(204);
    return { uuid: tenant.uuid, adminUuid, token: await api.login(`${name}-admin`, `${name}-admin-password`) };
  }

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
    });
    await t.service.listen();
    admin = await api.adminToken();
  });
  afterAll(async () => {
    await t?.close();
    await bus?.close();
  });

  describe('a refresh token resolves to its own user, never to whoever its login names today', () => {
    it('after a rename, refreshing gives the same user, not the one now holding the login', async () => {
      const a = await tenantWithAdmin('iso-a', ['auth.users.me.#']);
      const b = await tenantWithAdmin('iso-b', ['auth.#']);
      const alice = await api.createUser(admin, 'iso-alice', 'iso-alice-password', a.uuid);
      const first = await offline('iso-alice', 'iso-alice-password', 'softphone');
      expect(first.uuid).toBe(alice);

      // Alice's login string now belongs to tenant B's administrator.
      expect((await api.as(admin, 'PUT', `/0.1/users/${alice}`, { username: 'iso-alice-renamed' })).statusCode).toBe(200);
      expect((await api.as(admin, 'PUT', `/0.1/users/${b.adminUuid}`, { username: 'iso-alice' })).statusCode).toBe(200);

      const res = await refresh(first.refresh, 'softphone');
      expect(res.statusCode, res.body).toBe(200);
      const data = res.json().data;
      expect(data.metadata.uuid).toBe(alice);
      expect(data.metadata.tenant_uuid).toBe(a.uuid);
      expect(data.acl).not.toContain('auth.#');
      const check = await api.inject({ method: 'HEAD', url: `/0.1/token/${data.token}?scope=auth.tenants.read` });
      expect(check.statusCode).toBe(403);
    });

    it('a refresh token of a deleted user is refused (401), even when its login is taken again', async () => {
      const gone = await api.createUser(admin, 'iso-gone', 'iso-gone-password');
      const first = await offline('iso-gone', 'iso-gone-password', 'app');
      expect((await api.as(admin, 'DELETE', `/0.1/users/${gone}`)).statusCode).toBe(204);
      await api.createUser(admin, 'iso-gone', 'another-password-here');
      expect((await refresh(first.refresh, 'app')).statusCode).toBe(401);
    });
  });

  describe('no escalation through a group policy the caller cannot see', () => {
    let tenant: { uuid: string; adminUuid: string; token: string };
    let shared: { uuid: string };
    let group: { uuid: string };

    beforeAll(async () => {
      tenant = await tenantWithAdmin('iso-c', ['auth.#']);
      shared = (await api.as(admin, 'POST', '/0.1/policies', { name: 'iso confd', acl: ['confd.#'], shared: true })).json();
      group = (await api.as(admin, 'POST', '/0.1/groups', { name: 'iso operators' }, { 'wazo-tenant': tenant.uuid })).json();
      const linked = await api.as(admin, 'PUT', `/0.1/groups/${group.uuid}/policies/${shared.uuid}`, undefined, {
        'wazo-tenant': tenant.uuid,
      });
      expect(linked.statusCode, linked.body).toBe(204);
    });

    it('unsharing a policy still linked below is refused (409), naming the links; nothing changes', async () => {
      const res = await api.as(admin, 'PUT', `/0.1/policies/${shared.uuid}`, {
        name: 'iso confd',
        acl: ['confd.#'],
        shared: false,
      });
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json().details.shared.groups).toEqual([{ uuid: group.uuid, tenant_uuid: tenant.uuid }]);
      expect((await api.as(admin, 'GET', `/0.1/policies/${shared.uuid}`)).json().shared).toBe(true);
    });

    it('adding a user to a group weighs every policy it grants, visible to the caller or not', async () => {
      // A link stored before the rule existed (an older release, an import).
      await t.service.store.updatePolicy(shared.uuid, { shared: false });
      const bob = await api.createUser(tenant.token, 'iso-bob', 'iso-bob-password');
      const res = await api.as(tenant.token, 'PUT', `/0.1/groups/${group.uuid}/users/${bob}`);
      expect(res.statusCode, res.body).toBe(401);
      expect(res.json().details.required_access).toBe('confd.#');
      const members = (
        await api.as(admin, 'GET', `/0.1/groups/${group.uuid}/users`, undefined, { 'wazo-tenant': tenant.uuid })
      ).json();
      expect(members.items.map((u: { uuid: string }) => u.uuid)).not.toContain(bob);
      const token = await api.login('iso-bob', 'iso-bob-password');
      expect((await api.inject({ method: 'HEAD', url: `/0.1/token/${token}?scope=confd.users.read` })).statusCode).toBe(403);
    });

    it('once unlinked below, the policy can be unshared', async () => {
      await t.service.store.updatePolicy(shared.uuid, { shared: true });
      expect(
        (
          await api.as(admin, 'DELETE', `/0.1/groups/${group.uuid}/policies/${shared.uuid}`, undefined, {
            'wazo-tenant': tenant.uuid,
          })
        ).statusCode,
      ).toBe(204);
      const res = await api.as(admin, 'PUT', `/0.1/policies/${shared.uuid}`, {
        name: 'iso confd',
        acl: ['confd.#'],
        shared: false,
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().shared).toBe(false);
    });
  });

  describe("a password change and a disable end the user's refresh tokens", () => {
    it('password change: the refresh token taken before is refused, with its event and audit record', async () => {
      const kim = await api.createUser(admin, 'iso-kim', 'iso-kim-password');
      const first = await offline('iso-kim', 'iso-kim-password', 'kim-app');
      const changed = await api.as(admin, 'PUT', `/0.1/users/${kim}/password`, {
        old_password: 'iso-kim-password',
        new_password: 'iso-kim-password-2',
      });
      expect(changed.statusCode, changed.body).toBe(204);
      expect((await refresh(first.refresh, 'kim-app')).statusCode).toBe(401);
      expect((await api.as(admin, 'GET', `/0.1/users/${kim}/tokens`)).json().items).toEqual([]);
      await until(
        () =>
          bus.messages.some(
            (m) => m.headers.name === 'auth_refresh_token_deleted' && (m.body.data as { user_uuid: string }).user_uuid === kim,
          ),
        'refresh token deleted event',
      );
      await t.service.security.audit.flush();
      const audit = (await api.as(admin, 'GET', '/0.1/audit?limit=100')).json().items as {
        action: string;
        target_id: string;
        details: Record<string, unknown>;
      }[];
      expect(audit.find((r) => r.action === 'users.refresh_tokens.revoke' && r.target_id === kim)?.details).toEqual({
        reason: 'password_changed',
        client_ids: ['kim-app'],
      });
      // The new password works, offline too.
      await offline('iso-kim', 'iso-kim-password-2', 'kim-app');
    });

    it('disable then enable: the refresh token taken before the disable stays refused', async () => {
      const lou = await api.createUser(admin, 'iso-lou', 'iso-lou-password');
      const first = await offline('iso-lou', 'iso-lou-password', 'lou-app');
      expect((await api.as(admin, 'PUT', `/0.1/users/${lou}`, { username: 'iso-lou', enabled: false })).statusCode).toBe(200);
      expect((await api.as(admin, 'PUT', `/0.1/users/${lou}`, { username: 'iso-lou', enabled: true })).statusCode).toBe(200);
      expect((await refresh(first.refresh, 'lou-app')).statusCode).toBe(401);
      expect((await api.as(admin, 'GET', `/0.1/users/${lou}/tokens`)).json().items).toEqual([]);
    });
  });
});
