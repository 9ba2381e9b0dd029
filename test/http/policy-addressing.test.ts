// Policies named by uuid or by slug (issue 18 §2), on both engines, over HTTP:
// GET/PUT/DELETE /policies/{id}, PUT/DELETE /policies/{id}/acl/{access},
// PUT/DELETE /users/{u}/policies/{id}, PUT/DELETE /groups/{g}/policies/{id}.
// A slug resolves in the acting tenant (the caller's, or Wazo-Tenant): its
// own policy of that slug, else the nearest ancestor's shared one (as
// wazo-auth's slug routes); the required access names the slug as given.
import { beforeAll, describe, expect, it } from 'vitest';
import { iamApi } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';

describe.each(ENGINES)('policies by uuid or slug on %s', (engine) => {
  let t: TestService;
  let admin: string;
  const api = iamApi(() => t);

  const createPolicy = async (body: object, tenant?: string) => {
    const res = await api.as(admin, 'POST', '/0.1/policies', body, tenant ? { 'wazo-tenant': tenant } : {});
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { uuid: string; slug: string; tenant_uuid: string; acl: string[] };
  };
  const createTenant = async (name: string, parent?: string) => {
    const res = await api.as(admin, 'POST', '/0.1/tenants', { name, ...(parent ? { parent_uuid: parent } : {}) });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { uuid: string };
  };

  beforeAll(async () => {
    t = await startTestService(engine);
    admin = await api.adminToken();
  });

  it('reads, replaces, edits the ACL of and deletes a policy by its slug, up to 80 characters', async () => {
    const slug = `s${'x'.repeat(79)}`;
    const p = await createPolicy({ name: 'by slug', slug, acl: ['a.1'] });
    const got = await api.as(admin, 'GET', `/0.1/policies/${slug}`);
    expect(got.statusCode, got.body).toBe(200);
    expect(got.json().uuid).toBe(p.uuid);

    const put = await api.as(admin, 'PUT', `/0.1/policies/${slug}`, { name: 'by slug, renamed', acl: ['a.1', 'a.2'] });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ uuid: p.uuid, name: 'by slug, renamed', slug, acl: ['a.1', 'a.2'] });

    expect((await api.as(admin, 'PUT', `/0.1/policies/${slug}/acl/a.3`)).statusCode).toBe(204);
    expect((await api.as(admin, 'DELETE', `/0.1/policies/${slug}/acl/a.1`)).statusCode).toBe(204);
    expect((await api.as(admin, 'GET', `/0.1/policies/${p.uuid}`)).json().acl).toEqual(['a.2', 'a.3']);

    expect((await api.as(admin, 'DELETE', `/0.1/policies/${slug}`)).statusCode).toBe(204);
    const gone = await api.as(admin, 'GET', `/0.1/policies/${p.uuid}`);
    expect(gone.statusCode).toBe(404);
    const unknown = await api.as(admin, 'GET', `/0.1/policies/${slug}`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error_id: 'unknown-policy', resource: 'policies' });
  });

  it('names the slug, as given, in the required access', async () => {
    const p = await createPolicy({ name: 'acl target', slug: 'acl_target', acl: [] });
    const reader = await createPolicy({ name: 'slug reader', acl: ['auth.policies.acl_target.read'] });
    const user = await api.createUser(admin, 'slug-reader', 'slug-reader-password');
    expect((await api.as(admin, 'PUT', `/0.1/users/${user}/policies/${reader.uuid}`)).statusCode).toBe(204);
    const token = await api.login('slug-reader', 'slug-reader-password');

    expect((await api.as(token, 'GET', '/0.1/policies/acl_target')).json().uuid).toBe(p.uuid);
    // The access names what the path says: the uuid is another access.
    const byUuid = await api.as(token, 'GET', `/0.1/policies/${p.uuid}`);
    expect(byUuid.statusCode).toBe(401);
    expect(byUuid.json().details.required_access).toBe(`auth.policies.${p.uuid}.read`);
    for (const [method, url, access] of [
      ['PUT', '/0.1/policies/acl_target', 'auth.policies.acl_target.update'],
      ['DELETE', '/0.1/policies/acl_target', 'auth.policies.acl_target.delete'],
      ['PUT', '/0.1/policies/acl_target/acl/x.y', 'auth.policies.acl_target.update'],
      ['DELETE', '/0.1/policies/acl_target/acl/x.y', 'auth.policies.acl_target.update'],
      ['PUT', `/0.1/users/${user}/policies/acl_target`, `auth.users.${user}.policies.acl_target.create`],
      ['DELETE', `/0.1/users/${user}/policies/acl_target`, `auth.users.${user}.policies.acl_target.delete`],
      ['PUT', `/0.1/groups/${user}/policies/acl_target`, `auth.groups.${user}.policies.acl_target.create`],
      ['DELETE', `/0.1/groups/${user}/policies/acl_target`, `auth.groups.${user}.policies.acl_target.delete`],
    ]) {
      const res = await api.as(
        token,
        method,
        url,
        method === 'PUT' && !url.includes('/acl/') && url.startsWith('/0.1/policies') ? { name: 'x' } : undefined,
      );
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json().details.required_access, `${method} ${url}`).toBe(access);
    }
  });

  it("resolves a slug in the acting tenant: its own policy, else an ancestor's shared one, never a sub-tenant's", async () => {
    const sub = await createTenant('slug sub');
    const subSub = await createTenant('slug sub sub', sub.uuid);
    const top = await createPolicy({ name: 'top same', slug: 'same_slug', acl: ['top.1'] });
    const inSub = await createPolicy({ name: 'sub same', slug: 'same_slug', acl: ['sub.1'] }, sub.uuid);
    const shared = await createPolicy({ name: 'top shared', slug: 'shared_slug', acl: ['shared.1'], shared: true });
    await createPolicy({ name: 'top private', slug: 'private_slug', acl: ['private.1'] });
    const onlyInSub = await createPolicy({ name: 'only in sub', slug: 'only_in_sub', acl: [] }, sub.uuid);
    const asSub = { 'wazo-tenant': sub.uuid };
    const asSubSub = { 'wazo-tenant': subSub.uuid };

    expect((await api.as(admin, 'GET', '/0.1/policies/same_slug')).json().uuid).toBe(top.uuid);
    expect((await api.as(admin, 'GET', '/0.1/policies/same_slug', undefined, asSub)).json().uuid).toBe(inSub.uuid);
    // Below sub: sub's same_slug is not shared, the top one neither.
    expect((await api.as(admin, 'GET', '/0.1/policies/same_slug', undefined, asSubSub)).statusCode).toBe(404);
    // A shared policy of an ancestor, two levels up.
    expect((await api.as(admin, 'GET', '/0.1/policies/shared_slug', undefined, asSubSub)).json().uuid).toBe(shared.uuid);
    expect((await api.as(admin, 'GET', '/0.1/policies/private_slug', undefined, asSub)).statusCode).toBe(404);
    // A slug names nothing below the acting tenant (by uuid, the subtree is visible).
    expect((await api.as(admin, 'GET', '/0.1/policies/only_in_sub')).statusCode).toBe(404);
    expect((await api.as(admin, 'GET', `/0.1/policies/${onlyInSub.uuid}`)).statusCode).toBe(200);

    // Edits by slug act on the resolved policy only.
    expect((await api.as(admin, 'PUT', '/0.1/policies/same_slug/acl/sub.2', undefined, asSub)).statusCode).toBe(204);
    expect((await api.as(admin, 'GET', `/0.1/policies/${inSub.uuid}`)).json().acl).toEqual(['sub.1', 'sub.2']);
    expect((await api.as(admin, 'GET', `/0.1/policies/${top.uuid}`)).json().acl).toEqual(['top.1']);
    // An ancestor's shared policy resolves, but stays its owner's to change.
    const edit = await api.as(admin, 'PUT', '/0.1/policies/shared_slug', { name: 'hijack' }, asSub);
    expect(edit.statusCode).toBe(403);
    expect((await api.as(admin, 'DELETE', '/0.1/policies/shared_slug', undefined, asSub)).statusCode).toBe(403);
    expect((await api.as(admin, 'PUT', '/0.1/policies/shared_slug/acl/more.1', undefined, asSub)).statusCode).toBe(403);
  });

  it('links and unlinks a policy to a user and to a group by slug', async () => {
    const sub = await createTenant('slug links');
    const own = await createPolicy({ name: 'linked by slug', slug: 'link_me', acl: ['link.1'] }, sub.uuid);
    const shared = await createPolicy({ name: 'shared by slug', slug: 'shared_link', acl: ['shared.link'], shared: true });
    const asSub = { 'wazo-tenant': sub.uuid };
    const user = await api.createUser(admin, 'slug-linked-user', 'slug-linked-password', sub.uuid);
    const group = (await api.as(admin, 'POST', '/0.1/groups', { name: 'slug linked group' }, asSub)).json().uuid as string;

    const userPolicies = async () =>
      (await api.as(admin, 'GET', `/0.1/users/${user}/policies`, undefined, asSub))
        .json()
        .items.map((p: { uuid: string }) => p.uuid)
        .sort();
    const groupPolicies = async () =>
      (await api.as(admin, 'GET', `/0.1/groups/${group}/policies`, undefined, asSub))
        .json()
        .items.map((p: { uuid: string }) => p.uuid)
        .sort();

    expect((await api.as(admin, 'PUT', `/0.1/users/${user}/policies/link_me`, undefined, asSub)).statusCode).toBe(204);
    expect((await api.as(admin, 'PUT', `/0.1/users/${user}/policies/shared_link`, undefined, asSub)).statusCode).toBe(204);
    expect(await userPolicies()).toEqual([own.uuid, shared.uuid].sort());
    expect((await api.as(admin, 'PUT', `/0.1/groups/${group}/policies/link_me`, undefined, asSub)).statusCode).toBe(204);
    expect((await api.as(admin, 'PUT', `/0.1/groups/${group}/policies/shared_link`, undefined, asSub)).statusCode).toBe(204);
    expect(await groupPolicies()).toEqual([own.uuid, shared.uuid].sort());
    // The user's token gets them.
    const token = await api.login('slug-linked-user', 'slug-linked-password');
    expect((await api.as(null, 'GET', `/0.1/token/${token}`)).json().data.acl).toEqual(
      expect.arrayContaining(['link.1', 'shared.link']),
    );

    // From the top tenant, link_me names nothing (it is sub's): 404, nothing linked or unlinked.
    expect((await api.as(admin, 'DELETE', `/0.1/users/${user}/policies/link_me`)).statusCode).toBe(404);
    expect((await api.as(admin, 'DELETE', `/0.1/groups/${group}/policies/link_me`)).statusCode).toBe(404);
    expect(await userPolicies()).toHaveLength(2);

    expect((await api.as(admin, 'DELETE', `/0.1/users/${user}/policies/link_me`, undefined, asSub)).statusCode).toBe(204);
    expect((await api.as(admin, 'DELETE', `/0.1/groups/${group}/policies/shared_link`, undefined, asSub)).statusCode).toBe(204);
    expect(await userPolicies()).toEqual([shared.uuid]);
    expect(await groupPolicies()).toEqual([own.uuid]);
    expect((await api.as(admin, 'PUT', `/0.1/users/${user}/policies/no_such_slug`, undefined, asSub)).statusCode).toBe(404);
    expect((await api.as(admin, 'PUT', `/0.1/groups/${group}/policies/no_such_slug`, undefined, asSub)).statusCode).toBe(404);
  });

  it('still refuses to link by slug what the caller does not hold', async () => {
    const strong = await createPolicy({ name: 'strong by slug', slug: 'strong_slug', acl: ['confd.#'] });
    const linker = await createPolicy({ name: 'slug linker', acl: ['auth.#'] });
    const linkerUser = await api.createUser(admin, 'slug-linker', 'slug-linker-password');
    expect((await api.as(admin, 'PUT', `/0.1/users/${linkerUser}/policies/${linker.uuid}`)).statusCode).toBe(204);
    const token = await api.login('slug-linker', 'slug-linker-password');
    const res = await api.as(token, 'PUT', `/0.1/users/${linkerUser}/policies/strong_slug`);
    expect(res.statusCode).toBe(401);
    expect(res.json().details.required_access).toBe('confd.#');
    expect(strong.uuid).toBeTruthy();
  });

  it('documents the policy id as a uuid or a slug in the OpenAPI document', async () => {
    const doc = (await api.as(null, 'GET', '/0.1/api/api.yml')).body;
    expect(doc).toContain('or its slug');
  });
});
