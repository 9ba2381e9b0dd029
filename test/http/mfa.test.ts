// Multi-factor authentication (issue 24) through POST /token and the
// /users/{u}/mfa routes, on both engines. TOTP codes are computed here from
// the secret the enrolment shows (otpauth, RFC 6238), at the fake clock's time.
import type { InjectOptions } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { AMQP_URI, startBusConsumer, type BusConsumer } from '../helpers/bus.js';
import { databaseText, externalAuthWith, tempKeyFile } from '../helpers/external.js';
import { ADMIN, basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { until } from '../helpers/until.js';
import { securityWith } from '../security/helpers.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const STEP_MS = 30_000;

function codeAt(secret: string, at: number): string {
  return new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: at });
}

describe.each(ENGINES)('multi-factor authentication on %s', (engine) => {
  let t: TestService;
  let clock: FakeClock;
  let bus: BusConsumer;
  let admin: string;
  let selfPolicy: string;
  let n = 0;

  const inject = (opts: InjectOptions) => t.service.app.inject(opts);
  const login = (user: string, password: string, body: Record<string, unknown> = {}) => inject({
    method: 'POST', url: '/0.1/token', headers: { ...JSON_HEADERS, authorization: basic(user, password) }, payload: body,
  });
  const api = (method: InjectOptions['method'], url: string, token: string, payload?: unknown) => inject({
    method, url, headers: { ...JSON_HEADERS, 'x-auth-token': token }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

  /** A user granted its own MFA routes; returns its uuid and a password token. */
  async function newUser(extraAcl: string[] = [], purpose?: string) {
    n += 1;
    const username = `mfa-user-${n}`;
    const password = `${username}-password`;
    const created = await api('POST', '/0.1/users', admin, { username, password, ...(purpose ? { purpose } : {}) });
    expect(created.statusCode, created.body).toBe(200);
    const uuid = created.json().uuid as string;
    let policy = selfPolicy;
    if (extraAcl.length > 0) {
      const p = await api('POST', '/0.1/policies', admin, { name: `${username} policy`, acl: ['auth.users.me.mfa.#', ...extraAcl] });
      expect(p.statusCode, p.body).toBe(200);
      policy = p.json().uuid;
    }
    expect((await api('PUT', `/0.1/users/${uuid}/policies/${policy}`, admin)).statusCode).toBe(204);
    const res = await login(username, password);
    // 401 mfa-enrolment-required (mfa.required_for) also gives a token: one that can only enrol.
    const token = (res.statusCode === 200 ? res.json().data.token : res.json().details?.token) as string;
    expect(token, res.body).toMatch(/./);
    return { uuid, username, password, token };
  }

  /** Enrols and confirms a TOTP factor; returns its secret and uuid. */
  async function withTotp(user: { token: string }) {
    const res = await api('POST', '/0.1/users/me/mfa/totp', user.token, {});
    expect(res.statusCode, res.body).toBe(200);
    const { uuid, secret } = res.json();
    const ok = await api('PUT', `/0.1/users/me/mfa/totp/${uuid}/confirm`, user.token, { code: codeAt(secret, clock.now()) });
    expect(ok.statusCode, ok.body).toBe(204);
    // The confirmation used this step's code: the next login uses the next step's.
    clock.advance(STEP_MS);
    return { uuid: uuid as string, secret: secret as string };
  }

  async function challenge(user: { username: string; password: string }, body: Record<string, unknown> = {}): Promise<string> {
    const res = await login(user.username, user.password, body);
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json().error_id).toBe('mfa-required');
    return res.json().details.mfa_challenge;
  }

  beforeAll(async () => {
    clock = new FakeClock(Date.UTC(2026, 5, 1, 12, 0, 10));
    bus = await startBusConsumer();
    const key = tempKeyFile();
    t = await startTestService(engine, {
      external_auth: externalAuthWith(key.file),
      security: securityWith({ rate_limits: { enabled: false } }),
      amqp: { ...DEFAULT_CONFIG.amqp, enabled: true, uri: AMQP_URI, exchange_name: bus.exchange, poll_interval_ms: 50, retry_min_ms: 50, retry_max_ms: 200 },
      // The bootstrap administrator (purpose internal, ACL `#`) is exempted here, or it too must enrol first.
      mfa: { ...DEFAULT_CONFIG.mfa, required_for: { acl: ['confd.admin.#'], purposes: [] }, exempt_purposes: ['external_api', 'internal'] },
    }, clock);
    // Listening starts the event relay.
    await t.service.listen();
    const res = await login(ADMIN.username, ADMIN.password);
    expect(res.statusCode, res.body).toBe(200);
    admin = res.json().data.token;
    const p = await api('POST', '/0.1/policies', admin, { name: 'mfa self service', acl: ['auth.users.me.mfa.#', 'auth.users.me.tokens.#'] });
    expect(p.statusCode, p.body).toBe(200);
    selfPolicy = p.json().uuid;
  });

  afterAll(async () => {
    await bus?.close();
  });

  it('enrols TOTP: secret, otpauth URI and QR code; confirmed only with a valid code; then the password alone is refused', async () => {
    const alice = await newUser();
    const res = await api('POST', '/0.1/users/me/mfa/totp', alice.token, { name: 'phone' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.confirmed).toBe(false);
    expect(body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(body.otpauth_uri).toMatch(/^otpauth:\/\/totp\/xivo-auth:mfa-user-\d+\?/);
    expect(body.otpauth_uri).toContain(`secret=${body.secret}`);
    expect(body.otpauth_uri).toContain('algorithm=SHA1&digits=6&period=30');
    expect(body.qr_svg).toMatch(/^<svg/);
    // Not confirmed: not asked.
    expect((await login(alice.username, alice.password)).statusCode).toBe(200);
    // The secret is sealed at rest.
    expect(databaseText(t.config.db_uri ?? '')).not.toContain(body.secret);

    const wrong = await api('PUT', `/0.1/users/me/mfa/totp/${body.uuid}/confirm`, alice.token, { code: codeAt(body.secret, clock.now() + 5 * STEP_MS) });
    expect(wrong.statusCode).toBe(400);
    expect((await api('PUT', `/0.1/users/me/mfa/totp/${body.uuid}/confirm`, alice.token, { code: codeAt(body.secret, clock.now()) })).statusCode).toBe(204);
    clock.advance(STEP_MS);

    const refused = await login(alice.username, alice.password);
    expect(refused.statusCode).toBe(401);
    const r = refused.json();
    // A superset of the legacy body: old clients still read a 401.
    expect(r.status_code).toBe(401);
    expect(r.reason).toEqual(['Multi-factor authentication required']);
    expect(r.error_id).toBe('mfa-required');
    expect(r.details.factors).toEqual(['totp']);
    expect(r.details.mfa_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const ok = await login(alice.username, alice.password, { mfa_challenge: r.details.mfa_challenge, totp: codeAt(body.secret, clock.now()) });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().data.token).toMatch(/./);

    const added = await until(() => bus.named('auth_user_mfa_added').some((m) => m.routingKey === `auth.users.${alice.uuid}.mfa.added`), 'mfa added event')
      .then(() => bus.named('auth_user_mfa_added').find((m) => m.routingKey === `auth.users.${alice.uuid}.mfa.added`)!);
    expect(added.body.data).toEqual({ user_uuid: alice.uuid, factor_uuid: body.uuid, type: 'totp' });
  });

  it('checks the password before the factor, refuses wrong and replayed codes, and accepts ±1 step of drift', async () => {
    const bob = await newUser();
    const { secret } = await withTotp(bob);
    // Wrong password with a valid challenge and code: a plain authentication failure.
    const c0 = await challenge(bob);
    const badPassword = await login(bob.username, 'not-the-password', { mfa_challenge: c0, totp: codeAt(secret, clock.now()) });
    expect(badPassword.statusCode).toBe(401);
    expect(badPassword.json().error_id).toBeUndefined();

    const wrong = await login(bob.username, bob.password, { mfa_challenge: await challenge(bob), totp: '000000' === codeAt(secret, clock.now()) ? '111111' : '000000' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error_id).toBe('mfa-invalid');
    // The failure carries a fresh challenge.
    const fresh = wrong.json().details.mfa_challenge;
    const code = codeAt(secret, clock.now());
    expect((await login(bob.username, bob.password, { mfa_challenge: fresh, totp: code })).statusCode).toBe(200);
    // Replayed inside its window.
    const replay = await login(bob.username, bob.password, { mfa_challenge: await challenge(bob), totp: code });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error_id).toBe('mfa-invalid');

    // Drift: the previous and next steps' codes pass, two steps off does not.
    clock.advance(4 * STEP_MS);
    expect((await login(bob.username, bob.password, { mfa_challenge: await challenge(bob), totp: codeAt(secret, clock.now() - STEP_MS) })).statusCode).toBe(200);
    expect((await login(bob.username, bob.password, { mfa_challenge: await challenge(bob), totp: codeAt(secret, clock.now() + STEP_MS) })).statusCode).toBe(200);
    clock.advance(4 * STEP_MS);
    const far = await login(bob.username, bob.password, { mfa_challenge: await challenge(bob), totp: codeAt(secret, clock.now() - 2 * STEP_MS) });
    expect(far.statusCode).toBe(401);
  });

  it('makes the challenge single use, short-lived and bound to the login parameters', async () => {
    const carol = await newUser();
    const { secret } = await withTotp(carol);
    const c = await challenge(carol, { expiration: 60 });
    expect((await login(carol.username, carol.password, { mfa_challenge: c, expiration: 60, totp: codeAt(secret, clock.now()) })).statusCode).toBe(200);
    clock.advance(STEP_MS);
    const reused = await login(carol.username, carol.password, { mfa_challenge: c, expiration: 60, totp: codeAt(secret, clock.now()) });
    expect(reused.json().error_id).toBe('mfa-invalid');

    clock.advance(STEP_MS);
    const widened = await login(carol.username, carol.password, { mfa_challenge: await challenge(carol, { expiration: 60 }), expiration: 36000, totp: codeAt(secret, clock.now()) });
    expect(widened.json().error_id).toBe('mfa-invalid');

    const old = await challenge(carol);
    clock.advance(301_000);
    const expired = await login(carol.username, carol.password, { mfa_challenge: old, totp: codeAt(secret, clock.now()) });
    expect(expired.json().error_id).toBe('mfa-invalid');
    // Another user's challenge is not this user's.
    const dave = await newUser();
    await withTotp(dave);
    const foreign = await login(carol.username, carol.password, { mfa_challenge: await challenge(dave), totp: codeAt(secret, clock.now()) });
    expect(foreign.json().error_id).toBe('mfa-invalid');
  });

  it('accepts each recovery code once, and lists factors without secrets', async () => {
    const erin = await newUser();
    await withTotp(erin);
    const res = await api('POST', '/0.1/users/me/mfa/recovery_codes', erin.token);
    expect(res.statusCode, res.body).toBe(200);
    const { codes } = res.json();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    expect(databaseText(t.config.db_uri ?? '')).not.toContain(codes[0]);

    const first = await login(erin.username, erin.password);
    expect(first.json().details.factors.sort()).toEqual(['recovery_code', 'totp']);
    expect((await login(erin.username, erin.password, { mfa_challenge: first.json().details.mfa_challenge, recovery_code: codes[0] })).statusCode).toBe(200);
    const again = await login(erin.username, erin.password, { mfa_challenge: await challenge(erin), recovery_code: codes[0] });
    expect(again.statusCode).toBe(401);
    expect(again.json().error_id).toBe('mfa-invalid');

    const list = await api('GET', `/0.1/users/${erin.uuid}/mfa`, admin);
    expect(list.statusCode, list.body).toBe(200);
    const items = list.json().items as Record<string, unknown>[];
    expect(items.map((f) => f.type).sort()).toEqual(['recovery_code', 'totp']);
    expect(items.find((f) => f.type === 'recovery_code')!.remaining).toBe(9);
    for (const f of items) expect(Object.keys(f).sort()).not.toContain('secret');
  });

  it('lets an administrator remove a factor (never enrol one); the password alone then suffices again', async () => {
    const frank = await newUser();
    const totp = await withTotp(frank);
    expect((await login(frank.username, frank.password)).statusCode).toBe(401);
    const forOther = await api('POST', `/0.1/users/${frank.uuid}/mfa/totp`, admin, {});
    expect(forOther.statusCode).toBe(403);
    expect((await api('DELETE', `/0.1/users/${frank.uuid}/mfa/${totp.uuid}`, admin)).statusCode).toBe(204);
    expect((await api('DELETE', `/0.1/users/${frank.uuid}/mfa/${totp.uuid}`, admin)).statusCode).toBe(404);
    expect((await login(frank.username, frank.password)).statusCode).toBe(200);
    await until(() => bus.named('auth_user_mfa_deleted').some((m) => m.routingKey === `auth.users.${frank.uuid}.mfa.deleted`), 'mfa deleted event');
  });

  it('does not ask again on refresh-token logins obtained with the factor', async () => {
    const gina = await newUser();
    const { secret } = await withTotp(gina);
    const c = await challenge(gina, { access_type: 'offline', client_id: 'mfa-app' });
    const ok = await login(gina.username, gina.password, { mfa_challenge: c, access_type: 'offline', client_id: 'mfa-app', totp: codeAt(secret, clock.now()) });
    expect(ok.statusCode, ok.body).toBe(200);
    const refresh = ok.json().data.refresh_token;
    const again = await inject({ method: 'POST', url: '/0.1/token', headers: JSON_HEADERS, payload: { refresh_token: refresh, client_id: 'mfa-app' } });
    expect(again.statusCode, again.body).toBe(200);
  });

  it('counts wrong codes in the login throttle', async () => {
    const hank = await newUser();
    const { secret } = await withTotp(hank);
    const good = codeAt(secret, clock.now());
    const bad = good === '123456' ? '654321' : '123456';
    let last = 0;
    for (let i = 0; i < 6; i += 1) {
      const res = await login(hank.username, hank.password, { mfa_challenge: await challenge(hank).catch(() => 'none'), totp: bad }).catch(() => null);
      last = res?.statusCode ?? 0;
      if (last === 429) break;
    }
    expect(last).toBe(429);
  });

  it('audits the MFA decisions', async () => {
    await t.service.security.audit.flush();
    const top = (await t.service.store.getTopTenant())!.uuid;
    const records = await t.service.store.listAuditRecords({ tenantUuids: [top], includeUntenanted: true }, { limit: 1000 });
    const outcomes = new Set(records.items.filter((r) => r.action === 'login.mfa').map((r) => r.outcome));
    expect([...outcomes].sort()).toEqual(expect.arrayContaining(['challenged', 'failure', 'success']));
    // And the metrics count them.
    const metric = await t.service.metrics.registry.getSingleMetricAsString('xivo_auth_mfa_verifications_total');
    expect(metric).toMatch(/xivo_auth_mfa_verifications_total\{factor="totp",result="success"\} [1-9]/);
    expect(metric).toMatch(/xivo_auth_mfa_verifications_total\{factor="totp",result="failure"\} [1-9]/);
    expect(metric).toMatch(/xivo_auth_mfa_verifications_total\{factor="recovery_code",result="success"\} [1-9]/);
  });

  it('mfa.required_for: a matching user without a factor gets a token that can only enrol', async () => {
    const ivan = await newUser(['confd.admin.read']);
    const res = await login(ivan.username, ivan.password);
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json().error_id).toBe('mfa-enrolment-required');
    const restricted = res.json().details.token as string;
    expect(res.json().details.acl).toEqual(['auth.users.me.mfa.#']);
    expect((await inject({ method: 'HEAD', url: `/0.1/token/${restricted}?scope=confd.admin.read` })).statusCode).toBe(403);
    expect((await api('GET', '/0.1/users/me/tokens', restricted)).statusCode).toBe(401);
    // It enrols, then logs in with the factor and gets the whole ACL.
    const enrol = await api('POST', '/0.1/users/me/mfa/totp', restricted, {});
    expect(enrol.statusCode, enrol.body).toBe(200);
    const { uuid, secret } = enrol.json();
    expect((await api('PUT', `/0.1/users/me/mfa/totp/${uuid}/confirm`, restricted, { code: codeAt(secret, clock.now()) })).statusCode).toBe(204);
    clock.advance(STEP_MS);
    const full = await login(ivan.username, ivan.password, { mfa_challenge: await challenge(ivan), totp: codeAt(secret, clock.now()) });
    expect(full.statusCode, full.body).toBe(200);
    expect(full.json().data.acl).toContain('confd.admin.read');
    // A user outside the rule is unaffected.
    expect((await login((await newUser(['confd.users.me.read'])).username, `mfa-user-${n}-password`)).statusCode).toBe(200);
  });

  it('documents the routes and the challenge in the OpenAPI document', async () => {
    const doc = (await inject({ method: 'GET', url: '/0.1/api/api.yml' })).body;
    for (const text of ['/users/{user_uuid}/mfa/totp', '/users/{user_uuid}/mfa/recovery_codes', '/mfa/webauthn/options', 'mfa_challenge', 'mfa-required']) {
      expect(doc).toContain(text);
    }
  });

  it('mfa.required_for exempts service accounts (external_api) by default', async () => {
    const svc = await newUser(['confd.admin.read'], 'external_api');
    expect((await login(svc.username, svc.password)).statusCode).toBe(200);
  });
});
