// Multi-factor authentication of single sign-on logins (issue 24 with issue
// 23), on both engines, over HTTP against a real OpenID Connect provider on
// loopback (test/helpers/oidc-idp.ts): a user with a confirmed factor who
// logs in through the IdP gets the same 401 mfa-required as a password
// login; the second POST /token is the challenge and a code alone (the
// challenge carries the user the IdP proved), bound to the login's
// parameters, within the IdP proof's lifetime, counted in the login
// throttle; mfa.required_for (here a tenant's rule) makes such a user enrol;
// mfa.trust_identity_provider turns all of it off. TOTP codes are computed
// here from the enrolment's secret at the fake clock's time.
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { hashToken } from '../../src/tokens/material.js';
import { iamApi, type Api } from '../helpers/iam.js';
import { OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, startOidcProvider, type TestOidcProvider } from '../helpers/oidc-idp.js';
import { basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { securityWith } from '../security/helpers.js';

const CALLBACK = 'https://auth.example.test/api/auth/0.1/oidc/callback';
const PORTAL = 'https://portal.example.test/after-login';
const STEP_MS = 30_000;
const CHALLENGE_LIFETIME = 300;
const THRESHOLD = 2;

function codeAt(secret: string, at: number): string {
  return new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: at });
}

/** A service with an OIDC tenant, and what the tests do with it. */
async function ssoService(
  engine: (typeof ENGINES)[number],
  idp: TestOidcProvider,
  domain: string,
  trustIdentityProvider: boolean,
) {
  const clock = new FakeClock(Date.now());
  const t: TestService = await startTestService(
    engine,
    {
      oidc: { allow_http_issuers: true, login_timeout_seconds: 600, session_lifetime_seconds: 3600, provider_timeout_seconds: 5 },
      security: securityWith({ rate_limits: { enabled: false }, login_throttle: { threshold: THRESHOLD } }),
      mfa: {
        ...DEFAULT_CONFIG.mfa,
        challenge_lifetime_seconds: CHALLENGE_LIFETIME,
        trust_identity_provider: trustIdentityProvider,
      },
    },
    clock,
  );
  const api: Api = iamApi(() => t);
  const admin = await api.adminToken();
  const created = await api.as(admin, 'POST', '/0.1/tenants', { name: `mfa sso ${domain}`, domain_names: [domain] });
  expect(created.statusCode, created.body).toBe(200);
  const tenant = created.json().uuid as string;
  const inTenant = { 'wazo-tenant': tenant };
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
    inTenant,
  );
  expect(put.statusCode, put.body).toBe(200);
  const policy = await api.as(
    admin,
    'POST',
    '/0.1/policies',
    { name: 'mfa sso self', acl: ['auth.users.me.mfa.#', 'auth.users.me.tokens.#'] },
    inTenant,
  );
  expect(policy.statusCode, policy.body).toBe(200);

  /** A user of the tenant who may manage its own factors; `oidc`: it logs in through the IdP only. */
  async function createUser(username: string, method: 'oidc' | 'native') {
    const res = await api.as(
      admin,
      'POST',
      '/0.1/users',
      {
        username,
        password: `${username}-password`,
        email_address: `${username}@${domain}`,
        authentication_method: method,
      },
      inTenant,
    );
    expect(res.statusCode, res.body).toBe(200);
    const uuid = res.json().uuid as string;
    expect(
      (await api.as(admin, 'PUT', `/0.1/users/${uuid}/policies/${policy.json().uuid}`, undefined, inTenant)).statusCode,
    ).toBe(204);
    return { uuid, username, email: `${username}@${domain}` };
  }

  /** POST /oidc/authorize, the IdP's pages and its redirect to our callback: the oidc_session_id to exchange. */
  async function ssoSession(login: string): Promise<string> {
    const started = await api.as(null, 'POST', '/0.1/oidc/authorize', { domain, redirect_url: PORTAL });
    expect(started.statusCode, started.body).toBe(200);
    const { location, oidc_session_id } = started.json() as { location: string; oidc_session_id: string };
    const redirected = new URL(await idp.login(location, login, CALLBACK));
    const callback = await api.inject({ method: 'GET', url: `/0.1/oidc/callback${redirected.search}` });
    expect(callback.statusCode, callback.body).toBe(302);
    return oidc_session_id;
  }

  const token = (body: Record<string, unknown>) => api.as(null, 'POST', '/0.1/token', body);

  /** Enrols and confirms a TOTP factor with the user's token; returns its secret. */
  async function withTotp(userToken: string): Promise<string> {
    const res = await api.as(userToken, 'POST', '/0.1/users/me/mfa/totp', {});
    expect(res.statusCode, res.body).toBe(200);
    const { uuid, secret } = res.json() as { uuid: string; secret: string };
    const ok = await api.as(userToken, 'PUT', `/0.1/users/me/mfa/totp/${uuid}/confirm`, { code: codeAt(secret, clock.now()) });
    expect(ok.statusCode, ok.body).toBe(204);
    // The confirmation used this step's code: the next login uses the next step's.
    clock.advance(STEP_MS);
    return secret;
  }

  /** An oidc user with a confirmed TOTP factor (enrolled with the token of its first SSO login, before it had one). */
  async function ssoUserWithTotp(username: string) {
    const user = await createUser(username, 'oidc');
    const first = await token({ oidc_session_id: await ssoSession(user.email) });
    expect(first.statusCode, first.body).toBe(200);
    return { ...user, secret: await withTotp(first.json().data.token) };
  }

  return { t, api, admin, tenant, clock, createUser, ssoSession, token, withTotp, ssoUserWithTotp };
}

