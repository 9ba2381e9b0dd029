// Per-tenant mfa.required_for (issue 24 §3): GET/PUT /0.1/tenants/{uuid}/mfa
// over HTTP on both engines. A tenant's rule applies to its users and to its
// sub-tenants' users on top of the configuration's (a tenant may require
// more, never less); it is audited (tenants.mfa.update) and published
// (auth_tenant_mfa_updated); bad rules are 400, tenants outside the caller's
// subtree 404, and the accesses are auth.tenants.{uuid}.mfa.read|update.
// A user's factors are seen and removed only from its tenant's subtree.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { AMQP_URI, startBusConsumer, type BusConsumer } from '../helpers/bus.js';
import { iamApi } from '../helpers/iam.js';
import { basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { until } from '../helpers/until.js';
import { securityWith } from '../security/helpers.js';

const CONFIG_RULE = { acl: ['confd.admin.#'], purposes: [] as string[] };

describe.each(ENGINES)('per-tenant mfa.required_for on %s', (engine) => {
  let t: TestService;
  let bus: BusConsumer;
  let admin: string;
  let parent: string;
  let child: string;
  let sibling: string;
  let n = 0;
  const api = iamApi(() => t);

  const login = (username: string) =>
    api.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { 'content-type': 'application/json', authorization: basic(username, `${username}-password`) },
      payload: {},
    });
  const putRule = (tenant: string, rule: { acl: string[]; purposes: string[] }, token = admin) =>
    api.as(token, 'PUT', `/0.1/tenants/${tenant}/mfa`, { required_for: rule });

  /** A user of `tenant` holding `acl`; returns its username. */
  async function userIn(tenant: string, acl: string[]): Promise<string> {
    n += 1;
    const username = `mfa-tenant-user-${n}`;
    const h = { 'wazo-tenant': tenant };
    const user = await api.as(admin, 'POST', '/0.1/users', { username, password: `${username}-password` }, h);
    expect(user.statusCode, user.body).toBe(200);
    if (acl.length > 0) {
      const policy = await api.as(admin, 'POST', '/0.1/policies', { name: `${username} policy`, acl }, h);
      expect(policy.statusCode, policy.body).toBe(200);
      expect(
        (await api.as(admin, 'PUT', `/0.1/users/${user.json().uuid}/policies/${policy.json().uuid}`, undefined, h)).statusCode,
      ).toBe(204);
    }
    return username;
  }

  const outcome = async (username: string) => {
    const res = await login(username);
    return res.statusCode === 200 ? 'token' : (res.json().error_id as string);
  };

  beforeAll(async () => {
    bus = await startBusConsumer();
    t = await startTestService(engine, {
      security: securityWith({ rate_limits: { enabled: false } }),
      amqp: {
        ...DEFAULT_CONFIG.amqp,
        enabled: true,
        uri: AMQP_URI,
        exchange_name: bus.exchange,
        poll_interval_ms: 50,
        retry_min_ms: 50,
        retry_max_ms: 200,
      },
      // The bootstrap administrator (purpose internal) is exempted, or the rules below would make it enrol.
      mfa: { ...DEFAULT_CONFIG.mfa, required_for: CONFIG_RULE, exempt_purposes: ['external_api', 'internal'] },
    });
    await t.service.listen();
    admin = await api.adminToken();
    const mk = async (name: string, parentUuid?: string) => {
      const res = await api.as(admin, 'POST', '/0.1/tenants', { name, ...(parentUuid ? { parent_uuid: parentUuid } : {}) });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().uuid as string;
    };
    parent = await mk('mfa parent');
    child = await mk('mfa child', parent);
    sibling = await mk('mfa sibling');
  });

  afterAll(async () => {
    await bus?.close();
  });

  it("GET shows an empty own rule and the configuration's as the effective one until a rule is set", async () => {
    const res = await api.as(admin, 'GET', `/0.1/tenants/${child}/mfa`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      tenant_uuid: child,
      required_for: { acl: [], purposes: [] },
      effective_required_for: CONFIG_RULE,
      updated_at: null,
    });
  });

  it("PUT sets the tenant's rule: its users and its sub-tenants' must enrol, other tenants' do not; audited and published", async () => {
    const inParent = await userIn(parent, ['confd.users.read']);
    const inChild = await userIn(child, ['confd.users.read']);
    const inSibling = await userIn(sibling, ['confd.users.read']);
    for (const u of [inParent, inChild, inSibling]) expect(await outcome(u)).toBe('token');

    const put = await putRule(parent, { acl: ['confd.#'], purposes: [] });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({
      tenant_uuid: parent,
      required_for: { acl: ['confd.#'], purposes: [] },
      effective_required_for: { acl: ['confd.admin.#', 'confd.#'], purposes: [] },
    });
    expect(put.json().updated_at).toMatch(/^\d{4}-\d\d-\d\dT.*\+00:00$/);
    expect(await outcome(inParent)).toBe('mfa-enrolment-required');
    expect(await outcome(inChild)).toBe('mfa-enrolment-required');
    expect(await outcome(inSibling)).toBe('token');
    expect((await api.as(admin, 'GET', `/0.1/tenants/${child}/mfa`)).json()).toMatchObject({
      required_for: { acl: [], purposes: [] },
      effective_required_for: { acl: ['confd.admin.#', 'confd.#'], purposes: [] },
    });

    const published = () =>
      bus.named('auth_tenant_mfa_updated').find((m) => m.routingKey === `auth.tenants.${parent}.mfa.updated`);
    await until(() => published() !== undefined, 'auth_tenant_mfa_updated');
    expect(published()!.body.data).toEqual({ tenant_uuid: parent, required_for: { acl: ['confd.#'], purposes: [] } });
    const audit = await api.as(admin, 'GET', '/0.1/audit?recurse=true&limit=100');
    expect(audit.statusCode, audit.body).toBe(200);
    const record = (audit.json().items as { action: string; target_id: string | null; outcome: string }[]).find(
      (r) => r.action === 'tenants.mfa.update',
    );
    expect(record).toMatchObject({ outcome: 'success', target_id: parent });

    // Cleared, the users log in again.
    expect((await putRule(parent, { acl: [], purposes: [] })).statusCode).toBe(200);
    expect(await outcome(inChild)).toBe('token');
  });

  it("a sub-tenant may require more, never less: its empty rule leaves its parent's, its own adds purposes", async () => {
    const plain = await userIn(child, []);
    const holder = await userIn(child, ['confd.users.read']);
    expect(await outcome(plain)).toBe('token');
    expect((await putRule(parent, { acl: ['confd.#'], purposes: [] })).statusCode).toBe(200);
    expect((await putRule(child, { acl: [], purposes: [] })).statusCode).toBe(200);
    expect(await outcome(holder)).toBe('mfa-enrolment-required');
    expect(await outcome(plain)).toBe('token');
    expect((await putRule(child, { acl: [], purposes: ['user'] })).statusCode).toBe(200);
    expect(await outcome(plain)).toBe('mfa-enrolment-required');
    // The parent does not get its child's rule.
    expect((await api.as(admin, 'GET', `/0.1/tenants/${parent}/mfa`)).json().effective_required_for).toEqual({
      acl: ['confd.admin.#', 'confd.#'],
      purposes: [],
    });
    for (const tenant of [parent, child]) expect((await putRule(tenant, { acl: [], purposes: [] })).statusCode).toBe(200);
  });

  it('answers 400 for a negative access, an unknown purpose or extra keys, and changes nothing', async () => {
    for (const body of [
      { required_for: { acl: ['!confd.#'], purposes: [] } },
      { required_for: { acl: [], purposes: ['robot'] } },
      { required_for: { acl: [] } },
      { required_for: { acl: [], purposes: [] }, exempt: true },
    ]) {
      const res = await api.as(admin, 'PUT', `/0.1/tenants/${sibling}/mfa`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await api.as(admin, 'GET', `/0.1/tenants/${sibling}/mfa`)).json().required_for).toEqual({ acl: [], purposes: [] });
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await api.inject({ method: 'GET', url: '/0.1/api/api.yml' })).body;
    expect(doc).toContain('/tenants/{tenant_uuid}/mfa:');
    expect(doc).toContain('auth_tenant_mfa_updated');
  });

  it("a user's factors are listed and removed only from its tenant's subtree, and never enrolled by another", async () => {
    const owner = await userIn(child, ['auth.users.me.mfa.#']);
    const session = (await login(owner)).json().data;
    const ownerToken = session.token as string;
    const ownerUuid = session.metadata.uuid as string;
    const enrolled = await api.as(ownerToken, 'POST', '/0.1/users/me/mfa/recovery_codes');
    expect(enrolled.statusCode, enrolled.body).toBe(200);
    const factor = enrolled.json().uuid as string;
    // auth.users.me.mfa.#: the owner's own accesses, which removing its factor requires granting (no escalation).
    const access = ['auth.users.*.mfa.read', 'auth.users.*.mfa.*.delete', 'auth.users.*.mfa.totp.create', 'auth.users.me.mfa.#'];
    const outsider = (await login(await userIn(sibling, access))).json().data.token as string;
    const above = (await login(await userIn(parent, access))).json().data.token as string;
    // Outside the subtree: as if the user did not exist.
    expect((await api.as(outsider, 'GET', `/0.1/users/${ownerUuid}/mfa`)).statusCode).toBe(404);
    expect((await api.as(outsider, 'DELETE', `/0.1/users/${ownerUuid}/mfa/${factor}`)).statusCode).toBe(404);
    // From the parent tenant (recursing into its sub-tenants): listed, never enrolled for the user, removable.
    const sub = { 'wazo-tenant': child };
    const listed = await api.as(above, 'GET', `/0.1/users/${ownerUuid}/mfa`, undefined, sub);
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().items).toMatchObject([{ uuid: factor, type: 'recovery_code', remaining: 10 }]);
    expect((await api.as(above, 'POST', `/0.1/users/${ownerUuid}/mfa/totp`, {}, sub)).statusCode).toBe(403);
    expect((await api.as(above, 'DELETE', `/0.1/users/${ownerUuid}/mfa/${factor}`, undefined, sub)).statusCode).toBe(204);
    expect((await api.as(ownerToken, 'GET', '/0.1/users/me/mfa')).json().total).toBe(0);
  });

  it("another user's factor goes only with every access of that user (no escalation); the user removes its own", async () => {
    // A privileged user of the child tenant, with recovery codes.
    const bossName = await userIn(child, ['auth.users.me.mfa.#', 'calld.admin.read']);
    const boss = (await login(bossName)).json().data;
    const codes = await api.as(boss.token, 'POST', '/0.1/users/me/mfa/recovery_codes');
    expect(codes.statusCode, codes.body).toBe(200);
    const factor = codes.json().uuid as string;
    const sub = { 'wazo-tenant': child };
    const helpdesk = (await login(await userIn(child, ['auth.users.*.mfa.read', 'auth.users.*.mfa.*.delete']))).json().data
      .token as string;
    const refused = await api.as(helpdesk, 'DELETE', `/0.1/users/${boss.metadata.uuid}/mfa/${factor}`, undefined, sub);
    expect(refused.statusCode, refused.body).toBe(401);
    expect(refused.json()).toMatchObject({ error_id: 'unauthorized' });
    expect(refused.json().details.required_access).toBeDefined();
    expect((await api.as(boss.token, 'GET', '/0.1/users/me/mfa')).json().total).toBe(1);
    // The master administrator grants everything; the user itself needs nothing more.
    const again = await api.as(boss.token, 'POST', '/0.1/users/me/mfa/recovery_codes');
    expect((await api.as(boss.token, 'DELETE', `/0.1/users/me/mfa/${again.json().uuid}`)).statusCode).toBe(204);
    const third = (await api.as(boss.token, 'POST', '/0.1/users/me/mfa/recovery_codes')).json().uuid as string;
    expect((await api.as(admin, 'DELETE', `/0.1/users/${boss.metadata.uuid}/mfa/${third}`, undefined, sub)).statusCode).toBe(204);
    expect((await api.as(boss.token, 'GET', '/0.1/users/me/mfa')).json().total).toBe(0);
  });

  it("is for the tenant's administrators: 404 outside the acting tenant's subtree, 401 without the access", async () => {
    const manager = await userIn(sibling, [`auth.tenants.${sibling}.mfa.read`, `auth.tenants.${parent}.mfa.update`]);
    const res = await login(manager);
    expect(res.statusCode, res.body).toBe(200);
    const token = res.json().data.token as string;
    expect((await api.as(token, 'GET', `/0.1/tenants/${sibling}/mfa`)).statusCode).toBe(200);
    // Granted by its ACL, but the tenant is not in its subtree.
    expect((await putRule(parent, { acl: ['#'], purposes: [] }, token)).statusCode).toBe(404);
    const denied = await putRule(sibling, { acl: ['#'], purposes: [] }, token);
    expect(denied.statusCode).toBe(401);
    expect(denied.json().details.required_access).toBe(`auth.tenants.${sibling}.mfa.update`);
    expect((await api.as(admin, 'GET', `/0.1/tenants/${parent}/mfa`)).json().required_for).toEqual({ acl: [], purposes: [] });
    expect((await api.as(admin, 'GET', '/0.1/tenants/00000000-0000-4000-8000-00000000dead/mfa')).statusCode).toBe(404);
  });
});
