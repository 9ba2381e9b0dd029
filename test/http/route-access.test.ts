// The required access of every protected route, as wazo-auth names it
// (wazo-auth-reference.md §4; `{x}` = the path parameter with its dots
// turned into `_`), over real HTTP on both engines. For each route: a token
// lacking the access is refused with 401 naming it in
// details.required_access, and a token granting exactly that access gets
// past the guard. PUT /users/{uuid}/password requires `...password.update`,
// also granted by an ACL's `edit` segment (`...password.edit`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iamApi, UNKNOWN_UUID } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';

const U = UNKNOWN_UUID;
const S = '00000000-0000-4000-8000-0000000000a1';
const G = '00000000-0000-4000-8000-0000000000b2';
const P = '00000000-0000-4000-8000-0000000000c3';
const T = '00000000-0000-4000-8000-0000000000d4';
const E = '00000000-0000-4000-8000-0000000000e5';

/** [method, path, body, required access] */
type Row = [string, string, unknown, string];

// Bodies are valid: validation runs before the access check.
const ROUTES: Row[] = [
  // refresh tokens
  ['GET', '/0.1/tokens', undefined, 'auth.tokens.read'],
  ['GET', '/0.1/users/me/tokens', undefined, 'auth.users.me.tokens.read'],
  ['GET', `/0.1/users/${U}/tokens`, undefined, `auth.users.${U}.tokens.read`],
  ['DELETE', '/0.1/users/me/tokens/my.app', undefined, 'auth.users.me.tokens.my_app.delete'],
  ['DELETE', `/0.1/users/${U}/tokens/my.app`, undefined, `auth.users.${U}.tokens.my_app.delete`],
  // sessions
  ['GET', '/0.1/sessions', undefined, 'auth.sessions.read'],
  ['DELETE', `/0.1/sessions/${S}`, undefined, `auth.sessions.${S}.delete`],
  ['GET', `/0.1/users/${U}/sessions`, undefined, `auth.users.${U}.sessions.read`],
  ['DELETE', `/0.1/users/${U}/sessions/${S}`, undefined, `auth.users.${U}.sessions.${S}.delete`],
  // users
  ['GET', '/0.1/users', undefined, 'auth.users.read'],
  ['POST', '/0.1/users', { username: 'route-access-new', password: 'route-access-password' }, 'auth.users.create'],
  ['GET', `/0.1/users/${U}`, undefined, `auth.users.${U}.read`],
  ['PUT', `/0.1/users/${U}`, { username: 'route-access-renamed' }, `auth.users.${U}.update`],
  ['DELETE', `/0.1/users/${U}`, undefined, `auth.users.${U}.delete`],
  [
    'PUT',
    `/0.1/users/${U}/password`,
    { old_password: 'old-password-1', new_password: 'new-password-1' },
    `auth.users.${U}.password.update`,
  ],
  ['GET', `/0.1/users/${U}/groups`, undefined, `auth.users.${U}.groups.read`],
  ['GET', `/0.1/users/${U}/policies`, undefined, `auth.users.${U}.policies.read`],
  ['PUT', `/0.1/users/${U}/policies/${P}`, undefined, `auth.users.${U}.policies.${P}.create`],
  ['DELETE', `/0.1/users/${U}/policies/${P}`, undefined, `auth.users.${U}.policies.${P}.delete`],
  // groups
  ['GET', '/0.1/groups', undefined, 'auth.groups.read'],
  ['POST', '/0.1/groups', { name: 'route access group' }, 'auth.groups.create'],
  ['GET', `/0.1/groups/${G}`, undefined, `auth.groups.${G}.read`],
  ['PUT', `/0.1/groups/${G}`, { name: 'route access group 2' }, `auth.groups.${G}.update`],
  ['DELETE', `/0.1/groups/${G}`, undefined, `auth.groups.${G}.delete`],
  ['GET', `/0.1/groups/${G}/users`, undefined, `auth.groups.${G}.users.read`],
  ['PUT', `/0.1/groups/${G}/users/${U}`, undefined, `auth.groups.${G}.users.${U}.create`],
  ['DELETE', `/0.1/groups/${G}/users/${U}`, undefined, `auth.groups.${G}.users.${U}.delete`],
  ['GET', `/0.1/groups/${G}/policies`, undefined, `auth.groups.${G}.policies.read`],
  ['PUT', `/0.1/groups/${G}/policies/${P}`, undefined, `auth.groups.${G}.policies.${P}.create`],
  ['DELETE', `/0.1/groups/${G}/policies/${P}`, undefined, `auth.groups.${G}.policies.${P}.delete`],
  // policies
  ['GET', '/0.1/policies', undefined, 'auth.policies.read'],
  ['POST', '/0.1/policies', { name: 'route access policy' }, 'auth.policies.create'],
  ['GET', `/0.1/policies/${P}`, undefined, `auth.policies.${P}.read`],
  ['PUT', `/0.1/policies/${P}`, { name: 'route access policy 2' }, `auth.policies.${P}.update`],
  ['DELETE', `/0.1/policies/${P}`, undefined, `auth.policies.${P}.delete`],
  ['PUT', `/0.1/policies/${P}/acl/confd.users.read`, undefined, `auth.policies.${P}.update`],
  ['DELETE', `/0.1/policies/${P}/acl/confd.users.read`, undefined, `auth.policies.${P}.update`],
  // tenants
  ['GET', '/0.1/tenants', undefined, 'auth.tenants.read'],
  ['POST', '/0.1/tenants', { name: 'route access tenant' }, 'auth.tenants.create'],
  ['GET', `/0.1/tenants/${T}`, undefined, `auth.tenants.${T}.read`],
  ['PUT', `/0.1/tenants/${T}`, { name: 'route access tenant 2' }, `auth.tenants.${T}.update`],
  ['DELETE', `/0.1/tenants/${T}`, undefined, `auth.tenants.${T}.delete`],
  // LDAP configuration, running configuration
  ['GET', '/0.1/backends/ldap', undefined, 'auth.backends.ldap.read'],
  [
    'PUT',
    '/0.1/backends/ldap',
    { host: 'ldap.example.com', user_base_dn: 'ou=people,dc=example,dc=com', user_login_attribute: 'uid' },
    'auth.backends.ldap.update',
  ],
  ['DELETE', '/0.1/backends/ldap', undefined, 'auth.backends.ldap.delete'],
  // single sign-on (issue 23): authentication methods and the OIDC relying party
  ['GET', '/0.1/idp', undefined, 'auth.idp.read'],
  ['PUT', '/0.1/idp/oidc/users', { users: [{ uuid: U }] }, 'auth.idp.oidc.users.update'],
  ['PUT', `/0.1/idp/saml/users/${U}`, undefined, `auth.idp.saml.users.${U}.create`],
  ['DELETE', `/0.1/idp/saml/users/${U}`, undefined, `auth.idp.saml.users.${U}.delete`],
  ['GET', '/0.1/backends/oidc', undefined, 'auth.backends.oidc.read'],
  [
    'PUT',
    '/0.1/backends/oidc',
    { issuer: 'https://idp.example.com', client_id: 'c', callback_url: 'https://auth.example.com/0.1/oidc/callback' },
    'auth.backends.oidc.update',
  ],
  ['DELETE', '/0.1/backends/oidc', undefined, 'auth.backends.oidc.delete'],
  // the SAML service provider (a JSON body: refused after the guard, nothing stored)
  ['GET', '/0.1/backends/saml', undefined, 'auth.backends.saml.read'],
  ['POST', '/0.1/backends/saml', {}, 'auth.backends.saml.create'],
  ['PUT', '/0.1/backends/saml', {}, 'auth.backends.saml.update'],
  ['DELETE', '/0.1/backends/saml', undefined, 'auth.backends.saml.delete'],
  ['GET', '/0.1/backends/saml/metadata', undefined, 'auth.backends.saml.read'],
  ['GET', '/0.1/backends/saml/acs_url_template', undefined, 'auth.backends.saml.read'],
  ['GET', '/0.1/backends/saml/sp_metadata', undefined, 'auth.backends.saml.read'],
  ['GET', '/0.1/config', undefined, 'auth.config.read'],
  ['PATCH', '/0.1/config', [{ op: 'replace', path: '/debug', value: false }], 'auth.config.update'],
  // multi-factor authentication (issue 24)
  ['GET', `/0.1/users/${U}/mfa`, undefined, `auth.users.${U}.mfa.read`],
  ['GET', '/0.1/users/me/mfa', undefined, 'auth.users.me.mfa.read'],
  ['POST', `/0.1/users/${U}/mfa/totp`, {}, `auth.users.${U}.mfa.totp.create`],
  ['PUT', `/0.1/users/${U}/mfa/totp/${S}/confirm`, { code: '123456' }, `auth.users.${U}.mfa.totp.${S}.confirm.update`],
  ['POST', `/0.1/users/${U}/mfa/recovery_codes`, undefined, `auth.users.${U}.mfa.recovery_codes.create`],
  ['DELETE', `/0.1/users/${U}/mfa/${S}`, undefined, `auth.users.${U}.mfa.${S}.delete`],
  ['POST', `/0.1/users/${U}/mfa/webauthn/registration/options`, undefined, `auth.users.${U}.mfa.webauthn.options.create`],
  ['POST', `/0.1/users/${U}/mfa/webauthn/registration`, { response: {} }, `auth.users.${U}.mfa.webauthn.create`],
  ['GET', `/0.1/tenants/${T}/mfa`, undefined, `auth.tenants.${T}.mfa.read`],
  ['PUT', `/0.1/tenants/${T}/mfa`, { required_for: { acl: ['confd.#'], purposes: [] } }, `auth.tenants.${T}.mfa.update`],
  // external accounts (bodies with no write-only field: nothing to seal, no key file written)
  ['GET', '/0.1/external/mobile/config', undefined, 'auth.mobile.external.config.read'],
  ['POST', '/0.1/external/mobile/config', { fcm_sender_id: '1234' }, 'auth.mobile.external.config.create'],
  ['PUT', '/0.1/external/mobile/config', { fcm_sender_id: '1234' }, 'auth.mobile.external.config.update'],
  ['DELETE', '/0.1/external/google/config', undefined, 'auth.google.external.config.delete'],
  ['GET', '/0.1/external/microsoft/users', undefined, 'auth.microsoft.external.users.read'],
  ['GET', `/0.1/users/${U}/external`, undefined, `auth.users.${U}.external.read`],
  ['POST', `/0.1/users/${U}/external/mobile`, { token: 'push-token' }, `auth.users.${U}.external.mobile.create`],
  ['GET', `/0.1/users/${U}/external/mobile`, undefined, `auth.users.${U}.external.mobile.read`],
  ['PUT', `/0.1/users/${U}/external/mobile`, { token: 'push-token' }, `auth.users.${U}.external.mobile.update`],
  ['DELETE', `/0.1/users/${U}/external/mobile`, undefined, `auth.users.${U}.external.mobile.delete`],
  ['GET', `/0.1/users/${U}/external/mobile/sender_id`, undefined, `auth.users.${U}.external.mobile.sender_id.read`],
  ['GET', '/0.1/users/me/external/mobile', undefined, 'auth.users.me.external.mobile.read'],
  ['DELETE', '/0.1/users/me/external/mobile', undefined, 'auth.users.me.external.mobile.delete'],
  ['GET', '/0.1/users/me/external/mobile/sender_id', undefined, 'auth.users.me.external.mobile.sender_id.read'],
  ['POST', `/0.1/users/${U}/external/google`, {}, `auth.users.${U}.external.google.create`],
  ['GET', `/0.1/users/${U}/external/google`, undefined, `auth.users.${U}.external.google.read`],
  ['DELETE', `/0.1/users/${U}/external/google`, undefined, `auth.users.${U}.external.google.delete`],
  ['POST', `/0.1/users/${U}/external/microsoft`, { scope: ['Contacts.Read'] }, `auth.users.${U}.external.microsoft.create`],
  ['GET', `/0.1/users/${U}/external/microsoft`, undefined, `auth.users.${U}.external.microsoft.read`],
  ['DELETE', `/0.1/users/${U}/external/microsoft`, undefined, `auth.users.${U}.external.microsoft.delete`],
  // self-service accounts (issue 21): the emailed tokens' routes take X-Auth-Token or ?token=
  ['GET', `/0.1/users/${U}/emails/${E}/confirm`, undefined, `auth.users.${U}.emails.${E}.confirm.read`],
  ['GET', `/0.1/emails/${E}/confirm`, undefined, `auth.emails.${E}.confirm.update`],
  ['PUT', `/0.1/emails/${E}/confirm`, undefined, `auth.emails.${E}.confirm.update`],
  [
    'POST',
    `/0.1/users/password/reset?user_uuid=${U}`,
    { password: 'route-access-new-password' },
    `auth.users.password.reset.${U}.create`,
  ],
  // xivo-auth's own
  ['GET', '/0.1/audit', undefined, 'auth.audit.read'],
  // login throttling (issue 25)
  ['GET', '/0.1/security/throttles', undefined, 'auth.security.throttles.read'],
  ['DELETE', '/0.1/security/throttles/p:0000', undefined, 'auth.security.throttles.delete'],
];

