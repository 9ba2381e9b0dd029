// @xivo-auth/client and issue 24's per-tenant rule (tenants.mfa,
// tenants.setMfa) and second factor of single sign-on logins
// (createWithSecondFactor with an oidcSessionId: the second request is the
// challenge and the code alone), against a real xivo-auth (SQLite, real HTTP
// on loopback) and a real OpenID Connect provider.
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MfaRequiredError, XivoAuthClient } from '@xivo-auth/client';
import { DEFAULT_CONFIG } from '../../../src/config/index.js';
import type { FakeClock } from '../../../src/clock.js';
import { OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, startOidcProvider, type TestOidcProvider } from '../../../test/helpers/oidc-idp.js';
import { ADMIN, startTestService, type TestService } from '../../../test/helpers/service.js';

const CALLBACK = 'https://auth.example.test/api/auth/0.1/oidc/callback';
const DOMAIN = 'client-mfa-sso.example.test';

let t: TestService;
let idp: TestOidcProvider;
let url: string;
let admin: XivoAuthClient;
let tenant: string;
const clients: XivoAuthClient[] = [];

async function call(method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/0.1${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { 'x-auth-token': token }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (res.status === 204 ? {} : await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** An oidc_session_id the IdP vouched for `email` (POST /oidc/authorize, the IdP's pages, our callback). */
async function ssoSession(email: string): Promise<string> {
  const started = await call('POST', '/oidc/authorize', null, { domain: DOMAIN, redirect_url: 'https://portal.example.test/' });
  expect(started.status).toBe(200);
  const redirected = new URL(await idp.login(started.body.location, email, CALLBACK));
  const callback = await fetch(`${url}/0.1/oidc/callback${redirected.search}`, { redirect: 'manual' });
  expect(callback.status).toBe(302);
  return started.body.oidc_session_id;
}

beforeAll(async () => {
  idp = await startOidcProvider(CALLBACK);
  t = await startTestService('sqlite', {
    oidc: { allow_http_issuers: true, login_timeout_seconds: 600, session_lifetime_seconds: 3600, provider_timeout_seconds: 5 },
    mfa: {
      ...DEFAULT_CONFIG.mfa,
      required_for: { acl: ['confd.admin.#'], purposes: [] },
      exempt_purposes: ['external_api', 'internal'],
    },
  });
  url = await t.service.listen();
  admin = new XivoAuthClient({ url });
  clients.push(admin);
  admin.setToken((await admin.token.create({ username: ADMIN.username, password: ADMIN.password })).token);
  tenant = (await admin.tenants.create({ name: 'client mfa sso', domain_names: [DOMAIN] })).uuid;
  const put = await call(
    'PUT',
    '/backends/oidc',
    admin.currentToken!,
    {
      issuer: idp.issuer,
      client_id: OIDC_CLIENT_ID,
      client_secret: OIDC_CLIENT_SECRET,
      callback_url: CALLBACK,
    },
    { 'wazo-tenant': tenant },
  );
  expect(put.status).toBe(200);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await idp?.close();
});

describe('per-tenant mfa.required_for', () => {
  it("tenants.mfa() reads and tenants.setMfa() replaces the tenant's rule", async () => {
    expect(await admin.tenants.mfa(tenant)).toEqual({
      tenant_uuid: tenant,
      required_for: { acl: [], purposes: [] },
      effective_required_for: { acl: ['confd.admin.#'], purposes: [] },
      updated_at: null,
    });
    const set = await admin.tenants.setMfa(tenant, { acl: ['confd.#'], purposes: [] });
    expect(set.required_for).toEqual({ acl: ['confd.#'], purposes: [] });
    expect(set.effective_required_for).toEqual({ acl: ['confd.admin.#', 'confd.#'], purposes: [] });
    expect(set.updated_at).not.toBeNull();
    expect((await admin.tenants.setMfa(tenant, { acl: [], purposes: [] })).required_for).toEqual({ acl: [], purposes: [] });
  });
});

describe('second factor of a single sign-on login', () => {
  it('createWithSecondFactor({oidcSessionId}) answers the challenge without the used-up session', async () => {
    const h = { 'wazo-tenant': tenant };
    const user = await call(
      'POST',
      '/users',
      admin.currentToken!,
      {
        username: 'client-sso',
        password: 'client-sso-password',
        email_address: `client-sso@${DOMAIN}`,
        authentication_method: 'oidc',
      },
      h,
    );
    expect(user.status).toBe(200);
    const policy = await call(
      'POST',
      '/policies',
      admin.currentToken!,
      { name: 'client sso mfa', acl: ['auth.users.me.mfa.#'] },
      h,
    );
    expect(
      (await call('PUT', `/users/${user.body.uuid}/policies/${policy.body.uuid}`, admin.currentToken!, undefined, h)).status,
    ).toBe(204);

    const c = new XivoAuthClient({ url });
    clients.push(c);
    const first = await c.token.create({ oidcSessionId: await ssoSession(`client-sso@${DOMAIN}`) });
    const enrol = await call('POST', '/users/me/mfa/totp', first.token, {});
    const totp = new TOTP({ secret: Secret.fromBase32(enrol.body.secret) });
    expect(
      (
        await call('PUT', `/users/me/mfa/totp/${enrol.body.uuid}/confirm`, first.token, {
          code: totp.generate({ timestamp: t.clock.now() }),
        })
      ).status,
    ).toBe(204);
    (t.clock as FakeClock).advance(30_000);

    const refused = await c.token.create({ oidcSessionId: await ssoSession(`client-sso@${DOMAIN}`) }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MfaRequiredError);
    const asked: string[][] = [];
    const token = await c.token.createWithSecondFactor(
      { oidcSessionId: await ssoSession(`client-sso@${DOMAIN}`) },
      async ({ factors }) => {
        asked.push(factors);
        return { totp: totp.generate({ timestamp: t.clock.now() }) };
      },
    );
    expect(asked).toEqual([['totp']]);
    expect(token.metadata).toMatchObject({ uuid: user.body.uuid, tenant_uuid: tenant });
  });
});
