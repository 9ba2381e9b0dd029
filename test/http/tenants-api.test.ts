// The tenants API (API.md §4): the tree, Wazo-Tenant and recurse scoping,
// deletion rules, and token checks against the tree, on both engines.
import { beforeAll, describe, expect, it } from 'vitest';
import { iamApi, UNKNOWN_UUID } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';

describe.each(ENGINES)('tenants API on %s', (engine) => {
  let t: TestService;
  let admin: string;
  let master: string;
  const api = iamApi(() => t);

  beforeAll(async () => {
    t = await startTestService(engine);
    admin = await api.adminToken();
    master = (await api.as(null, 'GET', `/0.1/token/${admin}`)).json().data.metadata.tenant_uuid;
  });

  it('refuses calls without a token or without the access', async () => {
    const none = await api.as(null, 'GET', '/0.1/tenants');
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ error_id: 'unauthorized', details: { required_access: 'auth.tenants.read' } });
    await api.createUser(admin, 'tenant-nobody', 'nobody-password');
    const nobody = await api.login('tenant-nobody', 'nobody-password');
    for (const [method, url, access] of [
      ['GET', '/0.1/tenants', 'auth.tenants.read'],
      ['POST', '/0.1/tenants', 'auth.tenants.create'],
      ['GET', `/0.1/tenants/${master}`, `auth.tenants.${master}.read`],
      ['PUT', `/0.1/tenants/${master}`, `auth.tenants.${master}.update`],
      ['DELETE', `/0.1/tenants/${master}`, `auth.tenants.${master}.delete`],
    ]) {
      const res = await api.as(nobody, method, url, method === 'POST' || method === 'PUT' ? { name: 'x' } : undefined);
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json().details.required_access).toBe(access);
    }
  });

  it('creates a tree, reads, lists (the subtree), updates; 404 for unknown or foreign tenants', async () => {
    const created = await api.as(admin, 'POST', '/0.1/tenants', { name: 'Acme Corp', domain_names: ['acme.example.com'] });
    expect(created.statusCode, created.body).toBe(200);
    const acme = created.json();
    expect(acme).toMatchObject({ name: 'Acme Corp', slug: 'Acme_Corp', parent_uuid: master, domain_names: ['acme.example.com'] });

    const sub = (
      await api.as(admin, 'POST', '/0.1/tenants', { name: 'Acme sales', slug: 'acme_sales', parent_uuid: acme.uuid })
    ).json();
    expect(sub).toMatchObject({ slug: 'acme_sales', parent_uuid: acme.uuid });
    expect((await api.as(admin, 'GET', `/0.1/tenants/${sub.uuid}`)).json()).toEqual(sub);

    const all = (await api.as(admin, 'GET', '/0.1/tenants?order=name')).json();
    expect(all.items.map((x: { uuid: string }) => x.uuid)).toEqual(expect.arrayContaining([master, acme.uuid, sub.uuid]));
    const underAcme = (
      await api.as(admin, 'GET', '/0.1/tenants?search=acme&order=slug&direction=desc', undefined, { 'wazo-tenant': acme.uuid })
    ).json();
    expect(underAcme).toMatchObject({ total: 2, filtered: 2 });
    expect(underAcme.items.map((x: { slug: string }) => x.slug)).toEqual(['acme_sales', 'Acme_Corp']);
    expect((await api.as(admin, 'GET', '/0.1/tenants?order=parent')).json().error_id).toBe('invalid-list-param');
    expect((await api.as(admin, 'GET', '/0.1/tenants?limit=-1')).statusCode).toBe(400);

    const updated = await api.as(admin, 'PUT', `/0.1/tenants/${sub.uuid}`, { name: 'Acme Sales EU', domain_names: [] });
    expect(updated.statusCode, updated.body).toBe(200);
    expect(updated.json()).toMatchObject({ name: 'Acme Sales EU', slug: 'acme_sales', domain_names: [] });

    for (const id of [UNKNOWN_UUID, 'not-a-uuid', 'x'.repeat(64)]) {
      const res = await api.as(admin, 'GET', `/0.1/tenants/${id}`);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ error_id: 'unknown-tenant', resource: 'tenants' });
    }
    // From inside acme, master is not visible.
    expect((await api.as(admin, 'GET', `/0.1/tenants/${master}`, undefined, { 'wazo-tenant': acme.uuid })).statusCode).toBe(404);
  });

  it('refuses duplicates with 409 naming the field, and bad bodies with 400', async () => {
    await api.as(admin, 'POST', '/0.1/tenants', { name: 'Dup', slug: 'dup_slug' });
    const dup = await api.as(admin, 'POST', '/0.1/tenants', { name: 'Dup 2', slug: 'dup_slug' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ error_id: 'conflict', details: { slug: {} }, resource: 'tenants' });
    // A derived slug that is taken gets a suffix instead.
    const again = await api.as(admin, 'POST', '/0.1/tenants', { name: 'dup slug' });
    expect(again.statusCode).toBe(200);
    expect(again.json().slug).toMatch(/^dup_slug_[0-9a-f]{6}$/);
    for (const body of [
      [],
      { name: 5 },
      { name: 'a\u0000b' },
      { slug: 'has-dash' },
      { slug: 'x'.repeat(81) },
      { parent_uuid: 'nope' },
      { domain_names: ['bad domain'] },
      { uuid: 'abc' },
    ]) {
      const res = await api.as(admin, 'POST', '/0.1/tenants', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error_id).toBe('invalid-data');
    }
    const orphan = await api.as(admin, 'POST', '/0.1/tenants', { name: 'orphan', parent_uuid: UNKNOWN_UUID });
    expect(orphan.statusCode).toBe(400);
    expect(orphan.json().details).toHaveProperty('parent_uuid');
  });

  it("scopes with Wazo-Tenant: a tenant outside the caller's tree is 401 unauthorized-tenant", async () => {
    const a = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'scope a' })).json();
    const b = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'scope b' })).json();
    const aAdminPolicy = (
      await api.as(admin, 'POST', '/0.1/policies', { name: 'tenant admin', acl: ['auth.#'] }, { 'wazo-tenant': a.uuid })
    ).json();
    const aAdmin = await api.createUser(admin, 'scope-a-admin', 'scope-a-password', a.uuid);
    expect(
      (await api.as(admin, 'PUT', `/0.1/users/${aAdmin}/policies/${aAdminPolicy.uuid}`, undefined, { 'wazo-tenant': a.uuid }))
        .statusCode,
    ).toBe(204);
    const token = await api.login('scope-a-admin', 'scope-a-password');

    const mine = (await api.as(token, 'GET', '/0.1/tenants')).json();
    expect(mine.items.map((x: { uuid: string }) => x.uuid)).toEqual([a.uuid]);
    const foreign = await api.as(token, 'GET', '/0.1/tenants', undefined, { 'wazo-tenant': b.uuid });
    expect(foreign.statusCode).toBe(401);
    expect(foreign.json().error_id).toBe('unauthorized-tenant');
    expect((await api.as(token, 'GET', `/0.1/tenants/${b.uuid}`)).statusCode).toBe(404);
    expect((await api.as(token, 'POST', '/0.1/tenants', { name: 'escape', parent_uuid: b.uuid })).statusCode).toBe(400);
    const child = await api.as(token, 'POST', '/0.1/tenants', { name: 'a child' });
    expect(child.json().parent_uuid).toBe(a.uuid);
    // Its own tenant cannot be deleted.
    const own = await api.as(token, 'DELETE', `/0.1/tenants/${a.uuid}`);
    expect(own.statusCode).toBe(403);
    expect(own.json().error_id).toBe('forbidden');
  });

  it('refuses to delete the top tenant or a tenant with children; deleting removes users and revokes their tokens', async () => {
    expect((await api.as(admin, 'DELETE', `/0.1/tenants/${master}`)).statusCode).toBe(403);
    const parent = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'doomed parent' })).json();
    const child = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'doomed child', parent_uuid: parent.uuid })).json();
    const withChildren = await api.as(admin, 'DELETE', `/0.1/tenants/${parent.uuid}`);
    expect(withChildren.statusCode).toBe(409);
    expect(withChildren.json()).toMatchObject({ error_id: 'conflict', details: { uuid: { constraint_id: 'has-sub-tenants' } } });

    const userUuid = await api.createUser(admin, 'doomed-user', 'doomed-password', child.uuid);
    const userToken = await api.login('doomed-user', 'doomed-password');
    expect((await api.as(null, 'HEAD', `/0.1/token/${userToken}`)).statusCode).toBe(204);

    expect((await api.as(admin, 'DELETE', `/0.1/tenants/${child.uuid}`)).statusCode).toBe(204);
    expect((await api.as(null, 'HEAD', `/0.1/token/${userToken}`)).statusCode).toBe(404);
    expect((await api.as(admin, 'GET', `/0.1/users/${userUuid}`)).statusCode).toBe(404);
    expect((await api.as(admin, 'GET', `/0.1/tenants/${child.uuid}`)).statusCode).toBe(404);
    expect((await api.as(admin, 'DELETE', `/0.1/tenants/${child.uuid}`)).statusCode).toBe(404);
    expect((await api.as(admin, 'DELETE', `/0.1/tenants/${parent.uuid}`)).statusCode).toBe(204);
  });

  it('lists users of sub-tenants with recurse=true only', async () => {
    const top = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'recurse top' })).json();
    const below = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'recurse below', parent_uuid: top.uuid })).json();
    await api.createUser(admin, 'recurse-top-user', 'password-1', top.uuid);
    await api.createUser(admin, 'recurse-below-user', 'password-2', below.uuid);
    const flat = (await api.as(admin, 'GET', '/0.1/users', undefined, { 'wazo-tenant': top.uuid })).json();
    expect(flat.items.map((u: { username: string }) => u.username)).toEqual(['recurse-top-user']);
    const deep = (await api.as(admin, 'GET', '/0.1/users?recurse=true', undefined, { 'wazo-tenant': top.uuid })).json();
    expect(deep.items.map((u: { username: string }) => u.username)).toEqual(['recurse-below-user', 'recurse-top-user']);
    expect((await api.as(admin, 'GET', '/0.1/users?recurse=maybe')).json().error_id).toBe('invalid-list-param');
  });

  it("checks tokens against the tree: the token's tenant and its descendants, never others", async () => {
    const home = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'token home' })).json();
    const below = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'token below', parent_uuid: home.uuid })).json();
    const beside = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'token beside' })).json();
    await api.createUser(admin, 'token-home-user', 'home-password', home.uuid);
    const token = await api.login('token-home-user', 'home-password');
    expect((await api.as(null, 'HEAD', `/0.1/token/${token}?tenant=${home.uuid}`)).statusCode).toBe(204);
    expect((await api.as(null, 'HEAD', `/0.1/token/${token}?tenant=${below.uuid}`)).statusCode).toBe(204);
    expect((await api.as(null, 'GET', `/0.1/token/${token}?tenant=${below.uuid}`)).statusCode).toBe(200);
    expect((await api.as(null, 'HEAD', `/0.1/token/${token}?tenant=${beside.uuid}`)).statusCode).toBe(403);
    expect((await api.as(null, 'HEAD', `/0.1/token/${token}?tenant=${master}`)).statusCode).toBe(403);
    const check = await api.as(null, 'POST', `/0.1/token/${token}/scopes/check`, { scopes: ['x'], tenant_uuid: below.uuid });
    expect(check.statusCode).toBe(200);
    expect(
      (await api.as(null, 'POST', `/0.1/token/${token}/scopes/check`, { scopes: ['x'], tenant_uuid: beside.uuid })).statusCode,
    ).toBe(403);
  });

  it('documents every IAM endpoint in the OpenAPI document', async () => {
    const doc = (await api.as(null, 'GET', '/0.1/api/api.yml')).body;
    for (const path of [
      '/0.1/tenants:',
      '/0.1/tenants/{tenant_uuid}:',
      '/0.1/policies:',
      '/0.1/policies/{policy_uuid}:',
      '/0.1/policies/{policy_uuid}/acl/{access}:',
      '/0.1/groups:',
      '/0.1/groups/{group_uuid}:',
      '/0.1/groups/{group_uuid}/users:',
      '/0.1/groups/{group_uuid}/users/{user_uuid}:',
      '/0.1/groups/{group_uuid}/policies:',
      '/0.1/groups/{group_uuid}/policies/{policy_uuid}:',
      '/0.1/users/{user_uuid}/policies:',
      '/0.1/users/{user_uuid}/policies/{policy_uuid}:',
      '/0.1/users/{user_uuid}/groups:',
      '/0.1/sessions:',
      '/0.1/sessions/{session_uuid}:',
      '/0.1/users/{user_uuid}/sessions:',
      '/0.1/users/{user_uuid}/sessions/{session_uuid}:',
    ])
      expect(doc, path).toContain(path);
  });
});
