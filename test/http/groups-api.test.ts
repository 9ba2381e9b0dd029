// The groups API (API.md §4): CRUD, members, group policies, the "all users"
// group of every tenant, and a user's groups, on both engines.
import { beforeAll, describe, expect, it } from 'vitest';
import { iamApi, UNKNOWN_UUID } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';

describe.each(ENGINES)('groups API on %s', (engine) => {
  let t: TestService;
  let admin: string;
  const api = iamApi(() => t);

  beforeAll(async () => {
    t = await startTestService(engine);
    admin = await api.adminToken();
  });

  it('refuses calls without a token or without the access', async () => {
    expect((await api.as(null, 'GET', '/0.1/groups')).statusCode).toBe(401);
    await api.createUser(admin, 'group-nobody', 'nobody-password');
    const nobody = await api.login('group-nobody', 'nobody-password');
    const g = UNKNOWN_UUID;
    for (const [method, url, access] of [
      ['GET', '/0.1/groups', 'auth.groups.read'],
      ['POST', '/0.1/groups', 'auth.groups.create'],
      ['GET', `/0.1/groups/${g}`, `auth.groups.${g}.read`],
      ['PUT', `/0.1/groups/${g}`, `auth.groups.${g}.update`],
      ['DELETE', `/0.1/groups/${g}`, `auth.groups.${g}.delete`],
      ['GET', `/0.1/groups/${g}/users`, `auth.groups.${g}.users.read`],
      ['PUT', `/0.1/groups/${g}/users/${g}`, `auth.groups.${g}.users.${g}.create`],
      ['DELETE', `/0.1/groups/${g}/users/${g}`, `auth.groups.${g}.users.${g}.delete`],
      ['GET', `/0.1/groups/${g}/policies`, `auth.groups.${g}.policies.read`],
      ['PUT', `/0.1/groups/${g}/policies/${g}`, `auth.groups.${g}.policies.${g}.create`],
      ['DELETE', `/0.1/groups/${g}/policies/${g}`, `auth.groups.${g}.policies.${g}.delete`],
      ['GET', `/0.1/users/${g}/groups`, `auth.users.${g}.groups.read`],
    ]) {
      const res = await api.as(nobody, method, url, method === 'POST' || method === 'PUT' ? { name: 'x' } : undefined);
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json().details.required_access).toBe(access);
    }
  });

  it('creates, reads, lists, renames and deletes groups; 404 unknown; 409 duplicates; 400 bad bodies', async () => {
    const created = await api.as(admin, 'POST', '/0.1/groups', { name: 'Support team' });
    expect(created.statusCode, created.body).toBe(200);
    const g = created.json();
    expect(g).toMatchObject({ name: 'Support team', slug: 'Support_team', system_managed: false });
    expect((await api.as(admin, 'GET', `/0.1/groups/${g.uuid}`)).json()).toEqual(g);
    const list = (await api.as(admin, 'GET', '/0.1/groups?search=support')).json();
    expect(list.items).toEqual([g]);
    expect(list.total).toBe(2); // with the tenant's "all users" group
    expect((await api.as(admin, 'GET', '/0.1/groups?direction=up')).json().error_id).toBe('invalid-list-param');

    const dup = await api.as(admin, 'POST', '/0.1/groups', { name: 'Another', slug: 'Support_team' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ error_id: 'conflict', details: { slug: {} }, resource: 'groups' });
    for (const body of [{}, [], { name: '' }, { name: 7 }, { name: 'x\u0000' }, { name: 'x', slug: 'all-users' }]) {
      expect((await api.as(admin, 'POST', '/0.1/groups', body)).statusCode, JSON.stringify(body)).toBe(400);
    }

    const renamed = await api.as(admin, 'PUT', `/0.1/groups/${g.uuid}`, { name: 'Support' });
    expect(renamed.json()).toMatchObject({ name: 'Support', slug: 'Support_team' });
    expect((await api.as(admin, 'DELETE', `/0.1/groups/${g.uuid}`)).statusCode).toBe(204);
    for (const [method, url] of [
      ['GET', `/0.1/groups/${g.uuid}`],
      ['DELETE', `/0.1/groups/${g.uuid}`],
      ['GET', '/0.1/groups/nonsense'],
      ['GET', `/0.1/groups/${g.uuid}/users`],
    ]) {
      const res = await api.as(admin, method, url);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error_id).toBe('unknown-group');
    }
  });

  it('gives every tenant an "all users" group that every user joins, and protects it', async () => {
    const tenant = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'all users tenant' })).json();
    const h = { 'wazo-tenant': tenant.uuid };
    const groups = (await api.as(admin, 'GET', '/0.1/groups', undefined, h)).json();
    expect(groups.items).toHaveLength(1);
    const all = groups.items[0];
    expect(all).toMatchObject({ system_managed: true, tenant_uuid: tenant.uuid, slug: 'all-users' });
    const userUuid = await api.createUser(admin, 'all-users-member', 'member-password', tenant.uuid);
    expect(
      (await api.as(admin, 'GET', `/0.1/groups/${all.uuid}/users`, undefined, h))
        .json()
        .items.map((u: { uuid: string }) => u.uuid),
    ).toEqual([userUuid]);
    expect(
      (await api.as(admin, 'GET', `/0.1/users/${userUuid}/groups`)).json().items.map((g: { uuid: string }) => g.uuid),
    ).toEqual([all.uuid]);
    for (const [method, url] of [
      ['PUT', `/0.1/groups/${all.uuid}`],
      ['DELETE', `/0.1/groups/${all.uuid}`],
      ['DELETE', `/0.1/groups/${all.uuid}/users/${userUuid}`],
    ]) {
      const res = await api.as(admin, method, url, method === 'PUT' ? { name: 'renamed' } : undefined);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error_id).toBe('forbidden');
    }
    // The admin, created before any group, is in the master tenant's.
    const me = (await api.as(null, 'GET', `/0.1/token/${admin}`)).json().data.metadata.uuid;
    expect(
      (await api.as(admin, 'GET', `/0.1/users/${me}/groups`))
        .json()
        .items.map((g: { system_managed: boolean }) => g.system_managed),
    ).toEqual([true]);
  });

  it('manages members of the same tenant only (400 otherwise), and group policies', async () => {
    const g = (await api.as(admin, 'POST', '/0.1/groups', { name: 'Members' })).json();
    const u1 = await api.createUser(admin, 'member-one', 'member-password');
    const u2 = await api.createUser(admin, 'member-two', 'member-password');
    for (const u of [u1, u2, u2]) expect((await api.as(admin, 'PUT', `/0.1/groups/${g.uuid}/users/${u}`)).statusCode).toBe(204);
    const members = (await api.as(admin, 'GET', `/0.1/groups/${g.uuid}/users?order=username&direction=desc`)).json();
    expect(members).toMatchObject({ total: 2, filtered: 2 });
    expect(members.items.map((u: { username: string }) => u.username)).toEqual(['member-two', 'member-one']);
    expect((await api.as(admin, 'DELETE', `/0.1/groups/${g.uuid}/users/${u1}`)).statusCode).toBe(204);
    expect((await api.as(admin, 'DELETE', `/0.1/groups/${g.uuid}/users/${u1}`)).statusCode).toBe(204);
    expect((await api.as(admin, 'GET', `/0.1/groups/${g.uuid}/users`)).json().total).toBe(1);
    const unknownUser = await api.as(admin, 'PUT', `/0.1/groups/${g.uuid}/users/${UNKNOWN_UUID}`);
    expect(unknownUser.statusCode).toBe(404);
    expect(unknownUser.json().error_id).toBe('unknown-user');

    const other = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'other members' })).json();
    const stranger = await api.createUser(admin, 'member-stranger', 'member-password', other.uuid);
    const mixed = await api.as(admin, 'PUT', `/0.1/groups/${g.uuid}/users/${stranger}`);
    expect(mixed.statusCode).toBe(400);
    expect(mixed.json().details).toHaveProperty('user_uuid');

    const p = (await api.as(admin, 'POST', '/0.1/policies', { name: 'Group policy', acl: ['grp.1'] })).json();
    expect((await api.as(admin, 'PUT', `/0.1/groups/${g.uuid}/policies/${p.uuid}`)).statusCode).toBe(204);
    expect((await api.as(admin, 'PUT', `/0.1/groups/${g.uuid}/policies/${p.uuid}`)).statusCode).toBe(204);
    expect(
      (await api.as(admin, 'GET', `/0.1/groups/${g.uuid}/policies`)).json().items.map((x: { uuid: string }) => x.uuid),
    ).toEqual([p.uuid]);
    const unknownPolicy = await api.as(admin, 'PUT', `/0.1/groups/${g.uuid}/policies/${UNKNOWN_UUID}`);
    expect(unknownPolicy.json().error_id).toBe('unknown-policy');
    // A policy of another tenant cannot be attached to this group.
    const foreign = (
      await api.as(admin, 'POST', '/0.1/policies', { name: 'Foreign policy', acl: [] }, { 'wazo-tenant': other.uuid })
    ).json();
    expect((await api.as(admin, 'PUT', `/0.1/groups/${g.uuid}/policies/${foreign.uuid}`)).statusCode).toBe(400);
    expect((await api.as(admin, 'DELETE', `/0.1/groups/${g.uuid}/policies/${p.uuid}`)).statusCode).toBe(204);
    expect((await api.as(admin, 'GET', `/0.1/groups/${g.uuid}/policies`)).json().total).toBe(0);
  });

  it('scopes groups by tenant: invisible outside, recurse widens', async () => {
    const sub = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'group scope' })).json();
    const g = (await api.as(admin, 'POST', '/0.1/groups', { name: 'Scoped' }, { 'wazo-tenant': sub.uuid })).json();
    expect(g.tenant_uuid).toBe(sub.uuid);
    const flat = (await api.as(admin, 'GET', '/0.1/groups')).json().items.map((x: { uuid: string }) => x.uuid);
    const deep = (await api.as(admin, 'GET', '/0.1/groups?recurse=true')).json().items.map((x: { uuid: string }) => x.uuid);
    expect(flat).not.toContain(g.uuid);
    expect(deep).toContain(g.uuid);
    const sibling = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'group sibling' })).json();
    expect((await api.as(admin, 'GET', `/0.1/groups/${g.uuid}`, undefined, { 'wazo-tenant': sibling.uuid })).statusCode).toBe(
      404,
    );
  });
});