describe.each(ENGINES)('required access of every route on %s', (engine) => {
  let t: TestService;
  const api = iamApi(() => t);
  let admin: string;
  let nobody: string;
  let proberUuid: string;
  let probePolicy: string;

  /** A fresh token of `prober` whose ACL is exactly `acl`. */
  async function proberWith(acl: string[]): Promise<string> {
    const res = await api.as(admin, 'PUT', `/0.1/policies/${probePolicy}`, { name: 'probe', acl });
    expect(res.statusCode, res.body).toBe(200);
    return api.login('prober', 'prober-password');
  }

  beforeAll(async () => {
    t = await startTestService(engine, { max_user_concurrent_sessions: 1000 });
    admin = await api.adminToken();
    await api.createUser(admin, 'nobody', 'nobody-password');
    nobody = await api.login('nobody', 'nobody-password');
    proberUuid = await api.createUser(admin, 'prober', 'prober-password');
    probePolicy = (await api.as(admin, 'POST', '/0.1/policies', { name: 'probe', acl: [] })).json().uuid;
    expect((await api.as(admin, 'PUT', `/0.1/users/${proberUuid}/policies/${probePolicy}`)).statusCode).toBe(204);
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each(ROUTES)('%s %s requires the access wazo-auth names', async (method, path, body, access) => {
    const withoutToken = await api.as(null, method, path, body);
    expect(withoutToken.statusCode, withoutToken.body).toBe(401);
    expect(withoutToken.json().details).toMatchObject({ reason: 'not_found_or_expired', required_access: access });

    const denied = await api.as(nobody, method, path, body);
    expect(denied.statusCode, denied.body).toBe(401);
    expect(denied.json()).toMatchObject({
      error_id: 'unauthorized',
      details: { reason: 'missing_permission_or_invalid_tenant', required_access: access },
    });

    // Exactly that access gets past the guard (whatever the route answers next).
    const granted = await api.as(await proberWith([access]), method, path, body);
    if (granted.statusCode === 401) expect(granted.json().details?.required_access, granted.body).not.toBe(access);
  });

  describe('PUT /users/{uuid}/password', () => {
    const change = (token: string, uuid: string, oldPassword: string, newPassword: string) =>
      api.as(token, 'PUT', `/0.1/users/${uuid}/password`, { old_password: oldPassword, new_password: newPassword });

    it('is granted by ...password.update, and by ...password.edit through the edit alias', async () => {
      const uuid = await api.createUser(admin, 'changer', 'changer-password-0');
      const policy = (
        await api.as(admin, 'POST', '/0.1/policies', { name: 'changer', acl: [`auth.users.${uuid}.password.update`] })
      ).json().uuid;
      expect((await api.as(admin, 'PUT', `/0.1/users/${uuid}/policies/${policy}`)).statusCode).toBe(204);

      let token = await api.login('changer', 'changer-password-0');
      expect((await change(token, uuid, 'changer-password-0', 'changer-password-1')).statusCode).toBe(204);

      for (const [i, acl] of [
        [2, `auth.users.${uuid}.password.edit`],
        [3, 'auth.users.me.password.edit'],
        [4, 'auth.users.*.password.edit'],
      ] as const) {
        expect((await api.as(admin, 'PUT', `/0.1/policies/${policy}`, { name: 'changer', acl: [acl] })).statusCode).toBe(200);
        token = await api.login('changer', `changer-password-${i - 1}`);
        const res = await change(token, uuid, `changer-password-${i - 1}`, `changer-password-${i}`);
        expect(res.statusCode, `${acl}: ${res.body}`).toBe(204);
      }
    });

    it('is refused to `...password.read`, `...edit.x`, and when a negative pattern names edit or update', async () => {
      const uuid = await api.createUser(admin, 'refused', 'refused-password');
      const policy = (await api.as(admin, 'POST', '/0.1/policies', { name: 'refused', acl: [] })).json().uuid;
      expect((await api.as(admin, 'PUT', `/0.1/users/${uuid}/policies/${policy}`)).statusCode).toBe(204);
      for (const acl of [
        [`auth.users.${uuid}.password.read`],
        [`auth.users.${uuid}.password.edit.x`],
        ['auth.#', `!auth.users.${uuid}.password.edit`],
        ['auth.#', '!auth.users.me.password.update'],
      ]) {
        expect((await api.as(admin, 'PUT', `/0.1/policies/${policy}`, { name: 'refused', acl })).statusCode).toBe(200);
        const token = await api.login('refused', 'refused-password');
        const res = await change(token, uuid, 'refused-password', 'refused-password-2');
        expect(res.statusCode, acl.join(' ')).toBe(401);
        expect(res.json().details.required_access).toBe(`auth.users.${uuid}.password.update`);
      }
    });
  });
});
