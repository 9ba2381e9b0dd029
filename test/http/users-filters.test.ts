// Issue 18 §2 (users): the filters of GET /users, as wazo-auth's (policy_uuid,
// policy_slug: linked directly; has_policy_uuid, has_policy_slug: directly or
// through a group; group_uuid, purpose, email_address, and the exact uuid,
// username, firstname, lastname), combined with search, recurse, order and
// pages; `total` counts the scope, `filtered` what matches. Both engines.
import { beforeAll, describe, expect, it } from 'vitest';
import { iamApi } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';

describe.each(ENGINES)('GET /users filters on %s', (engine) => {
  let t: TestService;
  let admin: string;
  let scope: string;
  let sub: string;
  const api = iamApi(() => t);
  const uuids: Record<string, string> = {};
  let direct: { uuid: string; slug: string };
  let viaGroup: { uuid: string; slug: string };
  let group: string;

  /** The list as the admin, in the test tenant (Wazo-Tenant). */
  const list = async (query: string) => {
    const res = await api.as(admin, 'GET', `/0.1/users?${query}`, undefined, { 'wazo-tenant': scope });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { total: number; filtered: number; items: { username: string }[] };
    return { total: body.total, filtered: body.filtered, names: body.items.map((u) => u.username) };
  };

  beforeAll(async () => {
    t = await startTestService(engine);
    admin = await api.adminToken();
    scope = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'filters' })).json().uuid;
    sub = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'filters_sub', parent_uuid: scope })).json().uuid;
    const create = async (body: Record<string, unknown>, tenant = scope) => {
      const res = await api.as(admin, 'POST', '/0.1/users', body, { 'wazo-tenant': tenant });
      expect(res.statusCode, res.body).toBe(200);
      uuids[body.username as string] = res.json().uuid;
    };
    await create({ username: 'anna', firstname: 'Anna', lastname: 'Ant', email_address: 'anna@filters.example' });
    await create({ username: 'boris', firstname: 'Boris', lastname: 'Bear', purpose: 'external_api' });
    await create({
      username: 'carla',
      firstname: 'Carla',
      lastname: 'Cat',
      email_address: 'carla@filters.example',
      purpose: 'internal',
    });
    await create({ username: 'dmitri', firstname: 'Dmitri', lastname: 'Dog' });
    await create({ username: 'elsa', firstname: 'Elsa', lastname: 'Eel', email_address: 'elsa@filters.example' }, sub);
    // A second, unconfirmed address of dmitri's: found by email_address and search.
    await api.as(admin, 'PUT', `/0.1/admin/users/${uuids.dmitri}/emails`, {
      emails: [
        { address: 'dmitri@filters.example', main: true, confirmed: true },
        { address: 'Second.Dmitri@Other.example', confirmed: false },
      ],
    });

    const policy = async (name: string, tenant: string) =>
      (await api.as(admin, 'POST', '/0.1/policies', { name, acl: ['confd.#'] }, { 'wazo-tenant': tenant })).json() as {
        uuid: string;
        slug: string;
      };
    direct = await policy('filters direct', scope);
    viaGroup = await policy('filters via group', scope);
    // Another tenant's policy with the same slug as `direct`: a slug filter matches policies of any tenant.
    const twin = (
      await api.as(
        admin,
        'POST',
        '/0.1/policies',
        { name: 'filters direct', slug: direct.slug, acl: ['confd.#'] },
        { 'wazo-tenant': sub },
      )
    ).json();
    group = (await api.as(admin, 'POST', '/0.1/groups', { name: 'filters group' }, { 'wazo-tenant': scope })).json().uuid;
    const ok = async (res: Promise<{ statusCode: number; body: string }>) => {
      const r = await res;
      expect(r.statusCode, r.body).toBe(204);
    };
    const inScope = { 'wazo-tenant': scope };
    await ok(api.as(admin, 'PUT', `/0.1/users/${uuids.anna}/policies/${direct.uuid}`, undefined, inScope));
    await ok(api.as(admin, 'PUT', `/0.1/groups/${group}/policies/${viaGroup.uuid}`, undefined, inScope));
    await ok(api.as(admin, 'PUT', `/0.1/groups/${group}/users/${uuids.boris}`, undefined, inScope));
    await ok(api.as(admin, 'PUT', `/0.1/groups/${group}/users/${uuids.carla}`, undefined, inScope));
    // carla also holds `viaGroup` directly.
    await ok(api.as(admin, 'PUT', `/0.1/users/${uuids.carla}/policies/${viaGroup.uuid}`, undefined, inScope));
    await ok(api.as(admin, 'PUT', `/0.1/users/${uuids.elsa}/policies/${twin.uuid}`, undefined, { 'wazo-tenant': sub }));
  });

  it('policy_uuid and policy_slug: users linked to the policy directly, not through a group', async () => {
    expect(await list(`policy_uuid=${direct.uuid}`)).toEqual({ total: 4, filtered: 1, names: ['anna'] });
    expect(await list(`policy_slug=${direct.slug}`)).toEqual({ total: 4, filtered: 1, names: ['anna'] });
    expect(await list(`policy_uuid=${viaGroup.uuid}`)).toEqual({ total: 4, filtered: 1, names: ['carla'] });
    expect(await list(`policy_slug=${direct.slug}&recurse=true`)).toEqual({ total: 5, filtered: 2, names: ['anna', 'elsa'] });
    expect(await list('policy_uuid=00000000-0000-4000-8000-000000000000')).toEqual({ total: 4, filtered: 0, names: [] });
  });

  it('has_policy_uuid and has_policy_slug: directly or through a group, each user once', async () => {
    expect(await list(`has_policy_uuid=${viaGroup.uuid}`)).toEqual({ total: 4, filtered: 2, names: ['boris', 'carla'] });
    expect(await list(`has_policy_slug=${viaGroup.slug}`)).toEqual({ total: 4, filtered: 2, names: ['boris', 'carla'] });
    expect(await list(`has_policy_uuid=${direct.uuid}`)).toEqual({ total: 4, filtered: 1, names: ['anna'] });
  });

  it('group_uuid, purpose, email_address (any address, any case), and exact uuid, username, firstname, lastname', async () => {
    expect(await list(`group_uuid=${group}`)).toEqual({ total: 4, filtered: 2, names: ['boris', 'carla'] });
    expect(await list('purpose=internal')).toEqual({ total: 4, filtered: 1, names: ['carla'] });
    expect(await list('purpose=nobody')).toEqual({ total: 4, filtered: 0, names: [] });
    expect(await list('email_address=CARLA@filters.example')).toEqual({ total: 4, filtered: 1, names: ['carla'] });
    expect(await list(`email_address=${encodeURIComponent('second.dmitri@other.example')}`)).toEqual({
      total: 4,
      filtered: 1,
      names: ['dmitri'],
    });
    expect(await list('email_address=filters.example')).toEqual({ total: 4, filtered: 0, names: [] });
    expect(await list(`uuid=${uuids.boris}`)).toEqual({ total: 4, filtered: 1, names: ['boris'] });
    expect(await list('username=ANNA')).toEqual({ total: 4, filtered: 1, names: ['anna'] });
    expect(await list('username=ann')).toEqual({ total: 4, filtered: 0, names: [] });
    expect(await list('firstname=Dmitri')).toEqual({ total: 4, filtered: 1, names: ['dmitri'] });
    expect(await list('lastname=Bear')).toEqual({ total: 4, filtered: 1, names: ['boris'] });
  });

  it('combines filters with each other, with search (every address), recurse, order and pages', async () => {
    expect(await list(`group_uuid=${group}&purpose=internal`)).toEqual({ total: 4, filtered: 1, names: ['carla'] });
    expect(await list(`has_policy_uuid=${viaGroup.uuid}&search=bor`)).toEqual({ total: 4, filtered: 1, names: ['boris'] });
    // search looks at every address of the user, unconfirmed ones included.
    expect(await list('search=other.example')).toEqual({ total: 4, filtered: 1, names: ['dmitri'] });
    expect(await list('search=filters.example&recurse=true')).toEqual({
      total: 5,
      filtered: 4,
      names: ['anna', 'carla', 'dmitri', 'elsa'],
    });
    expect(await list('search=filters.example&recurse=true&order=username&direction=desc&limit=2&offset=1')).toEqual({
      total: 5,
      filtered: 4,
      names: ['dmitri', 'carla'],
    });
    expect(await list(`has_policy_slug=${viaGroup.slug}&order=lastname&direction=desc`)).toEqual({
      total: 4,
      filtered: 2,
      names: ['carla', 'boris'],
    });
    // Ordered by the main address (users without one last).
    expect(await list('order=email_address')).toEqual({ total: 4, filtered: 4, names: ['anna', 'carla', 'dmitri', 'boris'] });
    expect(await list('order=email_address&direction=desc&purpose=user')).toEqual({
      total: 4,
      filtered: 2,
      names: ['dmitri', 'anna'],
    });
  });

  it('refuses malformed filter values with 400', async () => {
    for (const query of ['policy_uuid=a%00b', `purpose=${'x'.repeat(40)}`, 'group_uuid=a&group_uuid=b']) {
      const res = await api.as(admin, 'GET', `/0.1/users?${query}`, undefined, { 'wazo-tenant': scope });
      expect(res.statusCode, query).toBe(400);
    }
  });
});
