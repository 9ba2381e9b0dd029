// Single sign-on (issue 23), on both engines, over HTTP: authentication
// methods (/idp, and POST /token refusing a way the user is not allowed),
// and the OpenID Connect relying party end to end against a real
// oidc-provider on loopback: success, a tampered signature, a wrong
// audience, an expired ID token, a replayed one, an unknown user, a native
// user, and single use of the session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iamApi, UNKNOWN_UUID } from '../helpers/iam.js';
import { OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, startOidcProvider, type TestOidcProvider } from '../helpers/oidc-idp.js';
import { basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';

const CALLBACK = 'https://auth.example.test/api/auth/0.1/oidc/callback';
const DOMAIN = 'sso.example.test';
const PORTAL = 'https://portal.example.test/after-login';

describe.each(ENGINES)('single sign-on on %s', (engine) => {
  let t: TestService;
  let idp: TestOidcProvider;
  let admin: string;
  let tenant: string;
  const api = iamApi(() => t);
  const inTenant = () => ({ 'wazo-tenant': tenant });

  const createUser = async (username: string, body: Record<string, unknown>) => {
    const res = await api.as(admin, 'POST', '/0.1/users', { username, password: `${username}-password`, ...body }, inTenant());
    expect(res.statusCode, res.body).toBe(200);
    return res.json().uuid as string;
  };
  const passwordLogin = (username: string) =>
    api.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { 'content-type': 'application/json', authorization: basic(username, `${username}-password`) },
      payload: {},
    });
  const tokenFor = (sessionId: string) => api.as(null, 'POST', '/0.1/token', { oidc_session_id: sessionId });
  /** POST /oidc/authorize, the IdP's pages, then the IdP's redirect to our callback. */
  const ssoLogin = async (login: string) => {
    const started = await api.as(null, 'POST', '/0.1/oidc/authorize', { domain: DOMAIN, redirect_url: PORTAL });
    expect(started.statusCode, started.body).toBe(200);
    const { location, oidc_session_id } = started.json() as { location: string; oidc_session_id: string };
    expect(new URL(location).origin).toBe(idp.issuer);
    expect(new URL(location).searchParams.get('code_challenge_method')).toBe('S256');
    const redirected = new URL(await idp.login(location, login, CALLBACK));
    const callbackPath = `/0.1/oidc/callback${redirected.search}`;
    const callback = await api.inject({ method: 'GET', url: callbackPath });
    return { sessionId: oidc_session_id, callback, callbackPath };
  };

  beforeAll(async () => {
    idp = await startOidcProvider(CALLBACK);
    t = await startTestService(engine, {
      oidc: { allow_http_issuers: true, login_timeout_seconds: 600, session_lifetime_seconds: 3600, provider_timeout_seconds: 5 },
    });
    admin = await api.adminToken();
    const created = await api.as(admin, 'POST', '/0.1/tenants', { name: 'sso tenant', domain_names: [DOMAIN] });
    expect(created.statusCode, created.body).toBe(200);
    tenant = created.json().uuid;
    const put = await api.as(
      admin,
      'PUT',
      '/0.1/backends/oidc',
      {
        issuer: idp.issuer,
        client_id: OIDC_CLIENT_ID,
        client_secret: OIDC_CLIENT_SECRET,
        callback_url: CALLBACK,
      },
      inTenant(),
    );
    expect(put.statusCode, put.body).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  describe('/idp and authentication methods', () => {
    it('GET /idp lists the methods', async () => {
      const res = await api.as(admin, 'GET', '/0.1/idp');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ total: 5, filtered: 5, items: ['default', 'native', 'ldap', 'saml', 'oidc'] });
    });

    it('PUT /idp/{type}/users/{u} sets the method, and a password login is then refused (401); DELETE resets it to default', async () => {
      const user = await createUser('methods-carol', {});
      expect((await passwordLogin('methods-carol')).statusCode).toBe(200);
      expect((await api.as(admin, 'PUT', `/0.1/idp/ldap/users/${user}`, undefined, inTenant())).statusCode).toBe(204);
      expect((await api.as(admin, 'GET', `/0.1/users/${user}`)).json().authentication_method).toBe('ldap');
      const refused = await passwordLogin('methods-carol');
      expect(refused.statusCode).toBe(401);
      // Another type leaves it alone; its own resets it.
      expect((await api.as(admin, 'DELETE', `/0.1/idp/saml/users/${user}`, undefined, inTenant())).statusCode).toBe(204);
      expect((await api.as(admin, 'GET', `/0.1/users/${user}`)).json().authentication_method).toBe('ldap');
      expect((await api.as(admin, 'DELETE', `/0.1/idp/ldap/users/${user}`, undefined, inTenant())).statusCode).toBe(204);
      expect((await api.as(admin, 'GET', `/0.1/users/${user}`)).json().authentication_method).toBe('default');
      expect((await passwordLogin('methods-carol')).statusCode).toBe(200);
    });

    it("default follows the tenant: a tenant defaulting to saml refuses its default users' passwords", async () => {
      const other = (
        await api.as(admin, 'POST', '/0.1/tenants', { name: 'saml default', default_authentication_method: 'saml' })
      ).json().uuid as string;
      const oidcDefault = await api.as(admin, 'POST', '/0.1/tenants', {
        name: 'oidc default',
        default_authentication_method: 'oidc',
      });
      expect(oidcDefault.statusCode, oidcDefault.body).toBe(200);
      expect(oidcDefault.json().default_authentication_method).toBe('oidc');
      const res = await api.as(
        admin,
        'POST',
        '/0.1/users',
        { username: 'saml-dave', password: 'saml-dave-password' },
        { 'wazo-tenant': other },
      );
      expect(res.statusCode).toBe(200);
      expect((await passwordLogin('saml-dave')).statusCode).toBe(401);
      expect(
        (await api.as(admin, 'PUT', `/0.1/idp/native/users/${res.json().uuid}`, undefined, { 'wazo-tenant': other })).statusCode,
      ).toBe(204);
      expect((await passwordLogin('saml-dave')).statusCode).toBe(200);
    });

    it('PUT /idp/{type}/users sets several; an unknown type is 404, an unknown user 404 and nothing changes', async () => {
      const a = await createUser('bulk-a', {});
      const b = await createUser('bulk-b', {});
      expect(
        (await api.as(admin, 'PUT', '/0.1/idp/oidc/users', { users: [{ uuid: a }, { uuid: b }] }, inTenant())).statusCode,
      ).toBe(204);
      for (const u of [a, b]) expect((await api.as(admin, 'GET', `/0.1/users/${u}`)).json().authentication_method).toBe('oidc');
      const unknownType = await api.as(admin, 'PUT', `/0.1/idp/kerberos/users/${a}`, undefined, inTenant());
      expect(unknownType.statusCode).toBe(404);
      expect(unknownType.json().error_id).toBe('unknown-idp-type');
      expect(
        (await api.as(admin, 'PUT', '/0.1/idp/native/users', { users: [{ uuid: a }, { uuid: UNKNOWN_UUID }] }, inTenant()))
          .statusCode,
      ).toBe(404);
      expect((await api.as(admin, 'GET', `/0.1/users/${a}`)).json().authentication_method).toBe('oidc');
    });
  });

  describe('OpenID Connect', () => {
    it('GET /backends/oidc never returns the client secret, and the store only holds it sealed', async () => {
      const res = await api.as(admin, 'GET', '/0.1/backends/oidc', undefined, inTenant());
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        issuer: idp.issuer,
        client_id: OIDC_CLIENT_ID,
        callback_url: CALLBACK,
        scopes: ['openid', 'email', 'profile'],
        user_claim: 'email',
        group_claim: null,
        group_mapping: {},
        redirect_url_allowlist: null,
      });
      const stored = await t.service.store.getSsoConfig(tenant, 'oidc');
      expect(stored?.secrets).toMatch(/^xa1\./);
      expect(JSON.stringify(stored)).not.toContain(OIDC_CLIENT_SECRET);
    });

    it('logs in a user whose method is oidc: callback 302 to redirect_url, then POST /token once', async () => {
      const user = await createUser('alice', { email_address: 'alice@sso.example.test', authentication_method: 'oidc' });
      const { sessionId, callback, callbackPath } = await ssoLogin('alice@sso.example.test');
      expect(callback.statusCode, callback.body).toBe(302);
      expect(callback.headers.location).toBe(PORTAL);
      const token = await tokenFor(sessionId);
      expect(token.statusCode, token.body).toBe(200);
      expect(token.json().data.metadata).toMatchObject({ uuid: user, tenant_uuid: tenant });
      // Single use: the session, and the IdP's redirect.
      expect((await tokenFor(sessionId)).statusCode).toBe(401);
      expect((await api.inject({ method: 'GET', url: callbackPath })).statusCode).toBe(401);
      // An oidc user has no password login.
      expect((await passwordLogin('alice')).statusCode).toBe(401);
    });

    it('refuses a user whose method is native (the IdP vouches, POST /token says 401)', async () => {
      await createUser('bob', { email_address: 'bob@sso.example.test', authentication_method: 'native' });
      const { sessionId, callback } = await ssoLogin('bob@sso.example.test');
      expect(callback.statusCode).toBe(302);
      expect((await tokenFor(sessionId)).statusCode).toBe(401);
    });

    it('refuses an unknown user', async () => {
      const { sessionId, callback } = await ssoLogin('nobody@sso.example.test');
      expect(callback.statusCode).toBe(401);
      expect((await tokenFor(sessionId)).statusCode).toBe(401);
    });

    it('accepts an ID token the test IdP re-signed unchanged (the rewriting below changes only what each case names), and maps IdP groups', async () => {
      const group = await api.as(admin, 'POST', '/0.1/groups', { name: 'sso admins' }, inTenant());
      expect(group.statusCode, group.body).toBe(200);
      const current = (await api.as(admin, 'GET', '/0.1/backends/oidc', undefined, inTenant())).json();
      expect(
        (
          await api.as(
            admin,
            'PUT',
            '/0.1/backends/oidc',
            {
              ...current,
              group_claim: 'groups',
              group_mapping: { 'sso-admins': group.json().uuid },
            },
            inTenant(),
          )
        ).statusCode,
      ).toBe(200);
      const user = await createUser('frank', { email_address: 'frank@sso.example.test', authentication_method: 'oidc' });
      idp.rewriteIdToken = { claims: (c) => c };
      try {
        const { sessionId, callback } = await ssoLogin('frank@sso.example.test');
        expect(callback.statusCode, callback.body).toBe(302);
        expect((await tokenFor(sessionId)).statusCode).toBe(200);
      } finally {
        idp.rewriteIdToken = null;
      }
      const groups = (await api.as(admin, 'GET', `/0.1/users/${user}/groups`, undefined, inTenant())).json();
      expect(groups.items.map((g: { uuid: string }) => g.uuid)).toContain(group.json().uuid);
    });

    const hostile: [string, () => void][] = [
      [
        'a tampered signature (a key the IdP does not publish)',
        () => {
          idp.rewriteIdToken = { foreignKey: true };
        },
      ],
      [
        'a wrong audience',
        () => {
          idp.rewriteIdToken = { claims: (c) => ({ ...c, aud: 'another-client' }) };
        },
      ],
      [
        'an expired ID token',
        () => {
          const now = Math.floor(Date.now() / 1000);
          idp.rewriteIdToken = { claims: (c) => ({ ...c, iat: now - 7200, exp: now - 3600 }) };
        },
      ],
      [
        'another issuer',
        () => {
          idp.rewriteIdToken = { claims: (c) => ({ ...c, iss: 'https://evil.example.test' }) };
        },
      ],
      [
        'a replayed ID token (of an earlier login)',
        () => {
          idp.rewriteIdToken = { replace: idp.idTokens[0] };
        },
      ],
    ];
    it.each(hostile)('refuses %s', async (_name, arrange) => {
      await createUser(`erin-${_name.length}`, {
        email_address: `erin-${_name.length}@sso.example.test`,
        authentication_method: 'oidc',
      });
      expect(idp.idTokens.length).toBeGreaterThan(0);
      arrange();
      try {
        const { sessionId, callback } = await ssoLogin(`erin-${_name.length}@sso.example.test`);
        expect(callback.statusCode).toBe(401);
        expect((await tokenFor(sessionId)).statusCode).toBe(401);
      } finally {
        idp.rewriteIdToken = null;
      }
    });

    it('answers 404 for an unknown domain and 400 for a redirect_url that is not a URL', async () => {
      expect(
        (await api.as(null, 'POST', '/0.1/oidc/authorize', { domain: 'nowhere.test', redirect_url: PORTAL })).statusCode,
      ).toBe(404);
      expect(
        (await api.as(null, 'POST', '/0.1/oidc/authorize', { domain: DOMAIN, redirect_url: 'javascript:alert(1)' })).statusCode,
      ).toBe(400);
      expect((await api.as(null, 'POST', '/0.1/token', { oidc_session_id: 'not-a-session' })).statusCode).toBe(401);
      // An unknown saml_session_id is 401 too.
      expect((await api.as(null, 'POST', '/0.1/token', { saml_session_id: 'not-a-session' })).statusCode).toBe(401);
      expect((await api.as(null, 'POST', '/0.1/token', { oidc_session_id: 'a', saml_session_id: 'b' })).statusCode).toBe(400);
    });

    it('DELETE /backends/oidc removes the configuration', async () => {
      const other = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'oidc delete' })).json().uuid as string;
      const h = { 'wazo-tenant': other };
      expect((await api.as(admin, 'DELETE', '/0.1/backends/oidc', undefined, h)).statusCode).toBe(404);
      expect(
        (await api.as(admin, 'PUT', '/0.1/backends/oidc', { issuer: idp.issuer, client_id: 'x', callback_url: CALLBACK }, h))
          .statusCode,
      ).toBe(200);
      expect((await api.as(admin, 'DELETE', '/0.1/backends/oidc', undefined, h)).statusCode).toBe(204);
      expect((await api.as(admin, 'GET', '/0.1/backends/oidc', undefined, h)).statusCode).toBe(404);
    });
  });
});
