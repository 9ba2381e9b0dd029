// SAML 2.0 service provider (issue 23 §2), on both engines, over HTTP,
// against a real samlify IdP on loopback signing its responses: the tenant
// settings as multipart form data, a login end to end (sso → IdP → acs →
// 302 → POST /token), every refusal (a tampered or foreign signature, a
// wrong audience or recipient, an expired assertion, a replay, XML
// signature wrapping, an unknown user, a native user, an expired session, a
// redirect_url outside the allow-list), single logout (ours and the IdP's:
// a signed LogoutRequest revokes its NameID's logins; unsigned, forged, stale
// or replayed ones revoke nothing; an IdP shared by two tenants), and our
// signed SP metadata.
import { randomBytes, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iamApi } from '../helpers/iam.js';
import { startSamlIdp, type AcsPost, type LogoutRequestOptions, type TestSamlIdp } from '../helpers/saml-idp.js';
import { basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { securityWith } from '../security/helpers.js';

const ACS = 'https://auth.example.test/api/auth/0.1/saml/acs';
const SP_ENTITY = 'https://auth.example.test/saml-sp';
const DOMAIN = 'saml.example.test';
const PORTAL = 'https://portal.example.test/after-login';
const LOGIN_TIMEOUT_S = 600;
const SLS = 'https://auth.example.test/api/auth/0.1/saml/sls';

function multipart(
  fields: Record<string, string>,
  file?: { name: string; content: string | Buffer },
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----xivo-${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  if (file) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="${file.name}"; filename="idp.xml"\r\ncontent-type: application/xml\r\n\r\n`,
      ),
    );
    parts.push(Buffer.from(file.content));
    parts.push(Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe.each(ENGINES)('SAML single sign-on on %s', (engine) => {
  let t: TestService;
  let idp: TestSamlIdp;
  let admin: string;
  let tenant: string;
  let spMetadata: string;
  const api = iamApi(() => t);
  const inTenant = (uuid = tenant) => ({ 'wazo-tenant': uuid });

  const settings = (method: 'POST' | 'PUT', fields: Record<string, string>, file?: string | Buffer, tenantUuid = tenant) => {
    const body = multipart(fields, file === undefined ? undefined : { name: 'metadata', content: file });
    return api.inject({
      method,
      url: '/0.1/backends/saml',
      headers: { ...body.headers, 'x-auth-token': admin, ...inTenant(tenantUuid) },
      payload: body.payload,
    });
  };
  const createUser = async (username: string, body: Record<string, unknown>) => {
    const res = await api.as(admin, 'POST', '/0.1/users', { username, password: `${username}-password`, ...body }, inTenant());
    expect(res.statusCode, res.body).toBe(200);
    return res.json().uuid as string;
  };
  const samlUser = (name: string) => createUser(name, { email_address: `${name}@${DOMAIN}`, authentication_method: 'saml' });
  const tokenFor = (sessionId: string, extra: Record<string, unknown> = {}) =>
    api.as(null, 'POST', '/0.1/token', { saml_session_id: sessionId, ...extra });
  const postAcs = (form: AcsPost) =>
    api.inject({
      method: 'POST',
      url: '/0.1/saml/acs',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ SAMLResponse: form.SAMLResponse, RelayState: form.RelayState }).toString(),
    });
  const startLogin = async (redirectUrl = PORTAL, domain = DOMAIN) => {
    const res = await api.as(null, 'POST', '/0.1/saml/sso', { domain, redirect_url: redirectUrl });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { location: string; saml_session_id: string };
  };
  /** POST /saml/sso, the IdP's login page, then the browser's form post to our ACS. */
  const ssoLogin = async (login: string, domain = DOMAIN, sp = spMetadata) => {
    const { location, saml_session_id } = await startLogin(PORTAL, domain);
    expect(new URL(location).origin).toBe(new URL(idp.entityId).origin);
    const form = await idp.login(location, login, sp);
    expect(form.action).toBe(ACS);
    return { sessionId: saml_session_id, form, acs: await postAcs(form) };
  };

  beforeAll(async () => {
    idp = await startSamlIdp();
    t = await startTestService(engine, {
      saml: {
        saml_login_timeout_seconds: LOGIN_TIMEOUT_S,
        saml_session_lifetime_seconds: 3600,
        acs_url_template: 'https://{{STACK_URL}}/api/auth/0.1/saml/acs',
      },
      // More SAML logins from one address than the login rate limit lets through (its own tests are elsewhere).
      security: securityWith({ rate_limits: { enabled: false } }),
    });
    admin = await api.adminToken();
    const created = await api.as(admin, 'POST', '/0.1/tenants', { name: 'saml tenant', domain_names: [DOMAIN] });
    expect(created.statusCode, created.body).toBe(200);
    tenant = created.json().uuid;
    const res = await settings(
      'POST',
      { domain_uuid: '5f8b9e9c-2d0a-4f0e-9a51-2d6a3c1f7e01', entity_id: SP_ENTITY, acs_url: ACS },
      idp.metadata,
    );
    expect(res.statusCode, res.body).toBe(200);
    const sp = await api.inject({
      method: 'GET',
      url: '/0.1/backends/saml/sp_metadata',
      headers: { 'x-auth-token': admin, ...inTenant() },
    });
    expect(sp.statusCode, sp.body).toBe(200);
    spMetadata = sp.body;
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  describe('settings (multipart, as wazo-auth)', () => {
    it('GET /backends/saml, /metadata and /acs_url_template answer what was stored', async () => {
      const res = await api.as(admin, 'GET', '/0.1/backends/saml', undefined, inTenant());
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        tenant_uuid: tenant,
        domain_uuid: '5f8b9e9c-2d0a-4f0e-9a51-2d6a3c1f7e01',
        entity_id: SP_ENTITY,
        acs_url: ACS,
        redirect_url_allowlist: null,
        idp_entity_id: idp.entityId,
      });
      const md = await api.inject({
        method: 'GET',
        url: '/0.1/backends/saml/metadata',
        headers: { 'x-auth-token': admin, ...inTenant() },
      });
      expect(md.statusCode).toBe(200);
      expect(md.headers['content-type']).toMatch(/^application\/xml/);
      expect(md.body).toBe(idp.metadata);
      const template = await api.as(admin, 'GET', '/0.1/backends/saml/acs_url_template');
      expect(template.json()).toEqual({ acs_url: 'https://{{STACK_URL}}/api/auth/0.1/saml/acs' });
    });

    it('POST twice is 409; PUT changes only the parts given; DELETE removes', async () => {
      expect((await settings('POST', { entity_id: SP_ENTITY, acs_url: ACS }, idp.metadata)).statusCode).toBe(409);
      const other = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'saml crud' })).json().uuid as string;
      expect((await settings('PUT', { entity_id: 'x' }, undefined, other)).statusCode).toBe(404);
      expect(
        (await settings('POST', { entity_id: 'https://crud.example.test/sp', acs_url: ACS }, idp.metadata, other)).statusCode,
      ).toBe(200);
      const put = await settings('PUT', { entity_id: 'https://crud.example.test/sp2' }, undefined, other);
      expect(put.statusCode, put.body).toBe(200);
      expect(put.json()).toMatchObject({ entity_id: 'https://crud.example.test/sp2', acs_url: ACS, idp_entity_id: idp.entityId });
      expect((await api.as(admin, 'DELETE', '/0.1/backends/saml', undefined, inTenant(other))).statusCode).toBe(204);
      expect((await api.as(admin, 'GET', '/0.1/backends/saml', undefined, inTenant(other))).statusCode).toBe(404);
      expect((await api.as(admin, 'DELETE', '/0.1/backends/saml', undefined, inTenant(other))).statusCode).toBe(404);
    });

    it('answers 400 for a missing file, bad XML, metadata without an IdP, a JSON body, and more than one file', async () => {
      const other = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'saml bad input' })).json().uuid as string;
      const fields = { entity_id: SP_ENTITY, acs_url: ACS };
      const missing = await settings('POST', fields, undefined, other);
      expect(missing.statusCode).toBe(400);
      expect(missing.json().message).toMatch(/metadata/);
      expect((await settings('POST', fields, '<EntityDescriptor', other)).statusCode).toBe(400);
      expect((await settings('POST', fields, '<?xml version="1.0"?><EntityDescriptor entityID="x"/>', other)).statusCode).toBe(
        400,
      );
      expect((await settings('POST', fields, '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', other)).statusCode).toBe(400);
      expect((await settings('POST', fields, '', other)).statusCode).toBe(400);
      expect((await settings('POST', { acs_url: ACS }, idp.metadata, other)).statusCode).toBe(400);
      expect((await settings('POST', { ...fields, acs_url: 'not a url' }, idp.metadata, other)).statusCode).toBe(400);
      const json = await api.as(admin, 'POST', '/0.1/backends/saml', fields, inTenant(other));
      expect(json.statusCode).toBe(400);
      const boundary = 'b0undary';
      const two = Buffer.from(
        [1, 2]
          .map(
            (i) =>
              `--${boundary}\r\ncontent-disposition: form-data; name="metadata"; filename="${i}.xml"\r\n\r\n${idp.metadata}\r\n`,
          )
          .join('') + `--${boundary}--\r\n`,
      );
      const twoFiles = await api.inject({
        method: 'POST',
        url: '/0.1/backends/saml',
        payload: two,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'x-auth-token': admin, ...inTenant(other) },
      });
      expect(twoFiles.statusCode).toBe(400);
      expect((await api.as(admin, 'GET', '/0.1/backends/saml', undefined, inTenant(other))).statusCode).toBe(404);
    });

    it('GET /backends/saml/sp_metadata is our signed metadata: entity id, ACS, SLS, and a certificate that verifies', async () => {
      expect(spMetadata).toContain(`entityID="${SP_ENTITY}"`);
      expect(spMetadata).toContain(`Location="${ACS}"`);
      expect(spMetadata).toMatch(
        /<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https:\/\/auth.example.test\/api\/auth\/0.1\/saml\/sls"/,
      );
      expect(spMetadata).toMatch(/<(\w+:)?SignatureValue>/);
      const b64 = /<(?:\w+:)?X509Certificate>([^<]+)</.exec(spMetadata)?.[1];
      expect(b64).toBeDefined();
      const cert = new X509Certificate(Buffer.from(b64!, 'base64'));
      expect(cert.verify(cert.publicKey)).toBe(true);
      // The key is kept: the same certificate the next time.
      const again = await api.inject({
        method: 'GET',
        url: '/0.1/backends/saml/sp_metadata',
        headers: { 'x-auth-token': admin, ...inTenant() },
      });
      expect(again.body).toContain(b64!);
    });
  });

  describe('login', () => {
    it('logs in a user whose method is saml: acs 302 to redirect_url, then POST /token once', async () => {
      const user = await samlUser('alice');
      const { sessionId, acs } = await ssoLogin(`alice@${DOMAIN}`);
      expect(acs.statusCode, acs.body).toBe(302);
      expect(acs.headers.location).toBe(PORTAL);
      const token = await tokenFor(sessionId);
      expect(token.statusCode, token.body).toBe(200);
      expect(token.json().data.metadata).toMatchObject({ uuid: user, tenant_uuid: tenant });
      expect((await tokenFor(sessionId)).statusCode).toBe(401);
      // A saml user has no password login.
      const password = await api.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { 'content-type': 'application/json', authorization: basic('alice', 'alice-password') },
        payload: {},
      });
      expect(password.statusCode).toBe(401);
    });

    it('matches the NameID as a username too', async () => {
      const user = await createUser('bea', { authentication_method: 'saml' });
      const { sessionId, acs } = await ssoLogin('bea');
      expect(acs.statusCode, acs.body).toBe(302);
      expect((await tokenFor(sessionId)).json().data.metadata.uuid).toBe(user);
    });

    it('refuses the same SAMLResponse posted twice (a replay)', async () => {
      await samlUser('carol');
      const { sessionId, form, acs } = await ssoLogin(`carol@${DOMAIN}`);
      expect(acs.statusCode).toBe(302);
      expect((await postAcs(form)).statusCode).toBe(401);
      // The session the first post completed still works once.
      expect((await tokenFor(sessionId)).statusCode).toBe(200);
    });

    it('refuses a user whose method is native (the IdP vouches, POST /token says 401)', async () => {
      await createUser('dave', { email_address: `dave@${DOMAIN}`, authentication_method: 'native' });
      const { sessionId, acs } = await ssoLogin(`dave@${DOMAIN}`);
      expect(acs.statusCode).toBe(302);
      expect((await tokenFor(sessionId)).statusCode).toBe(401);
    });

    it('refuses an unknown user, and a user of another tenant', async () => {
      const { sessionId, acs } = await ssoLogin(`nobody@${DOMAIN}`);
      expect(acs.statusCode).toBe(401);
      expect((await tokenFor(sessionId)).statusCode).toBe(401);
      const elsewhere = await api.as(admin, 'POST', '/0.1/users', {
        username: 'outsider',
        password: 'outsider-password',
        authentication_method: 'saml',
      });
      expect(elsewhere.statusCode).toBe(200);
      expect((await ssoLogin('outsider')).acs.statusCode).toBe(401);
    });

    const minutes = (n: number) => new Date(Date.now() + n * 60_000);
    const hostile: [string, () => void][] = [
      [
        'a signature by a key the IdP metadata does not hold',
        () => {
          idp.tweak = { foreignKey: true };
        },
      ],
      [
        'a signed assertion altered after signing',
        () => {
          idp.tweak = { rewrite: (xml) => xml.replace(/(<(?:\w+:)?NameID[^>]*>)[^<]+</, '$1alice@saml.example.test<') };
        },
      ],
      [
        'a wrong audience',
        () => {
          idp.tweak = { audience: 'https://another-sp.example.test' };
        },
      ],
      [
        'another recipient',
        () => {
          idp.tweak = { recipient: 'https://evil.example.test/acs' };
        },
      ],
      [
        'an assertion answering another request',
        () => {
          idp.tweak = { inResponseTo: '_not-our-request' };
        },
      ],
      [
        'an expired assertion',
        () => {
          idp.tweak = { notBefore: minutes(-30), notOnOrAfter: minutes(-10) };
        },
      ],
      [
        'an assertion not valid yet',
        () => {
          idp.tweak = { notBefore: minutes(10), notOnOrAfter: minutes(20) };
        },
      ],
      [
        'XML signature wrapping (the signed assertion moved aside, a forged one in its place)',
        () => {
          idp.tweak = {
            rewrite: (xml) => {
              const m = /<(saml:)?Assertion[\s\S]*<\/\1Assertion>/.exec(xml)!;
              const signed = m[0];
              const forged = signed
                .replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '')
                .replace(/ID="[^"]+"/, 'ID="_forged"')
                .replace(/(<(?:\w+:)?NameID[^>]*>)[^<]+</, '$1alice@saml.example.test<');
              const wrapped = signed.replace(/^<(saml:)?Assertion/, '<$1Assertion');
              return xml
                .replace(signed, `${forged}`)
                .replace(
                  /(<\/(?:saml:|samlp:)?Issuer>)/,
                  `$1<samlp:Extensions xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">${wrapped}</samlp:Extensions>`,
                );
            },
          };
        },
      ],
    ];
    it.each(hostile)('refuses %s', async (name, arrange) => {
      const login = `mallory-${name.length}`;
      await createUser(login, { authentication_method: 'saml' });
      arrange();
      try {
        const { sessionId, acs } = await ssoLogin(login);
        expect(acs.statusCode, acs.body).toBe(401);
        expect((await tokenFor(sessionId)).statusCode).toBe(401);
      } finally {
        idp.tweak = null;
      }
    });

    it('refuses an assertion once the SAML session has expired, and a completed one exchanged too late', async () => {
      await samlUser('erin');
      const { location, saml_session_id } = await startLogin();
      const form = await idp.login(location, `erin@${DOMAIN}`, spMetadata);
      (t.clock as unknown as { advance(ms: number): void }).advance((LOGIN_TIMEOUT_S + 1) * 1000);
      expect((await postAcs(form)).statusCode).toBe(401);
      expect((await tokenFor(saml_session_id)).statusCode).toBe(401);
      const late = await ssoLogin(`erin@${DOMAIN}`);
      expect(late.acs.statusCode).toBe(302);
      (t.clock as unknown as { advance(ms: number): void }).advance((LOGIN_TIMEOUT_S + 1) * 1000);
      expect((await tokenFor(late.sessionId)).statusCode).toBe(401);
    });

    it("checks redirect_url: https (http for loopback only), and the tenant's allow-list when set", async () => {
      expect(
        (await api.as(null, 'POST', '/0.1/saml/sso', { domain: DOMAIN, redirect_url: 'http://portal.example.test/' })).statusCode,
      ).toBe(400);
      expect(
        (await api.as(null, 'POST', '/0.1/saml/sso', { domain: DOMAIN, redirect_url: 'javascript:alert(1)' })).statusCode,
      ).toBe(400);
      expect(
        (await api.as(null, 'POST', '/0.1/saml/sso', { domain: DOMAIN, redirect_url: 'http://127.0.0.1:8123/done' })).statusCode,
      ).toBe(200);
      expect((await api.as(null, 'POST', '/0.1/saml/sso', { domain: 'nowhere.test', redirect_url: PORTAL })).statusCode).toBe(
        404,
      );
      const put = await settings('PUT', {
        redirect_url_allowlist: JSON.stringify(['https://portal.example.test', 'https://app.example.test/softphone/']),
      });
      expect(put.statusCode, put.body).toBe(200);
      try {
        expect(put.json().redirect_url_allowlist).toEqual(['https://portal.example.test', 'https://app.example.test/softphone/']);
        expect((await api.as(null, 'POST', '/0.1/saml/sso', { domain: DOMAIN, redirect_url: PORTAL })).statusCode).toBe(200);
        expect(
          (await api.as(null, 'POST', '/0.1/saml/sso', { domain: DOMAIN, redirect_url: 'https://app.example.test/softphone/cb' }))
            .statusCode,
        ).toBe(200);
        for (const outside of [
          'https://evil.example.test/',
          'https://app.example.test/other',
          'https://portal.example.test.evil.test/',
          'http://127.0.0.1:8123/done',
        ]) {
          const res = await api.as(null, 'POST', '/0.1/saml/sso', { domain: DOMAIN, redirect_url: outside });
          expect(res.statusCode, outside).toBe(400);
        }
        expect((await settings('PUT', { redirect_url_allowlist: JSON.stringify(['ftp://x']) })).statusCode).toBe(400);
      } finally {
        expect((await settings('PUT', { redirect_url_allowlist: '' })).statusCode).toBe(200);
      }
    });
  });

  it('OpenID Connect settings take a redirect_url_allowlist too: outside it, POST /oidc/authorize is 400', async () => {
    const put = await api.as(
      admin,
      'PUT',
      '/0.1/backends/oidc',
      {
        issuer: 'https://idp.invalid',
        client_id: 'c',
        callback_url: 'https://auth.example.test/api/auth/0.1/oidc/callback',
        redirect_url_allowlist: ['https://portal.example.test'],
      },
      inTenant(),
    );
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json().redirect_url_allowlist).toEqual(['https://portal.example.test']);
    try {
      const outside = await api.as(null, 'POST', '/0.1/oidc/authorize', {
        domain: DOMAIN,
        redirect_url: 'https://evil.example.test/',
      });
      expect(outside.statusCode).toBe(400);
      // Inside: past the check (the IdP is unreachable here, hence not 400).
      expect((await api.as(null, 'POST', '/0.1/oidc/authorize', { domain: DOMAIN, redirect_url: PORTAL })).statusCode).not.toBe(
        400,
      );
      expect(
        (
          await api.as(
            admin,
            'PUT',
            '/0.1/backends/oidc',
            {
              issuer: 'https://idp.invalid',
              client_id: 'c',
              callback_url: 'https://auth.example.test/cb',
              redirect_url_allowlist: ['javascript:x'],
            },
            inTenant(),
          )
        ).statusCode,
      ).toBe(400);
    } finally {
      expect((await api.as(admin, 'DELETE', '/0.1/backends/oidc', undefined, inTenant())).statusCode).toBe(204);
    }
  });

  describe('single logout', () => {
    /** A SAML login with a refresh token (one per user and client: a second login of a user takes another clientId). */
    const offlineLogin = async (
      name: string,
      {
        create = true,
        sessionIndex,
        clientId = 'saml-softphone',
      }: { create?: boolean; sessionIndex?: string; clientId?: string } = {},
    ) => {
      if (create) await samlUser(name);
      idp.tweak = sessionIndex === undefined ? null : { sessionIndex };
      const { sessionId, acs } = await ssoLogin(`${name}@${DOMAIN}`).finally(() => {
        idp.tweak = null;
      });
      expect(acs.statusCode).toBe(302);
      const res = await tokenFor(sessionId, { access_type: 'offline', client_id: clientId });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().data as { token: string; refresh_token: string };
    };
    const tokenAlive = async (token: string) => (await api.as(admin, 'GET', `/0.1/token/${token}`)).statusCode === 200;
    const refreshWorks = async (refreshToken: string) =>
      (await api.as(null, 'POST', '/0.1/token', { refresh_token: refreshToken, client_id: 'saml-softphone' })).statusCode === 200;

    it('GET /saml/logout revokes the token and its refresh token, and sends the browser to the IdP; its signed LogoutResponse brings it back', async () => {
      const { token, refresh_token } = await offlineLogin('frank');
      expect(await tokenAlive(token)).toBe(true);
      const res = await api.inject({ method: 'GET', url: '/0.1/saml/logout', headers: { 'x-auth-token': token } });
      expect(res.statusCode, res.body).toBe(200);
      const { location } = res.json() as { location: string };
      expect(location.startsWith(`${new URL(idp.entityId).origin}/slo?SAMLRequest=`)).toBe(true);
      expect(await tokenAlive(token)).toBe(false);
      expect(await refreshWorks(refresh_token)).toBe(false);
      const sls = new URL(await idp.logout(location, spMetadata));
      expect(sls.href.startsWith('https://auth.example.test/api/auth/0.1/saml/sls?')).toBe(true);
      const back = await api.inject({ method: 'GET', url: `/0.1/saml/sls${sls.search}` });
      expect(back.statusCode, back.body).toBe(302);
      expect(back.headers.location).toBe(PORTAL);
      // Once.
      expect((await api.inject({ method: 'GET', url: `/0.1/saml/sls${sls.search}` })).statusCode).toBe(401);
      // The token is gone: no second logout.
      expect((await api.inject({ method: 'GET', url: `/0.1/saml/logout?token=${token}` })).statusCode).toBe(401);
    });

    it('GET /saml/sls refuses an unsigned LogoutResponse, and a token not from SAML has no SAML logout', async () => {
      const { token } = await offlineLogin('gina');
      const { location } = (await api.inject({ method: 'GET', url: `/0.1/saml/logout?token=${token}` })).json() as {
        location: string;
      };
      const sls = new URL(await idp.logout(location, spMetadata, { signed: false }));
      expect(sls.searchParams.has('Signature')).toBe(false);
      expect((await api.inject({ method: 'GET', url: `/0.1/saml/sls${sls.search}` })).statusCode).toBe(401);
      expect((await api.inject({ method: 'GET', url: '/0.1/saml/logout', headers: { 'x-auth-token': admin } })).statusCode).toBe(
        404,
      );
      expect((await api.inject({ method: 'GET', url: '/0.1/saml/logout' })).statusCode).toBe(400);
      expect((await api.inject({ method: 'GET', url: '/0.1/saml/sls' })).statusCode).toBe(401);
    });

    describe('IdP-initiated (a LogoutRequest at /saml/sls)', () => {
      /** HEAD /0.1/token/{t}: 204 valid, 404 gone. */
      const headToken = async (token: string) => (await api.inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode;
      const refreshStatus = async (refreshToken: string, clientId = 'saml-softphone') =>
        (await api.as(null, 'POST', '/0.1/token', { refresh_token: refreshToken, client_id: clientId })).statusCode;
      /** The browser, sent by the IdP to our SLS with its LogoutRequest. */
      const atSls = (url: string) => {
        expect(url.startsWith(`${SLS}?SAMLRequest=`)).toBe(true);
        return api.inject({ method: 'GET', url: `/0.1/saml/sls${new URL(url).search}` });
      };
      const request = (nameID: string, options?: LogoutRequestOptions) => idp.logoutRequest(nameID, spMetadata, options);
      const minutes = (n: number) => new Date(Date.now() + n * 60_000);

      it("revokes every SAML login of the NameID (tokens, refresh tokens, tokens refreshed since), not another user's, and answers the IdP with our signed LogoutResponse", async () => {
        const first = await offlineLogin('hana');
        const second = await offlineLogin('hana', { create: false, clientId: 'saml-portal' });
        const refreshed = await api.as(null, 'POST', '/0.1/token', {
          refresh_token: first.refresh_token,
          client_id: 'saml-softphone',
        });
        expect(refreshed.statusCode, refreshed.body).toBe(200);
        const refreshedToken = refreshed.json().data.token as string;
        const other = await offlineLogin('ivan');
        for (const token of [first.token, second.token, refreshedToken, other.token]) expect(await headToken(token)).toBe(204);

        const { url, id } = request(`hana@${DOMAIN}`, { relayState: 'idp-relay-1' });
        expect(new URL(url).searchParams.has('Signature')).toBe(true);
        const res = await atSls(url);
        expect(res.statusCode, res.body).toBe(302);
        const answer = await idp.checkLogoutResponse(res.headers.location as string, spMetadata);
        expect(answer).toEqual({
          endpoint: `${new URL(idp.entityId).origin}/slo`,
          inResponseTo: id,
          issuer: SP_ENTITY,
          relayState: 'idp-relay-1',
        });

        for (const token of [first.token, second.token, refreshedToken]) expect(await headToken(token)).toBe(404);
        expect(await refreshStatus(first.refresh_token)).toBe(401);
        expect(await refreshStatus(second.refresh_token, 'saml-portal')).toBe(401);
        expect(await headToken(other.token)).toBe(204);
        expect(await refreshStatus(other.refresh_token)).toBe(200);
        // Logged out here too: no SP-initiated logout left for it.
        expect(
          (await api.inject({ method: 'GET', url: '/0.1/saml/logout', headers: { 'x-auth-token': first.token } })).statusCode,
        ).toBe(401);
      });

      it('refuses an unsigned, a foreign-key-signed, a tampered, a misdirected and a stale LogoutRequest, revoking nothing', async () => {
        const judy = await offlineLogin('judy');
        const nameID = `judy@${DOMAIN}`;
        const signedForOther = new URL(request(`ivan@${DOMAIN}`).url);
        const forged = new URL(signedForOther);
        forged.searchParams.set('SAMLRequest', new URL(request(nameID, { signed: false }).url).searchParams.get('SAMLRequest')!);
        const stripped = new URL(request(nameID).url);
        stripped.searchParams.delete('Signature');
        const refused: [string, string, number][] = [
          ['unsigned', request(nameID, { signed: false }).url, 401],
          ['signature removed', stripped.href, 401],
          ['signed by a key not in the IdP metadata', request(nameID, { foreignKey: true }).url, 401],
          ["another request's signature", forged.href, 401],
          ['sent to another SLS', request(nameID, { destination: 'https://evil.example.test/saml/sls' }).url, 401],
          ['for another SP entity', request(nameID, { spNameQualifier: 'https://another-sp.example.test' }).url, 401],
          ['issued 10 minutes ago', request(nameID, { issueInstant: minutes(-10) }).url, 401],
          ['issued 10 minutes from now', request(nameID, { issueInstant: minutes(10) }).url, 401],
          ['past its NotOnOrAfter', request(nameID, { notOnOrAfter: minutes(-2) }).url, 401],
        ];
        for (const [why, url, status] of refused) {
          const res = await api.inject({ method: 'GET', url: `/0.1/saml/sls${new URL(url).search}` });
          expect(res.statusCode, `${why}: ${res.body}`).toBe(status);
        }
        // A LogoutRequest and a LogoutResponse at once; a repeated parameter (the query schema's 400); not base64.
        const good = new URL(request(nameID).url);
        expect((await api.inject({ method: 'GET', url: `/0.1/saml/sls${good.search}&SAMLResponse=x` })).statusCode).toBe(401);
        expect((await api.inject({ method: 'GET', url: `/0.1/saml/sls${good.search}&SigAlg=x` })).statusCode).toBe(400);
        expect(
          (await api.inject({ method: 'GET', url: '/0.1/saml/sls?SAMLRequest=%25%25&SigAlg=a&Signature=b' })).statusCode,
        ).toBe(400);
        expect(await headToken(judy.token)).toBe(204);
        expect(await refreshStatus(judy.refresh_token)).toBe(200);
        // The same user, asked properly, is logged out: the refusals above were the request's fault.
        const res = await atSls(good.href);
        expect(res.statusCode, res.body).toBe(302);
        expect(await headToken(judy.token)).toBe(404);
      });

      it('refuses a replayed LogoutRequest (a login made after it stays)', async () => {
        await offlineLogin('kate');
        const { url } = request(`kate@${DOMAIN}`);
        expect((await atSls(url)).statusCode).toBe(302);
        const again = await offlineLogin('kate', { create: false, clientId: 'saml-portal' });
        expect((await atSls(url)).statusCode).toBe(401);
        expect(await headToken(again.token)).toBe(204);
        expect(await refreshStatus(again.refresh_token, 'saml-portal')).toBe(200);
      });

      it('with SessionIndex, ends only the logins of those IdP sessions', async () => {
        const one = await offlineLogin('liam', { sessionIndex: '_idp-session-1' });
        const two = await offlineLogin('liam', { create: false, sessionIndex: '_idp-session-2', clientId: 'saml-portal' });
        const res = await atSls(request(`liam@${DOMAIN}`, { sessionIndexes: ['_idp-session-1', '_idp-session-9'] }).url);
        expect(res.statusCode, res.body).toBe(302);
        expect(await headToken(one.token)).toBe(404);
        expect(await refreshStatus(one.refresh_token)).toBe(401);
        expect(await headToken(two.token)).toBe(204);
        expect(await refreshStatus(two.refresh_token, 'saml-portal')).toBe(200);
        expect((await atSls(request(`liam@${DOMAIN}`).url)).statusCode).toBe(302);
        expect(await headToken(two.token)).toBe(404);
      });

      it('an IdP shared by two tenants behind one SLS: the tenant whose user it names ends the login and answers', async () => {
        const DOMAIN2 = 'saml2.example.test';
        const SP2 = 'https://auth.example.test/saml-sp-2';
        const created = await api.as(admin, 'POST', '/0.1/tenants', { name: 'saml tenant 2', domain_names: [DOMAIN2] });
        expect(created.statusCode, created.body).toBe(200);
        const tenant2 = created.json().uuid as string;
        expect((await settings('POST', { entity_id: SP2, acs_url: ACS }, idp.metadata, tenant2)).statusCode).toBe(200);
        const sp2 = (
          await api.inject({
            method: 'GET',
            url: '/0.1/backends/saml/sp_metadata',
            headers: { 'x-auth-token': admin, ...inTenant(tenant2) },
          })
        ).body;
        const user = await api.as(
          admin,
          'POST',
          '/0.1/users',
          { username: 'mona', password: 'mona-password', authentication_method: 'saml' },
          inTenant(tenant2),
        );
        expect(user.statusCode, user.body).toBe(200);
        const { sessionId, acs } = await ssoLogin('mona', DOMAIN2, sp2);
        expect(acs.statusCode, acs.body).toBe(302);
        const mona = (await tokenFor(sessionId)).json().data.token as string;
        const neighbour = await offlineLogin('nina');

        // Said to be for tenant 1's SP: tenant 1 answers, mona (of tenant 2) stays.
        const narrowed = idp.logoutRequest('mona', spMetadata, { spNameQualifier: SP_ENTITY });
        const first = await atSls(narrowed.url);
        expect(first.statusCode, first.body).toBe(302);
        expect((await idp.checkLogoutResponse(first.headers.location as string, spMetadata)).issuer).toBe(SP_ENTITY);
        expect(await headToken(mona)).toBe(204);

        const { url, id } = idp.logoutRequest('mona', sp2);
        const res = await atSls(url);
        expect(res.statusCode, res.body).toBe(302);
        const answer = await idp.checkLogoutResponse(res.headers.location as string, sp2);
        expect(answer).toMatchObject({ inResponseTo: id, issuer: SP2 });
        expect(await headToken(mona)).toBe(404);
        expect(await headToken(neighbour.token)).toBe(204);
      });
    });
  });
});