describe.each(ENGINES)('multi-factor authentication of single sign-on logins on %s', (engine) => {
  let idp: TestOidcProvider;
  let s: Awaited<ReturnType<typeof ssoService>>;

  beforeAll(async () => {
    idp = await startOidcProvider(CALLBACK);
    s = await ssoService(engine, idp, `mfa-sso-${engine}.example.test`, false);
  });
  afterAll(async () => {
    await s?.t.close();
    await idp?.close();
  });

  /** POST /token {oidc_session_id, ...}: the 401 mfa-required's challenge. */
  async function challenged(
    user: { email: string },
    body: Record<string, unknown> = {},
  ): Promise<{ challenge: string; details: Record<string, unknown> }> {
    const res = await s.token({ oidc_session_id: await s.ssoSession(user.email), ...body });
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json().error_id).toBe('mfa-required');
    return { challenge: res.json().details.mfa_challenge, details: res.json().details };
  }

  it("asks a user with a confirmed factor for it: the challenge and a code alone give that user's token, once", async () => {
    const alice = await s.ssoUserWithTotp('alice');
    const sessionId = await s.ssoSession(alice.email);
    const first = await s.token({ oidc_session_id: sessionId });
    expect(first.statusCode, first.body).toBe(401);
    const body = first.json();
    expect(body.error_id).toBe('mfa-required');
    expect(body.details.factors).toEqual(['totp']);
    expect(body.details.expires_in).toBe(CHALLENGE_LIFETIME);
    // No token without the factor, and the SSO session is used up.
    expect(body.details.token).toBeUndefined();
    expect((await s.token({ oidc_session_id: sessionId })).statusCode).toBe(401);

    const wrong = await s.token({
      mfa_challenge: body.details.mfa_challenge,
      totp: codeAt(alice.secret, s.clock.now() + 10 * STEP_MS),
    });
    expect(wrong.statusCode, wrong.body).toBe(401);
    expect(wrong.json().error_id).toBe('mfa-invalid');
    const fresh = wrong.json().details.mfa_challenge as string;
    expect(fresh).not.toBe(body.details.mfa_challenge);

    const ok = await s.token({ mfa_challenge: fresh, totp: codeAt(alice.secret, s.clock.now()) });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().data.metadata).toMatchObject({ uuid: alice.uuid, tenant_uuid: s.tenant });
    expect(ok.json().data.acl).toContain('auth.users.me.mfa.#');
    // The token's session is the SSO session's (single logout), as without a factor.
    const sso = await s.t.service.store.findSsoSessionByTokenSession(ok.json().data.session_uuid, s.clock.now());
    expect(sso?.idHash).toBe(hashToken(sessionId));
    // Audited as MFA decisions of a single sign-on login.
    const audit = await s.api.as(s.admin, 'GET', '/0.1/audit?recurse=true&limit=100');
    expect(audit.statusCode, audit.body).toBe(200);
    const mine = (
      audit.json().items as { action: string; outcome: string; user_uuid: string | null; details: Record<string, unknown> }[]
    )
      .filter((r) => r.action === 'login.mfa' && r.user_uuid === alice.uuid)
      .map((r) => [r.outcome, r.details.sso]);
    expect(mine).toEqual(
      expect.arrayContaining([
        ['challenged', 'oidc'],
        ['failure', 'oidc'],
        ['success', 'oidc'],
      ]),
    );
    // Single use: neither challenge gives another token.
    s.clock.advance(STEP_MS);
    for (const c of [fresh, body.details.mfa_challenge]) {
      const again = await s.token({ mfa_challenge: c, totp: codeAt(alice.secret, s.clock.now()) });
      expect(again.statusCode).toBe(401);
      expect(again.json().error_id).toBeUndefined();
    }
  });

  it('accepts a recovery code as the second step too', async () => {
    const carol = await s.ssoUserWithTotp('carol');
    const first = await s.token({ oidc_session_id: await s.ssoSession(carol.email) });
    expect(first.statusCode).toBe(401);
    // A token of carol's, obtained with the factor, to create the codes.
    const ok = await s.token({ mfa_challenge: first.json().details.mfa_challenge, totp: codeAt(carol.secret, s.clock.now()) });
    expect(ok.statusCode, ok.body).toBe(200);
    const codes = await s.api.as(ok.json().data.token, 'POST', '/0.1/users/me/mfa/recovery_codes');
    expect(codes.statusCode, codes.body).toBe(200);
    const { challenge, details } = await challenged(carol);
    expect(details.factors).toEqual(['totp', 'recovery_code']);
    const res = await s.token({ mfa_challenge: challenge, recovery_code: codes.json().codes[0] });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data.metadata.uuid).toBe(carol.uuid);
  });

  it("binds the challenge to the login's parameters", async () => {
    const dave = await s.ssoUserWithTotp('dave');
    const { challenge } = await challenged(dave, { expiration: 600 });
    const widened = await s.token({ mfa_challenge: challenge, totp: codeAt(dave.secret, s.clock.now()), expiration: 86_400 });
    expect(widened.statusCode).toBe(401);
    expect(widened.json().error_id).toBe('mfa-invalid');
    // Used up by the refused attempt.
    expect(
      (await s.token({ mfa_challenge: challenge, totp: codeAt(dave.secret, s.clock.now()), expiration: 600 })).statusCode,
    ).toBe(401);
    const again = await challenged(dave, { expiration: 600 });
    const ok = await s.token({ mfa_challenge: again.challenge, totp: codeAt(dave.secret, s.clock.now()), expiration: 600 });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().data.metadata.uuid).toBe(dave.uuid);
    const { utc_issued_at, utc_expires_at } = ok.json().data as { utc_issued_at: string; utc_expires_at: string };
    expect(Date.parse(`${utc_expires_at}Z`) - Date.parse(`${utc_issued_at}Z`)).toBe(600_000);
  });

  it('never lets the challenge of a password login stand for the credentials', async () => {
    await s.createUser('bob', 'native');
    const login = (body: Record<string, unknown>) =>
      s.api.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { 'content-type': 'application/json', authorization: basic('bob', 'bob-password') },
        payload: body,
      });
    const first = await login({});
    expect(first.statusCode, first.body).toBe(200);
    const secret = await s.withTotp(first.json().data.token);
    const asked = await login({});
    expect(asked.json().error_id).toBe('mfa-required');
    const challenge = asked.json().details.mfa_challenge as string;
    const code = codeAt(secret, s.clock.now());
    const alone = await s.token({ mfa_challenge: challenge, totp: code });
    expect(alone.statusCode).toBe(401);
    expect(alone.json().error_id).toBeUndefined();
    // Untouched: with the password it still answers.
    const ok = await login({ mfa_challenge: challenge, totp: code });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it("keeps the IdP's proof for challenge_lifetime_seconds: a fresh challenge after a wrong code does not extend it", async () => {
    const erin = await s.ssoUserWithTotp('erin');
    const expired = await challenged(erin);
    s.clock.advance((CHALLENGE_LIFETIME + 1) * 1000);
    const late = await s.token({ mfa_challenge: expired.challenge, totp: codeAt(erin.secret, s.clock.now()) });
    expect(late.statusCode).toBe(401);
    expect(late.json().error_id).toBeUndefined();

    const { challenge } = await challenged(erin);
    s.clock.advance(200_000);
    const wrong = await s.token({ mfa_challenge: challenge, totp: codeAt(erin.secret, s.clock.now() + 10 * STEP_MS) });
    expect(wrong.json().error_id).toBe('mfa-invalid');
    expect(wrong.json().details.expires_in).toBeLessThanOrEqual(CHALLENGE_LIFETIME - 200);
    s.clock.advance((CHALLENGE_LIFETIME - 200 + 1) * 1000);
    const tooLate = await s.token({
      mfa_challenge: wrong.json().details.mfa_challenge,
      totp: codeAt(erin.secret, s.clock.now()),
    });
    expect(tooLate.statusCode).toBe(401);
    expect(tooLate.json().error_id).toBeUndefined();
  });

  it('counts wrong codes in the login throttle (then 429)', async () => {
    const frank = await s.ssoUserWithTotp('frank');
    let { challenge } = await challenged(frank);
    for (let i = 0; i < THRESHOLD; i += 1) {
      const wrong = await s.token({ mfa_challenge: challenge, totp: codeAt(frank.secret, s.clock.now() + 10 * STEP_MS) });
      expect(wrong.json().error_id).toBe('mfa-invalid');
      challenge = wrong.json().details.mfa_challenge;
    }
    const throttled = await s.token({ mfa_challenge: challenge, totp: codeAt(frank.secret, s.clock.now()) });
    expect(throttled.statusCode).toBe(429);
  });

  it("makes a user without a factor enrol when mfa.required_for names it (here the tenant's rule)", async () => {
    const gina = await s.createUser('gina', 'oidc');
    const rule = await s.api.as(s.admin, 'PUT', `/0.1/tenants/${s.tenant}/mfa`, {
      required_for: { acl: [], purposes: ['user'] },
    });
    expect(rule.statusCode, rule.body).toBe(200);
    try {
      const res = await s.token({ oidc_session_id: await s.ssoSession(gina.email) });
      expect(res.statusCode, res.body).toBe(401);
      expect(res.json().error_id).toBe('mfa-enrolment-required');
      expect(res.json().details.acl).toEqual(['auth.users.me.mfa.#']);
      // That token enrols; the next SSO login then asks for the factor.
      const secret = await s.withTotp(res.json().details.token);
      const next = await s.token({ oidc_session_id: await s.ssoSession(gina.email) });
      expect(next.json().error_id).toBe('mfa-required');
      const ok = await s.token({ mfa_challenge: next.json().details.mfa_challenge, totp: codeAt(secret, s.clock.now()) });
      expect(ok.statusCode, ok.body).toBe(200);
    } finally {
      await s.api.as(s.admin, 'PUT', `/0.1/tenants/${s.tenant}/mfa`, { required_for: { acl: [], purposes: [] } });
    }
  });
});

