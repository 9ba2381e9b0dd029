// Issue 16, finding 8: RFC 7662 introspection by a caller of a tenant reveals
// only the tokens of that tenant's subtree; any other token is answered
// exactly as an unknown one ({"active": false}). The top tenant's
// administrator sees every token.
import { beforeAll, describe, expect, it } from 'vitest';
import { iamApi } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';

const FORM = 'application/x-www-form-urlencoded';

describe.each(ENGINES)("introspection within the caller's tenant subtree on %s", (engine) => {
  let t: TestService;
  const api = iamApi(() => t);
  let admin: string;
  let tenantA: string;
  let tenantA1: string;
  let tenantB: string;
  let introspectorA: string;
  let userA: string;
  let userA1: string;
  let userB: string;
  let introspectorB: string;

  const introspect = (bearer: string, token: string) =>
    api.inject({
      method: 'POST',
      url: '/0.1/oauth2/introspect',
      headers: { 'content-type': FORM, authorization: `Bearer ${bearer}` },
      payload: new URLSearchParams({ token }).toString(),
    });
  const activeFor = async (bearer: string, token: string) => {
    const res = await introspect(bearer, token);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { active: boolean; tenant_uuid?: string };
  };

  async function tenant(name: string, parent?: string): Promise<string> {
    const res = await api.as(admin, 'POST', '/0.1/tenants', { name, ...(parent ? { parent_uuid: parent } : {}) });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().uuid as string;
  }

  /** A user of `tenantUuid` holding auth.tokens.introspect; its token. */
  async function introspector(username: string, tenantUuid: string): Promise<string> {
    const policy = await api.as(
      admin,
      'POST',
      '/0.1/policies',
      { name: `${username} introspect`, acl: ['auth.tokens.introspect'] },
      { 'wazo-tenant': tenantUuid },
    );
    expect(policy.statusCode, policy.body).toBe(200);
    const uuid = await api.createUser(admin, username, `${username}-password`, tenantUuid);
    const linked = await api.as(admin, 'PUT', `/0.1/users/${uuid}/policies/${policy.json().uuid}`, undefined, {
      'wazo-tenant': tenantUuid,
    });
    expect(linked.statusCode, linked.body).toBe(204);
    return api.login(username, `${username}-password`);
  }

  async function userToken(username: string, tenantUuid: string): Promise<string> {
    await api.createUser(admin, username, `${username}-password`, tenantUuid);
    return api.login(username, `${username}-password`);
  }

  beforeAll(async () => {
    t = await startTestService(engine);
    admin = await api.adminToken();
    tenantA = await tenant('tenant a');
    tenantA1 = await tenant('tenant a1', tenantA);
    tenantB = await tenant('tenant b');
    introspectorA = await introspector('introspector-a', tenantA);
    introspectorB = await introspector('introspector-b', tenantB);
    userA = await userToken('user-a', tenantA);
    userA1 = await userToken('user-a1', tenantA1);
    userB = await userToken('user-b', tenantB);
  });

  it("a tenant's introspector sees its own tenant and its sub-tenants' tokens", async () => {
    expect(await activeFor(introspectorA, userA)).toMatchObject({ active: true, tenant_uuid: tenantA });
    expect(await activeFor(introspectorA, userA1)).toMatchObject({ active: true, tenant_uuid: tenantA1 });
    expect(await activeFor(introspectorA, introspectorA)).toMatchObject({ active: true, tenant_uuid: tenantA });
  });

  it("answers another tenant's token, a parent's, and the admin's exactly as an unknown token", async () => {
    const unknown = await introspect(introspectorA, 'no-such-token');
    expect(unknown.json()).toEqual({ active: false });
    for (const [bearer, token] of [
      [introspectorA, userB],
      [introspectorA, introspectorB],
      [introspectorA, admin],
      [introspectorB, userA],
      [introspectorB, userA1],
    ]) {
      const res = await introspect(bearer!, token!);
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toBe(unknown.body);
    }
    // Also with a required_access the token grants.
    const res = await api.inject({
      method: 'POST',
      url: '/0.1/oauth2/introspect',
      headers: { 'content-type': FORM, authorization: `Bearer ${introspectorA}` },
      payload: new URLSearchParams({ token: introspectorB, required_access: 'auth.tokens.introspect' }).toString(),
    });
    expect(res.json()).toEqual({ active: false });
    // Wazo-Tenant does not widen the caller's view.
    const widened = await api.inject({
      method: 'POST',
      url: '/0.1/oauth2/introspect',
      headers: { 'content-type': FORM, authorization: `Bearer ${introspectorA}`, 'wazo-tenant': tenantB },
      payload: new URLSearchParams({ token: userB }).toString(),
    });
    expect(widened.json()).toEqual({ active: false });
  });

  it("the top tenant's administrator sees every tenant's tokens", async () => {
    for (const [token, tenantUuid] of [
      [userA, tenantA],
      [userA1, tenantA1],
      [userB, tenantB],
      [introspectorB, tenantB],
    ]) {
      expect(await activeFor(admin, token!)).toMatchObject({ active: true, tenant_uuid: tenantUuid });
    }
    expect((await activeFor(admin, admin)).active).toBe(true);
  });
});
