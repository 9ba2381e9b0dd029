// No escalation through single sign-on (issue 23, docs/isolation.md "No
// escalation"), on both engines, over HTTP. A tenant administrator holding
// every user, idp, tenant, group and OIDC-settings access of its tenant, but
// not `calld.admin.read`, tries to take over a user of its tenant that holds
// it: by choosing how that user logs in (PUT /users, /idp), by switching the
// tenant's default method, by pointing the tenant at an IdP (OIDC, SAML) or
// an LDAP server it runs, by mapping an IdP group to a group carrying it, or
// by creating a user in a tenant whose "all users" group carries it. Each is
// refused (401 naming the access, nothing changed); the master administrator
// (#) may do each.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iamApi } from '../helpers/iam.js';
import { startSamlIdp, type TestSamlIdp } from '../helpers/saml-idp.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';

const PRIVILEGED = 'calld.admin.read';
const OIDC = {
  issuer: 'https://idp.example.test',
  client_id: 'xivo',
  client_secret: 'secret',
  callback_url: 'https://auth.example.test/0.1/oidc/callback',
};
/** What the tenant administrator holds: all of the tenant's IAM and SSO settings, and the default user policy. */
const NARROW_ACL = [
  'auth.users.#',
  'auth.idp.#',
  'auth.tenants.#',
  'auth.groups.#',
  'auth.policies.#',
  'auth.backends.oidc.#',
  'auth.backends.saml.#',
  'auth.backends.ldap.#',
];
const LDAP = { host: 'ldap.example.test', user_base_dn: 'ou=people,dc=example,dc=test', user_login_attribute: 'uid' };

