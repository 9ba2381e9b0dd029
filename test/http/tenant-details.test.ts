// Tenants (issue 18 §2), on both engines, over HTTP: contact, phone, address
// and default_authentication_method; GET /tenants/{t}/domains; re-parenting
// with PUT /tenants/{t}/parent/{p}, refused when it would make a cycle or
// leave the caller's subtree, and seen at once by the token checks.
import { beforeAll, describe, expect, it } from 'vitest';
import { domainUuid } from '../../src/identity/tenants.js';
import { iamApi, UNKNOWN_UUID } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';

const EMPTY_ADDRESS = { line_1: null, line_2: null, city: null, state: null, country: null, zip_code: null };

describe.each(ENGINES)('tenant details, domains and parent on %s', (engine) => {
  let t: TestService;
  let admin: string;
  let master: string;
  const api = iamApi(() => t);

  const createTenant = async (body: object, token = admin) => {
    const res = await api.as(token, 'POST', '/0.1/tenants', body);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { uuid: string; parent_uuid: string };
  };
  /** A user of `tenant` whose policy grants `acl` there; returns its token. */
  const tenantAdmin = async (tenant: string, username: string, acl = ['auth.#']) => {
    const headers = { 'wazo-tenant': tenant };
    const policy = (await api.as(admin, 'POST', '/0.1/policies', { name: `${username} policy`, acl }, headers)).json();
    const user = await api.createUser(admin, username, `${username}-password`, tenant);
    expect((await api.as(admin, 'PUT', `/0.1/users/${user}/policies/${policy.uuid}`, undefined, headers)).statusCode).toBe(204);
    return api.login(username, `${username}-password`);
  };

  beforeAll(async () => {
    t = await startTestService(engine);
    admin = await api.adminToken();
    master = (await api.as(null, 'GET', `/0.1/token/${admin}`)).json().data.metadata.tenant_uuid;
  });

  describe('contact, phone, address, default_authentication_method', () => {
    it('are native and empty on tenants that never had them (the top tenant, a tenant created without)', async () => {
      const top = (await api.as(admin, 'GET', `/0.1/tenants/${master}`)).json();
      expect(top).toMatchObject({ contact: null, phone: null, address: EMPTY_ADDRESS, default_authentication_method: 'native' });
      const plain = await createTenant({ name: 'plain details' });
      expect(plain).toMatchObject({
        contact: null,
        phone: null,
        address: EMPTY_ADDRESS,
        default_authentication_method: 'native',
      });
    });

    it('are stored at creation, read back, listed, and replaced by PUT (absent: null, native)', async () => {
      const contact = await api.createUser(admin, 'details-contact', 'details-contact-password');
      const created = await createTenant({
        name: 'detailed',
        contact,
        phone: '+1 555 0100',
        default_authentication_method: 'ldap',
        address: { line_1: '1 Main St', line_2: 'Suite 2', city: 'Quebec', state: 'QC', country: 'Canada', zip_code: 'G1A 0A1' },
      });
      const expected = {
        contact,
        phone: '+1 555 0100',
        default_authentication_method: 'ldap',
        address: { line_1: '1 Main St', line_2: 'Suite 2', city: 'Quebec', state: 'QC', country: 'Canada', zip_code: 'G1A 0A1' },
      };
      expect(created).toMatchObject(expected);
      expect((await api.as(admin, 'GET', `/0.1/tenants/${created.uuid}`)).json()).toMatchObject(expected);
      const listed = (await api.as(admin, 'GET', '/0.1/tenants?search=detailed')).json();
      expect(listed.items).toEqual([expect.objectContaining(expected)]);

      const saml = await api.as(admin, 'PUT', `/0.1/tenants/${created.uuid}`, {
        name: 'detailed',
        default_authentication_method: 'saml',
        address: { city: 'Montreal' },
      });
      expect(saml.statusCode, saml.body).toBe(200);
      expect(saml.json()).toMatchObject({
        contact: null,
        phone: null,
        default_authentication_method: 'saml',
        address: { ...EMPTY_ADDRESS, city: 'Montreal' },
      });
      const bare = (await api.as(admin, 'PUT', `/0.1/tenants/${created.uuid}`, { name: 'detailed' })).json();
      expect(bare).toMatchObject({ contact: null, phone: null, address: EMPTY_ADDRESS, default_authentication_method: 'native' });
    });

    it('refuses bad values with 400 naming the field, and a contact the caller cannot see', async () => {
      for (const [body, field] of [
        [{ default_authentication_method: 'kerberos' }, 'default_authentication_method'],
        [{ default_authentication_method: null }, 'default_authentication_method'],
        [{ phone: '' }, 'phone'],
        [{ phone: 'x'.repeat(33) }, 'phone'],
        [{ phone: 'a\u0000b' }, 'phone'],
        [{ address: { zip_code: 'x'.repeat(17) } }, 'address'],
        [{ address: { city: 5 } }, 'address'],
        [{ address: null }, 'address'],
        [{ contact: 'not-a-uuid' }, 'contact'],
      ] as const) {
        const res = await api.as(admin, 'POST', '/0.1/tenants', { name: 'bad details', ...body });
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(res.json().error_id).toBe('invalid-data');
        expect(JSON.stringify(res.json().details), JSON.stringify(body)).toContain(field);
      }
      // A field that may be null says what is wrong with the value, not that it matched no branch of the union.
      const long = await api.as(admin, 'POST', '/0.1/tenants', { name: 'long phone', phone: 'x'.repeat(33) });
      expect(long.json().details.phone).toMatchObject({ constraint_id: 'maxLength' });
      const unknown = await api.as(admin, 'POST', '/0.1/tenants', { name: 'unknown contact', contact: UNKNOWN_UUID });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json()).toMatchObject({ error_id: 'invalid-data', details: { contact: { constraint_id: 'exists' } } });

      // A tenant administrator cannot name a user of another tenant (its existence stays hidden).
      const home = await createTenant({ name: 'contact home' });
      const beside = await createTenant({ name: 'contact beside' });
      const outsider = await api.createUser(admin, 'contact-outsider', 'contact-outsider-password', beside.uuid);
      const homeAdmin = await tenantAdmin(home.uuid, 'contact-home-admin');
      const refused = await api.as(homeAdmin, 'POST', '/0.1/tenants', { name: 'with outsider', contact: outsider });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().details).toHaveProperty('contact');
      expect(
        (await api.as(homeAdmin, 'PUT', `/0.1/tenants/${home.uuid}`, { name: 'contact home', contact: outsider })).statusCode,
      ).toBe(400);
      const insider = await api.createUser(admin, 'contact-insider', 'contact-insider-password', home.uuid);
      const ok = await api.as(homeAdmin, 'PUT', `/0.1/tenants/${home.uuid}`, { name: 'contact home', contact: insider });
      expect(ok.statusCode, ok.body).toBe(200);
      expect(ok.json().contact).toBe(insider);
    });

    it('forgets the contact when its user is deleted', async () => {
      const contact = await api.createUser(admin, 'doomed-contact', 'doomed-contact-password');
      const tenant = await createTenant({ name: 'doomed contact', contact });
      expect((await api.as(admin, 'DELETE', `/0.1/users/${contact}`)).statusCode).toBe(204);
      expect((await api.as(admin, 'GET', `/0.1/tenants/${tenant.uuid}`)).json().contact).toBeNull();
    });
  });

  describe('GET /tenants/{uuid}/domains', () => {
    it('lists the domain names as {uuid, name}, with auth.tenants.{uuid}.domains.read', async () => {
      const tenant = await createTenant({ name: 'domains', domain_names: ['b.domains.example', 'A.Domains.Example'] });
      const res = await api.as(admin, 'GET', `/0.1/tenants/${tenant.uuid}/domains`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({
        total: 2,
        items: [
          { uuid: domainUuid('b.domains.example'), name: 'b.domains.example' },
          { uuid: domainUuid('a.domains.example'), name: 'a.domains.example' },
        ],
      });
      const [first] = res.json().items;
      expect(first.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      // A name keeps its uuid while the tenant keeps it.
      await api.as(admin, 'PUT', `/0.1/tenants/${tenant.uuid}`, { name: 'domains', domain_names: ['b.domains.example'] });
      expect((await api.as(admin, 'GET', `/0.1/tenants/${tenant.uuid}/domains`)).json()).toEqual({ total: 1, items: [first] });
      const none = await createTenant({ name: 'no domains' });
      expect((await api.as(admin, 'GET', `/0.1/tenants/${none.uuid}/domains`)).json()).toEqual({ total: 0, items: [] });

      expect((await api.as(admin, 'GET', `/0.1/tenants/${UNKNOWN_UUID}/domains`)).statusCode).toBe(404);
      const nobody = await tenantAdmin(none.uuid, 'domains-reader', ['auth.tenants.read']);
      const denied = await api.as(nobody, 'GET', `/0.1/tenants/${none.uuid}/domains`);
      expect(denied.statusCode).toBe(401);
      expect(denied.json().details.required_access).toBe(`auth.tenants.${none.uuid}.domains.read`);
      // Another tenant's domains are not there for a tenant administrator.
      const noneAdmin = await tenantAdmin(none.uuid, 'domains-admin');
      const foreign = await api.as(noneAdmin, 'GET', `/0.1/tenants/${tenant.uuid}/domains`);
      expect(foreign.statusCode).toBe(404);
      expect(foreign.json().error_id).toBe('unknown-tenant');
    });
  });

  describe('PUT /tenants/{uuid}/parent/{parent_uuid}', () => {
    it('moves a tenant with its subtree; refuses cycles, the top tenant, unknown tenants; names both in the access', async () => {
      const a = await createTenant({ name: 'move a' });
      const b = await createTenant({ name: 'move b' });
      const x = await createTenant({ name: 'move x', parent_uuid: a.uuid });
      const xChild = await createTenant({ name: 'move x child', parent_uuid: x.uuid });

      const moved = await api.as(admin, 'PUT', `/0.1/tenants/${x.uuid}/parent/${b.uuid}`);
      expect(moved.statusCode, moved.body).toBe(204);
      expect((await api.as(admin, 'GET', `/0.1/tenants/${x.uuid}`)).json().parent_uuid).toBe(b.uuid);
      const underB = (await api.as(admin, 'GET', '/0.1/tenants', undefined, { 'wazo-tenant': b.uuid })).json();
      expect(underB.items.map((i: { uuid: string }) => i.uuid).sort()).toEqual([b.uuid, x.uuid, xChild.uuid].sort());
      const underA = (await api.as(admin, 'GET', '/0.1/tenants', undefined, { 'wazo-tenant': a.uuid })).json();
      expect(underA.items.map((i: { uuid: string }) => i.uuid)).toEqual([a.uuid]);
      // Moving to the parent it has is a no-op.
      expect((await api.as(admin, 'PUT', `/0.1/tenants/${x.uuid}/parent/${b.uuid}`)).statusCode).toBe(204);

      for (const parent of [x.uuid, xChild.uuid]) {
        const cycle = await api.as(admin, 'PUT', `/0.1/tenants/${x.uuid}/parent/${parent}`);
        expect(cycle.statusCode, parent).toBe(400);
        expect(cycle.json()).toMatchObject({
          error_id: 'invalid-data',
          details: { parent_uuid: { constraint_id: 'not_descendant' } },
        });
      }
      const top = await api.as(admin, 'PUT', `/0.1/tenants/${master}/parent/${a.uuid}`);
      expect(top.statusCode).toBe(403);
      expect((await api.as(admin, 'PUT', `/0.1/tenants/${UNKNOWN_UUID}/parent/${a.uuid}`)).statusCode).toBe(404);
      const noParent = await api.as(admin, 'PUT', `/0.1/tenants/${x.uuid}/parent/${UNKNOWN_UUID}`);
      expect(noParent.statusCode).toBe(404);
      expect(noParent.json().error_id).toBe('unknown-tenant');
      expect((await api.as(admin, 'GET', `/0.1/tenants/${x.uuid}`)).json().parent_uuid).toBe(b.uuid);

      const reader = await tenantAdmin(a.uuid, 'move-reader', ['auth.tenants.read']);
      const denied = await api.as(reader, 'PUT', `/0.1/tenants/${x.uuid}/parent/${a.uuid}`);
      expect(denied.statusCode).toBe(401);
      expect(denied.json().details.required_access).toBe(`auth.tenants.${x.uuid}.parent.${a.uuid}.update`);
    });

    it('keeps a tenant administrator inside its subtree', async () => {
      const home = await createTenant({ name: 'admin home' });
      const left = await createTenant({ name: 'admin left', parent_uuid: home.uuid });
      const right = await createTenant({ name: 'admin right', parent_uuid: home.uuid });
      const beside = await createTenant({ name: 'admin beside' });
      const homeAdmin = await tenantAdmin(home.uuid, 'move-home-admin');

      // Inside its subtree: allowed.
      expect((await api.as(homeAdmin, 'PUT', `/0.1/tenants/${right.uuid}/parent/${left.uuid}`)).statusCode).toBe(204);
      expect((await api.as(homeAdmin, 'PUT', `/0.1/tenants/${right.uuid}/parent/${home.uuid}`)).statusCode).toBe(204);
      // Out of it, or bringing a foreign tenant in: the other tenant does not exist for it.
      for (const [tenant, parent] of [
        [left.uuid, beside.uuid],
        [beside.uuid, home.uuid],
        [left.uuid, master],
      ]) {
        const res = await api.as(homeAdmin, 'PUT', `/0.1/tenants/${tenant}/parent/${parent}`);
        expect(res.statusCode, `${tenant} → ${parent}`).toBe(404);
        expect(res.json().error_id).toBe('unknown-tenant');
      }
      // Its own tenant, anywhere.
      const own = await api.as(homeAdmin, 'PUT', `/0.1/tenants/${home.uuid}/parent/${left.uuid}`);
      expect(own.statusCode).toBe(403);
      // Acting on a sub-tenant (Wazo-Tenant), the subtree is that one's.
      const fromLeft = await api.as(homeAdmin, 'PUT', `/0.1/tenants/${right.uuid}/parent/${left.uuid}`, undefined, {
        'wazo-tenant': left.uuid,
      });
      expect(fromLeft.statusCode).toBe(404);
      expect((await api.as(admin, 'GET', `/0.1/tenants/${left.uuid}`)).json().parent_uuid).toBe(home.uuid);
      expect((await api.as(admin, 'GET', `/0.1/tenants/${beside.uuid}`)).json().parent_uuid).toBe(master);
    });

    it('is seen at once by token checks, Wazo-Tenant and listings', async () => {
      const a = await createTenant({ name: 'seen a' });
      const b = await createTenant({ name: 'seen b' });
      const x = await createTenant({ name: 'seen x', parent_uuid: a.uuid });
      await api.createUser(admin, 'seen-b-user', 'seen-b-password', b.uuid);
      const bToken = await api.login('seen-b-user', 'seen-b-password');
      const aAdmin = await tenantAdmin(a.uuid, 'seen-a-admin');
      // Remembered by the tree: x is below a, not below b.
      expect((await api.as(null, 'HEAD', `/0.1/token/${bToken}?tenant=${x.uuid}`)).statusCode).toBe(403);
      expect(
        (await api.as(null, 'POST', `/0.1/token/${bToken}/scopes/check`, { scopes: ['x'], tenant_uuid: x.uuid })).statusCode,
      ).toBe(403);
      expect((await api.as(aAdmin, 'GET', '/0.1/users', undefined, { 'wazo-tenant': x.uuid })).statusCode).toBe(200);

      expect((await api.as(admin, 'PUT', `/0.1/tenants/${x.uuid}/parent/${b.uuid}`)).statusCode).toBe(204);

      expect((await api.as(null, 'HEAD', `/0.1/token/${bToken}?tenant=${x.uuid}`)).statusCode).toBe(204);
      expect(
        (await api.as(null, 'POST', `/0.1/token/${bToken}/scopes/check`, { scopes: ['x'], tenant_uuid: x.uuid })).statusCode,
      ).toBe(200);
      const lost = await api.as(aAdmin, 'GET', '/0.1/users', undefined, { 'wazo-tenant': x.uuid });
      expect(lost.statusCode).toBe(401);
      expect(lost.json().error_id).toBe('unauthorized-tenant');
      expect((await api.as(aAdmin, 'GET', `/0.1/tenants/${x.uuid}`)).statusCode).toBe(404);
    });

    it('is refused (409) while the subtree is linked to policies of the tenants it would leave', async () => {
      const a = await createTenant({ name: 'linked a' });
      const b = await createTenant({ name: 'linked b' });
      const x = await createTenant({ name: 'linked x', parent_uuid: a.uuid });
      const xChild = await createTenant({ name: 'linked x child', parent_uuid: x.uuid });
      const shared = (
        await api.as(
          admin,
          'POST',
          '/0.1/policies',
          { name: 'a shared', acl: ['a.shared'], shared: true },
          { 'wazo-tenant': a.uuid },
        )
      ).json();
      const topShared = (
        await api.as(admin, 'POST', '/0.1/policies', { name: 'top shared for move', acl: ['top.shared'], shared: true })
      ).json();
      const user = await api.createUser(admin, 'linked-x-user', 'linked-x-password', xChild.uuid);
      const asChild = { 'wazo-tenant': xChild.uuid };
      const group = (await api.as(admin, 'POST', '/0.1/groups', { name: 'linked x group' }, asChild)).json().uuid as string;
      expect((await api.as(admin, 'PUT', `/0.1/users/${user}/policies/${shared.uuid}`, undefined, asChild)).statusCode).toBe(204);
      expect((await api.as(admin, 'PUT', `/0.1/groups/${group}/policies/${shared.uuid}`, undefined, asChild)).statusCode).toBe(
        204,
      );
      // The top tenant stays above wherever x goes: its shared policies do not hold x back.
      expect((await api.as(admin, 'PUT', `/0.1/users/${user}/policies/${topShared.uuid}`, undefined, asChild)).statusCode).toBe(
        204,
      );

      const refused = await api.as(admin, 'PUT', `/0.1/tenants/${x.uuid}/parent/${b.uuid}`);
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toMatchObject({
        error_id: 'conflict',
        resource: 'tenants',
        details: {
          parent_uuid: {
            constraint_id: 'policies_in_use',
            policies: [shared.uuid],
            users: [{ uuid: user, tenant_uuid: xChild.uuid }],
            groups: [{ uuid: group, tenant_uuid: xChild.uuid }],
          },
        },
      });
      expect((await api.as(admin, 'GET', `/0.1/tenants/${x.uuid}`)).json().parent_uuid).toBe(a.uuid);
      // Moving within a's subtree keeps a above: allowed.
      const inA = await createTenant({ name: 'linked in a', parent_uuid: a.uuid });
      expect((await api.as(admin, 'PUT', `/0.1/tenants/${x.uuid}/parent/${inA.uuid}`)).statusCode).toBe(204);

      expect((await api.as(admin, 'DELETE', `/0.1/users/${user}/policies/${shared.uuid}`, undefined, asChild)).statusCode).toBe(
        204,
      );
      expect((await api.as(admin, 'DELETE', `/0.1/groups/${group}/policies/${shared.uuid}`, undefined, asChild)).statusCode).toBe(
        204,
      );
      expect((await api.as(admin, 'PUT', `/0.1/tenants/${x.uuid}/parent/${b.uuid}`)).statusCode).toBe(204);
    });
  });

  it('documents the new endpoints and fields in the OpenAPI document', async () => {
    const doc = (await api.as(null, 'GET', '/0.1/api/api.yml')).body;
    for (const text of [
      '/0.1/tenants/{tenant_uuid}/domains:',
      '/0.1/tenants/{tenant_uuid}/parent/{parent_tenant_uuid}:',
      'default_authentication_method',
      'zip_code',
    ]) {
      expect(doc, text).toContain(text);
    }
  });
});
