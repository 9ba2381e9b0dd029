// No privilege escalation through the IAM API (src/identity/privileges.ts):
// a user holding auth.policies.create and auth.users.# (and the group
// accesses) tries to widen its own rights in every way the API offers.
import { beforeAll, describe, expect, it } from 'vitest';
import { iamApi } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';

describe.each(ENGINES)('privilege escalation on %s', (engine) => {
  let t: TestService;
  let admin: string;
  let mallory: string;
  let malloryUuid: string;
  let adminPolicyUuid: string;
  let operatorsUuid: string;
  const api = iamApi(() => t);

  const expectRefused = (
    res: { statusCode: number; json(): { error_id: string; details: { required_access?: string } } },
    access: string,
  ) => {
    expect(res.statusCode).toBe(401);
    expect(res.json().error_id).toBe('unauthorized');
    expect(res.json().details.required_access).toBe(access);
  };

  beforeAll(async () => {
    t = await startTestService(engine, {
      default_policies: { operators: { name: 'Operators', acl: ['auth.policies.#'] } } as never,
    });
    admin = await api.adminToken();
    const limited = (
      await api.as(admin, 'POST', '/0.1/policies', {
        name: 'limited',
        acl: [
          'auth.policies.create',
          'auth.policies.*.read',
          'auth.policies.read',
          'auth.users.#',
          'auth.groups.#',
          'confd.users.read',
        ],
      })
    ).json();
    malloryUuid = await api.createUser(admin, 'mallory', 'mallory-password');
    await api.as(admin, 'PUT', `/0.1/users/${malloryUuid}/policies/${limited.uuid}`);
    mallory = await api.login('mallory', 'mallory-password');
    const policies = (await api.as(admin, 'GET', '/0.1/policies?limit=100')).json().items as { uuid: string; slug: string }[];
    adminPolicyUuid = policies.find((p) => p.slug === 'xivo_auth_master_admin')!.uuid;
    operatorsUuid = policies.find((p) => p.slug === 'operators')!.uuid;
  });

  it('cannot create a policy granting # or anything it does not hold', async () => {
    expectRefused(await api.as(mallory, 'POST', '/0.1/policies', { name: 'root', acl: ['#'] }), '#');
    expectRefused(
      await api.as(mallory, 'POST', '/0.1/policies', { name: 'confd', acl: ['confd.users.read', 'confd.#'] }),
      'confd.#',
    );
    expectRefused(await api.as(mallory, 'POST', '/0.1/policies', { name: 'star', acl: ['auth.*'] }), 'auth.*');
    // What it holds, it may hand out, and negatives only narrow.
    const ok = await api.as(mallory, 'POST', '/0.1/policies', { name: 'fine', acl: ['confd.users.read', '!confd.users.read'] });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('cannot grow a policy of its own beyond what it holds', async () => {
    const own = (await api.as(admin, 'POST', '/0.1/policies', { name: 'mallory own', acl: [] })).json();
    // Even with update rights on that policy.
    const editor = (
      await api.as(admin, 'POST', '/0.1/policies', { name: 'editor', acl: [`auth.policies.${own.uuid}.update`] })
    ).json();
    await api.as(admin, 'PUT', `/0.1/users/${malloryUuid}/policies/${editor.uuid}`);
    const token = await api.login('mallory', 'mallory-password');
    expectRefused(await api.as(token, 'PUT', `/0.1/policies/${own.uuid}/acl/${encodeURIComponent('#')}`), '#');
    expectRefused(await api.as(token, 'PUT', `/0.1/policies/${own.uuid}`, { name: 'mallory own', acl: ['confd.#'] }), 'confd.#');
    expect((await api.as(token, 'PUT', `/0.1/policies/${own.uuid}/acl/confd.users.read`)).statusCode).toBe(204);
    expect((await api.as(admin, 'GET', `/0.1/policies/${own.uuid}`)).json().acl).toEqual(['confd.users.read']);
  });

  it('cannot remove accesses it does not hold (a negative entry protecting others)', async () => {
    const guarded = (
      await api.as(admin, 'POST', '/0.1/policies', { name: 'guarded', acl: ['calld.#', '!calld.admin.#'] })
    ).json();
    const editor = (
      await api.as(admin, 'POST', '/0.1/policies', { name: 'guarded editor', acl: [`auth.policies.${guarded.uuid}.update`] })
    ).json();
    await api.as(admin, 'PUT', `/0.1/users/${malloryUuid}/policies/${editor.uuid}`);
    const token = await api.login('mallory', 'mallory-password');
    expectRefused(
      await api.as(token, 'DELETE', `/0.1/policies/${guarded.uuid}/acl/${encodeURIComponent('!calld.admin.#')}`),
      '!calld.admin.#',
    );
    expectRefused(
      await api.as(token, 'PUT', `/0.1/policies/${guarded.uuid}`, { name: 'guarded', acl: ['calld.#'] }),
      '!calld.admin.#',
    );
    expect((await api.as(admin, 'GET', `/0.1/policies/${guarded.uuid}`)).json().acl).toEqual(['calld.#', '!calld.admin.#']);
  });

  it('cannot link the administrator policy to itself, directly or through a group', async () => {
    expectRefused(await api.as(mallory, 'PUT', `/0.1/users/${malloryUuid}/policies/${adminPolicyUuid}`), '#');
    const group = await api.as(mallory, 'POST', '/0.1/groups', { name: 'mallory gang' });
    expect(group.statusCode).toBe(200);
    const g = group.json().uuid;
    expect((await api.as(mallory, 'PUT', `/0.1/groups/${g}/users/${malloryUuid}`)).statusCode).toBe(204);
    expectRefused(await api.as(mallory, 'PUT', `/0.1/groups/${g}/policies/${adminPolicyUuid}`), '#');
    // Nor join a group that already carries it.
    const admins = (await api.as(admin, 'POST', '/0.1/groups', { name: 'admins' })).json();
    await api.as(admin, 'PUT', `/0.1/groups/${admins.uuid}/policies/${adminPolicyUuid}`);
    expectRefused(await api.as(mallory, 'PUT', `/0.1/groups/${admins.uuid}/users/${malloryUuid}`), '#');
    // Nor attach it to the tenant's "all users" group.
    const all = (await api.as(mallory, 'GET', '/0.1/groups?search=all-users')).json().items[0];
    expectRefused(await api.as(mallory, 'PUT', `/0.1/groups/${all.uuid}/policies/${adminPolicyUuid}`), '#');

    const fresh = await api.login('mallory', 'mallory-password');
    const acl = (await api.as(null, 'GET', `/0.1/token/${fresh}`)).json().data.acl as string[];
    expect(acl).not.toContain('#');
    expect((await api.as(null, 'HEAD', `/0.1/token/${fresh}?scope=auth.tenants.read`)).statusCode).toBe(403);
  });

  it('cannot edit or delete a configuration policy, even one it could otherwise touch', async () => {
    const res = await api.as(mallory, 'PUT', `/0.1/policies/${operatorsUuid}`, { name: 'x', acl: [] });
    expect(res.statusCode).toBe(401); // it lacks auth.policies.{uuid}.update altogether
    const res2 = await api.as(admin, 'PUT', `/0.1/policies/${operatorsUuid}/acl/${encodeURIComponent('#')}`);
    expect(res2.statusCode).toBe(403); // and not even the administrator may
    expect((await api.as(admin, 'DELETE', `/0.1/policies/${operatorsUuid}`)).statusCode).toBe(403);
  });

  it("cannot reach another tenant's users (a sibling of its own) in any way", async () => {
    const home = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'eve home' })).json();
    const away = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'eve away' })).json();
    const limited = (
      await api.as(
        admin,
        'POST',
        '/0.1/policies',
        { name: 'eve', acl: ['auth.policies.create', 'auth.users.#', 'auth.groups.#'] },
        { 'wazo-tenant': home.uuid },
      )
    ).json();
    const eve = await api.createUser(admin, 'eve', 'eve-password', home.uuid);
    await api.as(admin, 'PUT', `/0.1/users/${eve}/policies/${limited.uuid}`, undefined, { 'wazo-tenant': home.uuid });
    const token = await api.login('eve', 'eve-password');
    const victim = await api.createUser(admin, 'eve-victim', 'victim-password', away.uuid);
    expect((await api.as(token, 'GET', `/0.1/users/${victim}`)).statusCode).toBe(404);
    expect((await api.as(token, 'PUT', `/0.1/users/${victim}`, { username: 'pwned' })).statusCode).toBe(404);
    expect((await api.as(token, 'DELETE', `/0.1/users/${victim}`)).statusCode).toBe(404);
    expect(
      (await api.as(token, 'PUT', `/0.1/users/${victim}/password`, { old_password: 'x', new_password: 'y' })).statusCode,
    ).toBe(404);
    expect((await api.as(token, 'GET', '/0.1/users', undefined, { 'wazo-tenant': away.uuid })).statusCode).toBe(401);
    expect((await api.as(token, 'GET', '/0.1/users?recurse=true')).json().items.map((u: { uuid: string }) => u.uuid)).toEqual([
      eve,
    ]);
    expect((await api.as(token, 'PUT', `/0.1/users/${eve}/policies/${adminPolicyUuid}`)).statusCode).toBe(404);
    expect((await api.as(token, 'POST', '/0.1/policies', { name: 'all', acl: ['#'] })).statusCode).toBe(401);
    expect((await api.as(admin, 'GET', `/0.1/users/${victim}`)).json().username).toBe('eve-victim');
  });
});
