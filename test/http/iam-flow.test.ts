// End to end through inject(): an administrator builds a tenant, a policy, a
// group and a user; the user's token carries exactly the expected ACL. ACL
// changes apply to tokens issued afterwards; live tokens keep theirs.
import { beforeAll, describe, expect, it } from 'vitest';
import { iamApi } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';

describe.each(ENGINES)('IAM end to end on %s', (engine) => {
  let t: TestService;
  let admin: string;
  const api = iamApi(() => t);

  beforeAll(async () => {
    t = await startTestService(engine, {
      default_user_policy: 'users_default',
      default_policies: { users_default: { name: 'Every user', acl: ['confd.users.me.read'] } },
    } as never);
    admin = await api.adminToken();
  });

  it('tenant → policy → group → user → login: the token carries exactly the union', async () => {
    const tenant = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'Flow Inc' })).json();
    const h = { 'wazo-tenant': tenant.uuid };
    const groupPolicy = (
      await api.as(admin, 'POST', '/0.1/policies', { name: 'agents', acl: ['calld.calls.read', 'calld.calls.me.#'] }, h)
    ).json();
    const userPolicy = (
      await api.as(admin, 'POST', '/0.1/policies', { name: 'supervisor', acl: ['calld.calls.read', 'agentd.#'] }, h)
    ).json();
    const allPolicy = (await api.as(admin, 'POST', '/0.1/policies', { name: 'everyone here', acl: ['chatd.#'] }, h)).json();
    const unrelated = (await api.as(admin, 'POST', '/0.1/policies', { name: 'unrelated', acl: ['webhookd.#'] }, h)).json();
    const group = (await api.as(admin, 'POST', '/0.1/groups', { name: 'Agents' }, h)).json();
    const all = (await api.as(admin, 'GET', '/0.1/groups?search=all-users', undefined, h)).json().items[0];
    expect((await api.as(admin, 'PUT', `/0.1/groups/${group.uuid}/policies/${groupPolicy.uuid}`, undefined, h)).statusCode).toBe(
      204,
    );
    expect((await api.as(admin, 'PUT', `/0.1/groups/${all.uuid}/policies/${allPolicy.uuid}`, undefined, h)).statusCode).toBe(204);
    const user = await api.createUser(admin, 'flow-user', 'flow-password', tenant.uuid);
    expect((await api.as(admin, 'PUT', `/0.1/groups/${group.uuid}/users/${user}`, undefined, h)).statusCode).toBe(204);
    expect((await api.as(admin, 'PUT', `/0.1/users/${user}/policies/${userPolicy.uuid}`, undefined, h)).statusCode).toBe(204);
    expect(unrelated.uuid).toBeDefined();

    const token = await api.login('flow-user', 'flow-password');
    const data = (await api.as(null, 'GET', `/0.1/token/${token}`)).json().data;
    expect(data.metadata.tenant_uuid).toBe(tenant.uuid);
    expect([...data.acl].sort()).toEqual(['agentd.#', 'calld.calls.me.#', 'calld.calls.read', 'chatd.#', 'confd.users.me.read']);
    expect((await api.as(null, 'HEAD', `/0.1/token/${token}?scope=calld.calls.${user}.hangup`)).statusCode).toBe(204);
    expect((await api.as(null, 'HEAD', `/0.1/token/${token}?scope=webhookd.read`)).statusCode).toBe(403);

    // Changes apply to tokens issued afterwards; the live token keeps its ACL.
    expect((await api.as(admin, 'DELETE', `/0.1/groups/${group.uuid}/users/${user}`, undefined, h)).statusCode).toBe(204);
    expect((await api.as(admin, 'PUT', `/0.1/policies/${userPolicy.uuid}/acl/webhookd.read`, undefined, h)).statusCode).toBe(204);
    expect((await api.as(null, 'HEAD', `/0.1/token/${token}?scope=calld.calls.${user}.hangup`)).statusCode).toBe(204);
    expect((await api.as(null, 'HEAD', `/0.1/token/${token}?scope=webhookd.read`)).statusCode).toBe(403);
    const later = await api.login('flow-user', 'flow-password');
    const laterAcl = (await api.as(null, 'GET', `/0.1/token/${later}`)).json().data.acl as string[];
    expect([...laterAcl].sort()).toEqual(['agentd.#', 'calld.calls.read', 'chatd.#', 'confd.users.me.read', 'webhookd.read']);
  });
});
