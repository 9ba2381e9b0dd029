// The policies API (API.md §4): CRUD, ACL entries, shared policies,
// read-only configuration policies and user links, on both engines.
import { beforeAll, describe, expect, it } from 'vitest';
import { iamApi, UNKNOWN_UUID } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';

describe.each(ENGINES)('policies API on %s', (engine) => {
  let t: TestService;
  let admin: string;
  const api = iamApi(() => t);

  beforeAll(async () => {
    t = await startTestService(engine, { default_policies: { operators: { name: 'Operators', acl: ['confd.#'] } } as never });
    admin = await api.adminToken();
  });

  it('refuses calls without a token or without the access', async () => {
    expect((await api.as(null, 'GET', '/0.1/policies')).json().details.required_access).toBe('auth.policies.read');
    await api.createUser(admin, 'policy-nobody', 'nobody-password');
    const nobody = await api.login('policy-nobody', 'nobody-password');
    for (const [method, url, access] of [
      ['GET', '/0.1/policies', 'auth.policies.read'],
      ['POST', '/0.1/policies', 'auth.policies.create'],
      ['GET', `/0.1/policies/${UNKNOWN_UUID}`, `auth.policies.${UNKNOWN_UUID}.read`],
      ['PUT', `/0.1/policies/${UNKNOWN_UUID}`, `auth.policies.${UNKNOWN_UUID}.update`],
      ['DELETE', `/0.1/policies/${UNKNOWN_UUID}`, `auth.policies.${UNKNOWN_UUID}.delete`],
      ['PUT', `/0.1/policies/${UNKNOWN_UUID}/acl/a.b`, `auth.policies.${UNKNOWN_UUID}.update`],
      ['DELETE', `/0.1/policies/${UNKNOWN_UUID}/acl/a.b`, `auth.policies.${UNKNOWN_UUID}.update`],
      ['GET', `/0.1/users/${UNKNOWN_UUID}/policies`, `auth.users.${UNKNOWN_UUID}.policies.read`],
      [
        'PUT',
        `/0.1/users/${UNKNOWN_UUID}/policies/${UNKNOWN_UUID}`,
        `auth.users.${UNKNOWN_UUID}.policies.${UNKNOWN_UUID}.create`,
      ],
      [
        'DELETE',
        `/0.1/users/${UNKNOWN_UUID}/policies/${UNKNOWN_UUID}`,
        `auth.users.${UNKNOWN_UUID}.policies.${UNKNOWN_UUID}.delete`,
      ],
    ]) {
      const res = await api.as(nobody, method, url, method === 'POST' || method === 'PUT' ? { name: 'x' } : undefined);
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json()).toMatchObject({ error_id: 'unauthorized', details: { required_access: access } });
    }
  });

  it('creates, reads, lists, updates and deletes a policy', async () => {
    const created = await api.as(admin, 'POST', '/0.1/policies', {
      name: 'Call center',
      description: 'agents',
      acl: ['confd.users.me.read', 'calld.#'],
    });
    expect(created.statusCode, created.body).toBe(200);
    const p = created.json();
    expect(p).toMatchObject({
      name: 'Call center',
      slug: 'Call_center',
      description: 'agents',
      acl: ['confd.users.me.read', 'calld.#'],
      shared: false,
      read_only: false,
    });
    expect((await api.as(admin, 'GET', `/0.1/policies/${p.uuid}`)).json()).toEqual(p);

    const list = (await api.as(admin, 'GET', '/0.1/policies?search=CALL&order=name&direction=asc')).json();
    expect(list.filtered).toBe(1);
    expect(list.items[0].uuid).toBe(p.uuid);
    expect(list.total).toBeGreaterThanOrEqual(3);
    expect((await api.as(admin, 'GET', '/0.1/policies?order=acl')).json().error_id).toBe('invalid-list-param');
    expect((await api.as(admin, 'GET', '/0.1/policies?offset=x')).json().error_id).toBe('invalid-list-param');

    const updated = await api.as(admin, 'PUT', `/0.1/policies/${p.uuid}`, {
      name: 'Call centre',
      acl: ['calld.#'],
      shared: true,
    });
    expect(updated.statusCode, updated.body).toBe(200);
    expect(updated.json()).toMatchObject({
      name: 'Call centre',
      slug: 'Call_center',
      description: null,
      acl: ['calld.#'],
      shared: true,
    });

    expect((await api.as(admin, 'PUT', `/0.1/policies/${p.uuid}/acl/${encodeURIComponent('foo.#')}`)).statusCode).toBe(204);
    expect((await api.as(admin, 'PUT', `/0.1/policies/${p.uuid}/acl/foo.bar`)).statusCode).toBe(204);
    expect((await api.as(admin, 'PUT', `/0.1/policies/${p.uuid}/acl/foo.bar`)).statusCode).toBe(204);
    expect((await api.as(admin, 'GET', `/0.1/policies/${p.uuid}`)).json().acl).toEqual(['calld.#', 'foo.#', 'foo.bar']);
    expect((await api.as(admin, 'DELETE', `/0.1/policies/${p.uuid}/acl/${encodeURIComponent('foo.#')}`)).statusCode).toBe(204);
    expect((await api.as(admin, 'DELETE', `/0.1/policies/${p.uuid}/acl/not.there`)).statusCode).toBe(204);
    expect((await api.as(admin, 'GET', `/0.1/policies/${p.uuid}`)).json().acl).toEqual(['calld.#', 'foo.bar']);

    expect((await api.as(admin, 'DELETE', `/0.1/policies/${p.uuid}`)).statusCode).toBe(204);
    const gone = await api.as(admin, 'GET', `/0.1/policies/${p.uuid}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ error_id: 'unknown-policy', resource: 'policies' });
    for (const [method, url] of [
      ['PUT', `/0.1/policies/${p.uuid}`],
      ['DELETE', `/0.1/policies/${p.uuid}`],
      ['PUT', `/0.1/policies/${p.uuid}/acl/a`],
      ['GET', '/0.1/policies/not-a-uuid'],
    ]) {
      expect(
        (await api.as(admin, method, url, method === 'PUT' ? { name: 'x' } : undefined)).statusCode,
        `${method} ${url}`,
      ).toBe(404);
    }
  });

  it('refuses duplicate slugs with 409 and bad bodies with 400', async () => {
    await api.as(admin, 'POST', '/0.1/policies', { name: 'Same', slug: 'same_slug' });
    const dup = await api.as(admin, 'POST', '/0.1/policies', { name: 'Other', slug: 'same_slug' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ error_id: 'conflict', details: { slug: {} } });
    for (const body of [
      {},
      [],
      { name: '' },
      { name: 'a\u0000' },
      { name: 'x', acl: 'a.b' },
      { name: 'x', acl: [5] },
      { name: 'x', acl: ['a\u0000'] },
      { name: 'x', acl: [''] },
      { name: 'x', shared: 'yes' },
      { name: 'x', slug: 'a b' },
    ]) {
      const res = await api.as(admin, 'POST', '/0.1/policies', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error_id).toBe('invalid-data');
    }
    expect((await api.as(admin, 'PUT', `/0.1/policies/${UNKNOWN_UUID}/acl/${encodeURIComponent('a\u0000')}`)).statusCode).toBe(
      400,
    );
  });

  it('keeps configuration and bootstrap policies read-only (403)', async () => {
    const list = (await api.as(admin, 'GET', '/0.1/policies?search=operators')).json();
    const operators = list.items[0];
    expect(operators).toMatchObject({ slug: 'operators', read_only: true, acl: ['confd.#'] });
    for (const [method, url] of [
      ['PUT', `/0.1/policies/${operators.uuid}`],
      ['DELETE', `/0.1/policies/${operators.uuid}`],
      ['PUT', `/0.1/policies/${operators.uuid}/acl/x.y`],
      ['DELETE', `/0.1/policies/${operators.uuid}/acl/${encodeURIComponent('confd.#')}`],
    ]) {
      const res = await api.as(
        admin,
        method,
        url,
        method === 'PUT' && !url.includes('/acl/') ? { name: 'hacked', acl: [] } : undefined,
      );
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json()).toMatchObject({ error_id: 'forbidden', resource: 'policies' });
    }
    expect((await api.as(admin, 'GET', `/0.1/policies/${operators.uuid}`)).json().acl).toEqual(['confd.#']);
  });

  it('shows shared policies to sub-tenants (linkable, not editable) and hides private ones', async () => {
    const sub = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'policy sub' })).json();
    const shared = (await api.as(admin, 'POST', '/0.1/policies', { name: 'Shared one', acl: ['s.1'], shared: true })).json();
    const priv = (await api.as(admin, 'POST', '/0.1/policies', { name: 'Private one', acl: ['p.1'] })).json();
    const inSub = (
      await api.as(admin, 'POST', '/0.1/policies', { name: 'Sub one', acl: ['x.1'] }, { 'wazo-tenant': sub.uuid })
    ).json();
    expect(inSub.tenant_uuid).toBe(sub.uuid);
    const seen = (await api.as(admin, 'GET', '/0.1/policies', undefined, { 'wazo-tenant': sub.uuid })).json();
    const uuids = seen.items.map((p: { uuid: string }) => p.uuid);
    expect(uuids).toEqual(expect.arrayContaining([shared.uuid, inSub.uuid]));
    expect(uuids).not.toContain(priv.uuid);
    expect((await api.as(admin, 'GET', `/0.1/policies/${priv.uuid}`, undefined, { 'wazo-tenant': sub.uuid })).statusCode).toBe(
      404,
    );
    expect(
      (await api.as(admin, 'PUT', `/0.1/policies/${shared.uuid}`, { name: 'x' }, { 'wazo-tenant': sub.uuid })).statusCode,
    ).toBe(403);
    // recurse widens the master list to the sub-tenant's policies.
    const flat = (await api.as(admin, 'GET', '/0.1/policies')).json().items.map((p: { uuid: string }) => p.uuid);
    const deep = (await api.as(admin, 'GET', '/0.1/policies?recurse=true')).json().items.map((p: { uuid: string }) => p.uuid);
    expect(flat).not.toContain(inSub.uuid);
    expect(deep).toContain(inSub.uuid);

    const userUuid = await api.createUser(admin, 'sub-policy-user', 'sub-password', sub.uuid);
    const subHeaders = { 'wazo-tenant': sub.uuid };
    expect((await api.as(admin, 'PUT', `/0.1/users/${userUuid}/policies/${shared.uuid}`, undefined, subHeaders)).statusCode).toBe(
      204,
    );
    expect((await api.as(admin, 'PUT', `/0.1/users/${userUuid}/policies/${priv.uuid}`)).statusCode).toBe(404);
  });

  it("links policies to users and lists a user's policies", async () => {
    const userUuid = await api.createUser(admin, 'linked-user', 'linked-password');
    const p1 = (await api.as(admin, 'POST', '/0.1/policies', { name: 'Link A', acl: ['a.1'] })).json();
    const p2 = (await api.as(admin, 'POST', '/0.1/policies', { name: 'Link B', acl: ['b.1'] })).json();
    for (const p of [p1, p2, p2]) {
      expect((await api.as(admin, 'PUT', `/0.1/users/${userUuid}/policies/${p.uuid}`)).statusCode).toBe(204);
    }
    const list = (await api.as(admin, 'GET', `/0.1/users/${userUuid}/policies?order=name&direction=desc`)).json();
    expect(list).toMatchObject({ total: 2, filtered: 2 });
    expect(list.items.map((p: { name: string }) => p.name)).toEqual(['Link B', 'Link A']);
    expect((await api.as(admin, 'DELETE', `/0.1/users/${userUuid}/policies/${p1.uuid}`)).statusCode).toBe(204);
    expect(
      (await api.as(admin, 'GET', `/0.1/users/${userUuid}/policies`)).json().items.map((p: { uuid: string }) => p.uuid),
    ).toEqual([p2.uuid]);

    const unknownUser = await api.as(admin, 'PUT', `/0.1/users/${UNKNOWN_UUID}/policies/${p1.uuid}`);
    expect(unknownUser.statusCode).toBe(404);
    expect(unknownUser.json().error_id).toBe('unknown-user');
    const unknownPolicy = await api.as(admin, 'PUT', `/0.1/users/${userUuid}/policies/${UNKNOWN_UUID}`);
    expect(unknownPolicy.statusCode).toBe(404);
    expect(unknownPolicy.json().error_id).toBe('unknown-policy');
    expect((await api.as(admin, 'GET', `/0.1/users/${UNKNOWN_UUID}/policies`)).statusCode).toBe(404);
    expect((await api.as(admin, 'GET', `/0.1/users/${userUuid}/policies?order=nope`)).statusCode).toBe(400);
  });
});