/** The multipart body of POST/PUT /backends/saml (wazo-auth's form). */
function samlForm(fields: Record<string, string>, metadata?: string): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----esc-${randomBytes(8).toString('hex')}`;
  let body = '';
  for (const [k, v] of Object.entries(fields))
    body += `--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  if (metadata !== undefined) {
    body += `--${boundary}\r\ncontent-disposition: form-data; name="metadata"; filename="idp.xml"\r\ncontent-type: application/xml\r\n\r\n${metadata}\r\n`;
  }
  body += `--${boundary}--\r\n`;
  return { payload: Buffer.from(body), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

type Res = { statusCode: number; body: string; json(): { error_id: string; details: { required_access?: string } } };

describe.each(ENGINES)('no escalation through single sign-on on %s', (engine) => {
  let t: TestService;
  let master: string;
  let idp: TestSamlIdp;
  const api = iamApi(() => t);
  let seq = 0;

  const expectRefused = (res: Res) => {
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json().error_id).toBe('unauthorized');
    expect(res.json().details.required_access).toBe(PRIVILEGED);
  };
  const ok = (res: Res, code = 200) => expect(res.statusCode, res.body).toBe(code);

  /**
   * A fresh tenant with: its administrator (native, NARROW_ACL) and its
   * token; `boss`, a user holding PRIVILEGED (directly) at `bossMethod`; `pleb`,
   * a user holding nothing.
   */
  async function scene(opts: { bossMethod?: string; tenantDefault?: string } = {}) {
    const n = ++seq;
    const tenant = (
      await api.as(master, 'POST', '/0.1/tenants', {
        name: `esc ${n}`,
        domain_names: [`esc${n}.example.test`],
        default_authentication_method: opts.tenantDefault ?? 'native',
      })
    ).json().uuid as string;
    const h = { 'wazo-tenant': tenant };
    const user = async (username: string, body: Record<string, unknown> = {}) => {
      const res = await api.as(master, 'POST', '/0.1/users', { username, password: `${username}-password`, ...body }, h);
      ok(res);
      return res.json().uuid as string;
    };
    const narrowPolicy = (await api.as(master, 'POST', '/0.1/policies', { name: 'tenant admin', acl: NARROW_ACL }, h)).json()
      .uuid as string;
    const privileged = (await api.as(master, 'POST', '/0.1/policies', { name: 'privileged', acl: [PRIVILEGED] }, h)).json()
      .uuid as string;
    const adminUuid = await user(`esc-admin-${n}`, { authentication_method: 'native' });
    ok(await api.as(master, 'PUT', `/0.1/users/${adminUuid}/policies/${narrowPolicy}`, undefined, h), 204);
    const boss = await user(`esc-boss-${n}`, { authentication_method: opts.bossMethod ?? 'default' });
    ok(await api.as(master, 'PUT', `/0.1/users/${boss}/policies/${privileged}`, undefined, h), 204);
    const pleb = await user(`esc-pleb-${n}`);
    const admin = await api.login(`esc-admin-${n}`, `esc-admin-${n}-password`);
    const methodOf = async (uuid: string) =>
      (await api.as(master, 'GET', `/0.1/users/${uuid}`)).json().authentication_method as string;
    return { n, tenant, h, admin, boss, pleb, privileged, methodOf };
  }

  beforeAll(async () => {
    t = await startTestService(engine, {
      // Weighed with every user's ACL; the tenant administrator, a user too, holds it.
      default_policies: { own: { name: 'own', acl: ['auth.users.me.read', 'confd.users.me.#'] } },
      default_user_policy: 'own',
    } as never);
    master = await api.adminToken();
    idp = await startSamlIdp();
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  it("PUT /users/{u}: cannot change a privileged user's authentication method, to or from anything", async () => {
    const s = await scene();
    for (const method of ['oidc', 'saml', 'ldap', 'native']) {
      expectRefused(
        await api.as(s.admin, 'PUT', `/0.1/users/${s.boss}`, { username: `esc-boss-${s.n}`, authentication_method: method }, s.h),
      );
    }
    expect(await s.methodOf(s.boss)).toBe('default');
    // Editing anything else, the method left as it is, stays allowed.
    ok(await api.as(s.admin, 'PUT', `/0.1/users/${s.boss}`, { username: `esc-boss-${s.n}`, firstname: 'Boss' }, s.h));
    // A user it covers (no policies) may be given any method.
    ok(await api.as(s.admin, 'PUT', `/0.1/users/${s.pleb}`, { username: `esc-pleb-${s.n}`, authentication_method: 'oidc' }, s.h));
    expect(await s.methodOf(s.pleb)).toBe('oidc');
    // From oidc back: the method is weighed from whatever it was.
    const oidcBoss = await scene({ bossMethod: 'oidc' });
    expectRefused(
      await api.as(
        oidcBoss.admin,
        'PUT',
        `/0.1/users/${oidcBoss.boss}`,
        { username: `esc-boss-${oidcBoss.n}`, authentication_method: 'native' },
        oidcBoss.h,
      ),
    );
    expect(await oidcBoss.methodOf(oidcBoss.boss)).toBe('oidc');
    // The master administrator covers every user.
    ok(await api.as(master, 'PUT', `/0.1/users/${s.boss}`, { username: `esc-boss-${s.n}`, authentication_method: 'oidc' }, s.h));
    expect(await s.methodOf(s.boss)).toBe('oidc');
  });

  it("PUT /idp/{type}/users/{u} and DELETE: cannot set or reset a privileged user's method", async () => {
    const s = await scene();
    expectRefused(await api.as(s.admin, 'PUT', `/0.1/idp/oidc/users/${s.boss}`, undefined, s.h));
    expect(await s.methodOf(s.boss)).toBe('default');
    ok(await api.as(s.admin, 'PUT', `/0.1/idp/oidc/users/${s.pleb}`, undefined, s.h), 204);
    ok(await api.as(master, 'PUT', `/0.1/idp/saml/users/${s.boss}`, undefined, s.h), 204);
    expectRefused(await api.as(s.admin, 'DELETE', `/0.1/idp/saml/users/${s.boss}`, undefined, s.h));
    expect(await s.methodOf(s.boss)).toBe('saml');
    // Setting the method the user already has changes nothing: nothing to weigh.
    ok(await api.as(s.admin, 'PUT', `/0.1/idp/saml/users/${s.boss}`, undefined, s.h), 204);
    ok(await api.as(master, 'DELETE', `/0.1/idp/saml/users/${s.boss}`, undefined, s.h), 204);
    expect(await s.methodOf(s.boss)).toBe('default');
  });

  it('PUT /idp/{type}/users: one privileged user in the batch refuses it all, nothing changed', async () => {
    const s = await scene();
    const other = (await api.as(master, 'POST', '/0.1/users', { username: `esc-other-${s.n}` }, s.h)).json().uuid as string;
    expectRefused(
      await api.as(s.admin, 'PUT', '/0.1/idp/oidc/users', { users: [{ uuid: s.pleb }, { uuid: s.boss }, { uuid: other }] }, s.h),
    );
    for (const u of [s.pleb, s.boss, other]) expect(await s.methodOf(u)).toBe('default');
    ok(await api.as(s.admin, 'PUT', '/0.1/idp/oidc/users', { users: [{ uuid: s.pleb }, { uuid: other }] }, s.h), 204);
    ok(await api.as(master, 'PUT', '/0.1/idp/oidc/users', { users: [{ uuid: s.pleb }, { uuid: s.boss }] }, s.h), 204);
    for (const u of [s.pleb, s.boss, other]) expect(await s.methodOf(u)).toBe('oidc');
  });

  it('PUT /tenants/{t}: cannot switch the default method while a privileged user is left at default', async () => {
    const s = await scene();
    const put = (token: string, method: string) =>
      api.as(
        token,
        'PUT',
        `/0.1/tenants/${s.tenant}`,
        {
          name: `esc ${s.n}`,
          domain_names: [`esc${s.n}.example.test`],
          default_authentication_method: method,
        },
        s.h,
      );
    const defaultOf = async () =>
      (await api.as(master, 'GET', `/0.1/tenants/${s.tenant}`)).json().default_authentication_method as string;
    for (const method of ['oidc', 'saml', 'ldap']) expectRefused(await put(s.admin, method));
    expect(await defaultOf()).toBe('native');
    // Editing the tenant, its default kept, stays allowed.
    ok(await put(s.admin, 'native'));
    ok(await put(master, 'oidc'));
    expect(await defaultOf()).toBe('oidc');
    // Nor back, while the privileged user is at default.
    expectRefused(await put(s.admin, 'native'));
    // Once no privileged user is left at default, the tenant administrator may.
    ok(await api.as(master, 'PUT', `/0.1/idp/native/users/${s.boss}`, undefined, s.h), 204);
    ok(await put(s.admin, 'saml'));
    expect(await defaultOf()).toBe('saml');
  });

  it("PUT and DELETE /backends/oidc: refused while a privileged user logs in with oidc (its own method or the tenant's default)", async () => {
    // Its own method.
    const s = await scene({ bossMethod: 'oidc' });
    expectRefused(await api.as(s.admin, 'PUT', '/0.1/backends/oidc', OIDC, s.h));
    expect((await api.as(master, 'GET', '/0.1/backends/oidc', undefined, s.h)).statusCode).toBe(404);
    ok(await api.as(master, 'PUT', '/0.1/backends/oidc', OIDC, s.h));
    expectRefused(await api.as(s.admin, 'PUT', '/0.1/backends/oidc', { ...OIDC, issuer: 'https://mallory.example.test' }, s.h));
    expectRefused(await api.as(s.admin, 'DELETE', '/0.1/backends/oidc', undefined, s.h));
    expect((await api.as(master, 'GET', '/0.1/backends/oidc', undefined, s.h)).json().issuer).toBe(OIDC.issuer);
    // The tenant's default.
    const d = await scene({ tenantDefault: 'oidc' });
    expectRefused(await api.as(d.admin, 'PUT', '/0.1/backends/oidc', OIDC, d.h));
    ok(await api.as(master, 'PUT', '/0.1/backends/oidc', OIDC, d.h));
    ok(await api.as(master, 'DELETE', '/0.1/backends/oidc', undefined, d.h), 204);
    // No privileged oidc user (boss at saml, the tenant at native): the tenant administrator may.
    const free = await scene({ bossMethod: 'saml' });
    ok(await api.as(free.admin, 'PUT', '/0.1/backends/oidc', OIDC, free.h));
    ok(await api.as(free.admin, 'DELETE', '/0.1/backends/oidc', undefined, free.h), 204);
  });

  it('PUT /backends/oidc: cannot map an IdP group to a group whose policies it could not grant', async () => {
    const s = await scene({ bossMethod: 'native' });
    const group = async (name: string, policy?: string) => {
      const uuid = (await api.as(master, 'POST', '/0.1/groups', { name: `${name} ${s.n}` }, s.h)).json().uuid as string;
      if (policy !== undefined) ok(await api.as(master, 'PUT', `/0.1/groups/${uuid}/policies/${policy}`, undefined, s.h), 204);
      return uuid;
    };
    const admins = await group('admins', s.privileged);
    const staff = await group('staff');
    const mapped = (mapping: Record<string, string>) => ({ ...OIDC, group_claim: 'groups', group_mapping: mapping });
    expectRefused(await api.as(s.admin, 'PUT', '/0.1/backends/oidc', mapped({ staff, admins }), s.h));
    expect((await api.as(master, 'GET', '/0.1/backends/oidc', undefined, s.h)).statusCode).toBe(404);
    ok(await api.as(s.admin, 'PUT', '/0.1/backends/oidc', mapped({ staff }), s.h));
    ok(await api.as(master, 'PUT', '/0.1/backends/oidc', mapped({ staff, admins }), s.h));
    expect((await api.as(master, 'GET', '/0.1/backends/oidc', undefined, s.h)).json().group_mapping).toEqual({ staff, admins });
  });

  it("POST, PUT and DELETE /backends/saml: refused while a privileged user logs in with saml (its own method or the tenant's default)", async () => {
    const saml = (
      token: string,
      method: 'POST' | 'PUT' | 'DELETE',
      h: Record<string, string>,
      entity = 'https://auth.example.test/saml-sp',
    ) => {
      const form =
        method === 'DELETE'
          ? null
          : samlForm(
              { entity_id: entity, acs_url: 'https://auth.example.test/0.1/saml/acs' },
              method === 'POST' ? idp.metadata : undefined,
            );
      return api.inject({
        method,
        url: '/0.1/backends/saml',
        headers: { ...form?.headers, 'x-auth-token': token, ...h },
        payload: form?.payload,
      });
    };
    const entityOf = async (h: Record<string, string>) => {
      const res = await api.inject({ method: 'GET', url: '/0.1/backends/saml', headers: { 'x-auth-token': master, ...h } });
      return res.statusCode === 200 ? (res.json().entity_id as string) : res.statusCode;
    };
    const s = await scene({ bossMethod: 'saml' });
    expectRefused(await saml(s.admin, 'POST', s.h));
    expect(await entityOf(s.h)).toBe(404);
    ok(await saml(master, 'POST', s.h));
    expectRefused(await saml(s.admin, 'PUT', s.h, 'https://mallory.example.test/sp'));
    expectRefused(await saml(s.admin, 'DELETE', s.h));
    expect(await entityOf(s.h)).toBe('https://auth.example.test/saml-sp');
    // The tenant's default.
    const d = await scene({ tenantDefault: 'saml' });
    expectRefused(await saml(d.admin, 'POST', d.h));
    ok(await saml(master, 'POST', d.h));
    ok(await saml(master, 'DELETE', d.h), 204);
    // No privileged saml user: the tenant administrator may.
    const free = await scene({ bossMethod: 'oidc' });
    ok(await saml(free.admin, 'POST', free.h));
    ok(await saml(free.admin, 'PUT', free.h, 'https://auth.example.test/other-sp'));
    expect(await entityOf(free.h)).toBe('https://auth.example.test/other-sp');
    ok(await saml(free.admin, 'DELETE', free.h), 204);
  });

  it('PUT and DELETE /backends/ldap: refused while a privileged user may log in through LDAP', async () => {
    const hostOf = async (h: Record<string, string>) => {
      const res = await api.as(master, 'GET', '/0.1/backends/ldap', undefined, h);
      return res.statusCode === 200 ? (res.json().host as string) : res.statusCode;
    };
    // Its own method.
    const s = await scene({ bossMethod: 'ldap' });
    expectRefused(await api.as(s.admin, 'PUT', '/0.1/backends/ldap', LDAP, s.h));
    expect(await hostOf(s.h)).toBe(404);
    ok(await api.as(master, 'PUT', '/0.1/backends/ldap', LDAP, s.h));
    expectRefused(await api.as(s.admin, 'PUT', '/0.1/backends/ldap', { ...LDAP, host: 'mallory.example.test' }, s.h));
    expectRefused(await api.as(s.admin, 'DELETE', '/0.1/backends/ldap', undefined, s.h));
    expect(await hostOf(s.h)).toBe(LDAP.host);
    // At default in a tenant defaulting to native (the compatibility exception) or to ldap.
    for (const tenantDefault of ['native', 'ldap']) {
      const d = await scene({ tenantDefault });
      expectRefused(await api.as(d.admin, 'PUT', '/0.1/backends/ldap', LDAP, d.h));
      expect(await hostOf(d.h)).toBe(404);
    }
    // The privileged user at default in a tenant defaulting to oidc, or at native: LDAP cannot log it in.
    for (const free of [await scene({ tenantDefault: 'oidc' }), await scene({ bossMethod: 'native' })]) {
      ok(await api.as(free.admin, 'PUT', '/0.1/backends/ldap', LDAP, free.h));
      ok(await api.as(free.admin, 'DELETE', '/0.1/backends/ldap', undefined, free.h), 204);
    }
  });

  it('POST /users: refused while the tenant\'s "all users" group carries a policy it could not grant, nothing created', async () => {
    const s = await scene();
    const create = (token: string, username: string) =>
      api.as(token, 'POST', '/0.1/users', { username, password: `${username}-password` }, s.h);
    const exists = async (username: string) =>
      (await api.as(master, 'GET', `/0.1/users?search=${username}`, undefined, s.h)).json().filtered as number;
    // Nothing on the group but what the administrator may grant: allowed.
    ok(await create(s.admin, `esc-new-${s.n}`));
    const all = (await api.as(master, 'GET', '/0.1/groups?search=all-users', undefined, s.h))
      .json()
      .items.find((g: { tenant_uuid: string }) => g.tenant_uuid === s.tenant);
    ok(await api.as(master, 'PUT', `/0.1/groups/${all.uuid}/policies/${s.privileged}`, undefined, s.h), 204);
    expectRefused(await create(s.admin, `esc-newer-${s.n}`));
    expect(await exists(`esc-newer-${s.n}`)).toBe(0);
    ok(await create(master, `esc-newer-${s.n}`));
    expect(await exists(`esc-newer-${s.n}`)).toBe(1);
  });
});