describe.each(ENGINES)('mfa.trust_identity_provider on %s', (engine) => {
  let idp: TestOidcProvider;
  let s: Awaited<ReturnType<typeof ssoService>>;

  beforeAll(async () => {
    idp = await startOidcProvider(CALLBACK);
    s = await ssoService(engine, idp, `mfa-sso-trusted-${engine}.example.test`, true);
  });
  afterAll(async () => {
    await s?.t.close();
    await idp?.close();
  });

  it("leaves single sign-on logins to the IdP's own factor: no challenge, no enrolment; password logins are still asked", async () => {
    const alice = await s.ssoUserWithTotp('alice');
    const res = await s.token({ oidc_session_id: await s.ssoSession(alice.email) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data.metadata.uuid).toBe(alice.uuid);

    expect(
      (await s.api.as(s.admin, 'PUT', `/0.1/tenants/${s.tenant}/mfa`, { required_for: { acl: [], purposes: ['user'] } }))
        .statusCode,
    ).toBe(200);
    const bob = await s.createUser('bob', 'oidc');
    expect((await s.token({ oidc_session_id: await s.ssoSession(bob.email) })).statusCode).toBe(200);

    await s.createUser('carol', 'native');
    const password = await s.api.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { 'content-type': 'application/json', authorization: basic('carol', 'carol-password') },
      payload: {},
    });
    expect(password.statusCode).toBe(401);
    expect(password.json().error_id).toBe('mfa-enrolment-required');
  });
});
