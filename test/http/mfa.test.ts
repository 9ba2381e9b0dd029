// Multi-factor authentication (issue 24) through POST /token and the
// /users/{u}/mfa routes, on both engines. TOTP codes are computed here from
// the secret the enrolment shows (otpauth, RFC 6238), at the fake clock's time.
import type { InjectOptions } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { FakeClock } from '../../src/clock.js';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { AMQP_URI, startBusConsumer, type BusConsumer } from '../helpers/bus.js';
import { databaseText, externalAuthWith, tempKeyFile } from '../helpers/external.js';
import { ADMIN, basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { until } from '../helpers/until.js';
import { securityWith } from '../security/helpers.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const STEP_MS = 30_000;

interface OpenApiSchema {
  properties?: Record<string, OpenApiSchema & { items?: OpenApiSchema }>;
}
interface OpenApiOperation {
  description?: string;
  requestBody?: { content: Record<string, { schema: OpenApiSchema }> };
  responses: Record<string, { content?: Record<string, { schema: OpenApiSchema }> }>;
}

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
  const login = (user: string, password: string, body: Record<string, unknown> = {}) =>
    inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { ...JSON_HEADERS, authorization: basic(user, password) },
      payload: body,
    });
  const api = (method: InjectOptions['method'], url: string, token: string, payload?: unknown) =>
    inject({
      method,
      url,
      headers: { ...JSON_HEADERS, 'x-auth-token': token },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
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
      const p = await api('POST', '/0.1/policies', admin, {
        name: `${username} policy`,
        acl: ['auth.users.me.mfa.#', ...extraAcl],
      });
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
    t = await startTestService(
      engine,
      {
        external_auth: externalAuthWith(key.file),
        security: securityWith({ rate_limits: { enabled: false } }),
        // A service account whose ACL the rule below names.
        enabled_backend_plugins: { xivo_user: true, xivo_service: true },
        service_accounts: { 'mfa-service': { password: 'mfa-service-password', acl: ['confd.admin.read'] } },
        amqp: {
          ...DEFAULT_CONFIG.amqp,
          enabled: true,
          uri: AMQP_URI,
          exchange_name: bus.exchange,
          poll_interval_ms: 50,
          retry_min_ms: 50,
          retry_max_ms: 200,
        },
        // The bootstrap administrator (purpose internal, ACL `#`) is exempted here, or it too must enrol first.
        mfa: {
          ...DEFAULT_CONFIG.mfa,
          required_for: { acl: ['confd.admin.#'], purposes: [] },
          exempt_purposes: ['external_api', 'internal'],
        },
      },
      clock,
    );
    // Listening starts the event relay.
    await t.service.listen();
    const res = await login(ADMIN.username, ADMIN.password);
    expect(res.statusCode, res.body).toBe(200);
    admin = res.json().data.token;
    const p = await api('POST', '/0.1/policies', admin, {
      name: 'mfa self service',
      acl: ['auth.users.me.mfa.#', 'auth.users.me.tokens.#'],
    });
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

    const wrong = await api('PUT', `/0.1/users/me/mfa/totp/${body.uuid}/confirm`, alice.token, {
      code: codeAt(body.secret, clock.now() + 5 * STEP_MS),
    });
    expect(wrong.statusCode).toBe(400);
    const confirmCode = codeAt(body.secret, clock.now());
    expect((await api('PUT', `/0.1/users/me/mfa/totp/${body.uuid}/confirm`, alice.token, { code: confirmCode })).statusCode).toBe(
      204,
    );
    // A confirmed factor is confirmed once.
    expect((await api('PUT', `/0.1/users/me/mfa/totp/${body.uuid}/confirm`, alice.token, { code: confirmCode })).statusCode).toBe(
      400,
    );
    // The code that confirmed the factor is used: it does not log in.
    const c = (await login(alice.username, alice.password)).json().details.mfa_challenge;
    expect((await login(alice.username, alice.password, { mfa_challenge: c, totp: confirmCode })).json().error_id).toBe(
      'mfa-invalid',
    );
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

    const ok = await login(alice.username, alice.password, {
      mfa_challenge: r.details.mfa_challenge,
      totp: codeAt(body.secret, clock.now()),
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().data.token).toMatch(/./);

    const added = await until(
      () => bus.named('auth_user_mfa_added').some((m) => m.routingKey === `auth.users.${alice.uuid}.mfa.added`),
      'mfa added event',
    ).then(() => bus.named('auth_user_mfa_added').find((m) => m.routingKey === `auth.users.${alice.uuid}.mfa.added`)!);
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

    const wrong = await login(bob.username, bob.password, {
      mfa_challenge: await challenge(bob),
      totp: '000000' === codeAt(secret, clock.now()) ? '111111' : '000000',
    });
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
    expect(
      (
        await login(bob.username, bob.password, {
          mfa_challenge: await challenge(bob),
          totp: codeAt(secret, clock.now() - STEP_MS),
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await login(bob.username, bob.password, {
          mfa_challenge: await challenge(bob),
          totp: codeAt(secret, clock.now() + STEP_MS),
        })
      ).statusCode,
    ).toBe(200);
    clock.advance(4 * STEP_MS);
    const far = await login(bob.username, bob.password, {
      mfa_challenge: await challenge(bob),
      totp: codeAt(secret, clock.now() - 2 * STEP_MS),
    });
    expect(far.statusCode).toBe(401);
  });

  it('makes the challenge single use, short-lived and bound to the login parameters', async () => {
    const carol = await newUser();
    const { secret } = await withTotp(carol);
    const c = await challenge(carol, { expiration: 60 });
    expect(
      (await login(carol.username, carol.password, { mfa_challenge: c, expiration: 60, totp: codeAt(secret, clock.now()) }))
        .statusCode,
    ).toBe(200);
    clock.advance(STEP_MS);
    const reused = await login(carol.username, carol.password, {
      mfa_challenge: c,
      expiration: 60,
      totp: codeAt(secret, clock.now()),
    });
    expect(reused.json().error_id).toBe('mfa-invalid');

    clock.advance(STEP_MS);
    const widened = await login(carol.username, carol.password, {
      mfa_challenge: await challenge(carol, { expiration: 60 }),
      expiration: 36000,
      totp: codeAt(secret, clock.now()),
    });
    expect(widened.json().error_id).toBe('mfa-invalid');

    const old = await challenge(carol);
    clock.advance(301_000);
    const expired = await login(carol.username, carol.password, { mfa_challenge: old, totp: codeAt(secret, clock.now()) });
    expect(expired.json().error_id).toBe('mfa-invalid');
    // Another user's challenge is not this user's.
    const dave = await newUser();
    await withTotp(dave);
    const foreign = await login(carol.username, carol.password, {
      mfa_challenge: await challenge(dave),
      totp: codeAt(secret, clock.now()),
    });
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
    for (const c of codes) expect(c).toMatch(/^[A-HJKMNP-Z2-9]{5}-[A-HJKMNP-Z2-9]{5}$/);
    // Stored hashed: neither as shown nor as compared (without the dash).
    const stored = databaseText(t.config.db_uri ?? '');
    expect(stored).not.toContain(codes[0]);
    expect(stored).not.toContain(codes[0].replace('-', ''));

    const first = await login(erin.username, erin.password);
    expect(first.json().details.factors.sort()).toEqual(['recovery_code', 'totp']);
    expect(
      (await login(erin.username, erin.password, { mfa_challenge: first.json().details.mfa_challenge, recovery_code: codes[0] }))
        .statusCode,
    ).toBe(200);
    const again = await login(erin.username, erin.password, { mfa_challenge: await challenge(erin), recovery_code: codes[0] });
    expect(again.statusCode).toBe(401);
    expect(again.json().error_id).toBe('mfa-invalid');
    // Typed differently (lower case, no dash), another code still works once.
    const typed = codes[1].replace('-', '').toLowerCase();
    expect(
      (await login(erin.username, erin.password, { mfa_challenge: await challenge(erin), recovery_code: typed })).statusCode,
    ).toBe(200);
    expect(
      (await login(erin.username, erin.password, { mfa_challenge: await challenge(erin), recovery_code: codes[1] })).json()
        .error_id,
    ).toBe('mfa-invalid');
    // A new set replaces the previous one: the old unused codes no longer work.
    const renewal = (await api('POST', '/0.1/users/me/mfa/recovery_codes', erin.token)).json();
    const renewed = renewal.codes as string[];
    expect(renewed).toHaveLength(10);
    // Published: the replaced set deleted, the new one added.
    const published = (name: string, factor: string) =>
      bus.named(name).some((m) => {
        const data = m.body.data as { factor_uuid?: string; type?: string };
        return data.factor_uuid === factor && data.type === 'recovery_code';
      });
    await until(
      () => published('auth_user_mfa_deleted', res.json().uuid) && published('auth_user_mfa_added', renewal.uuid),
      'recovery codes replaced events',
    );
    expect(
      (await login(erin.username, erin.password, { mfa_challenge: await challenge(erin), recovery_code: codes[2] })).json()
        .error_id,
    ).toBe('mfa-invalid');
    expect(
      (await login(erin.username, erin.password, { mfa_challenge: await challenge(erin), recovery_code: renewed[0] })).statusCode,
    ).toBe(200);

    const list = await api('GET', `/0.1/users/${erin.uuid}/mfa`, admin);
    expect(list.statusCode, list.body).toBe(200);
    const items = list.json().items as Record<string, unknown>[];
    expect(items.map((f) => f.type).sort()).toEqual(['recovery_code', 'totp']);
    expect(items.find((f) => f.type === 'recovery_code')!.remaining).toBe(9);
    for (const f of items) expect(Object.keys(f).sort()).toEqual(expect.not.arrayContaining(['secret', 'codes']));
    expect(list.body).not.toContain(renewed[1]);
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
    await until(
      () => bus.named('auth_user_mfa_deleted').some((m) => m.routingKey === `auth.users.${frank.uuid}.mfa.deleted`),
      'mfa deleted event',
    );
  });

  it('does not ask again on refresh-token logins obtained with the factor', async () => {
    const gina = await newUser();
    const { secret } = await withTotp(gina);
    const c = await challenge(gina, { access_type: 'offline', client_id: 'mfa-app' });
    const ok = await login(gina.username, gina.password, {
      mfa_challenge: c,
      access_type: 'offline',
      client_id: 'mfa-app',
      totp: codeAt(secret, clock.now()),
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const refresh = ok.json().data.refresh_token;
    const again = await inject({
      method: 'POST',
      url: '/0.1/token',
      headers: JSON_HEADERS,
      payload: { refresh_token: refresh, client_id: 'mfa-app' },
    });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().data.token).toMatch(/./);
    // The password alone still gets no refresh token.
    const alone = await login(gina.username, gina.password, { access_type: 'offline', client_id: 'mfa-app' });
    expect(alone.json().error_id).toBe('mfa-required');
    expect(alone.json().data).toBeUndefined();
  });

  it('counts wrong codes in the login throttle', async () => {
    const hank = await newUser();
    const { secret } = await withTotp(hank);
    const good = codeAt(secret, clock.now());
    const bad = good === '123456' ? '654321' : '123456';
    let last = 0;
    for (let i = 0; i < 6; i += 1) {
      const res = await login(hank.username, hank.password, {
        mfa_challenge: await challenge(hank).catch(() => 'none'),
        totp: bad,
      }).catch(() => null);
      last = res?.statusCode ?? 0;
      if (last === 429) break;
    }
    expect(last).toBe(429);
  });

  it('audits the MFA decisions', async () => {
    // One user through every decision: enrolment required, enrolled, challenged, failed, succeeded, factor removed.
    const judy = await newUser(['confd.admin.read']);
    const { uuid: factor, secret } = await withTotp(judy);
    const wrong = codeAt(secret, clock.now()) === '000000' ? '111111' : '000000';
    expect(
      (await login(judy.username, judy.password, { mfa_challenge: await challenge(judy), totp: wrong })).json().error_id,
    ).toBe('mfa-invalid');
    expect(
      (await login(judy.username, judy.password, { mfa_challenge: await challenge(judy), totp: codeAt(secret, clock.now()) }))
        .statusCode,
    ).toBe(200);
    expect((await api('DELETE', `/0.1/users/${judy.uuid}/mfa/${factor}`, admin)).statusCode).toBe(204);

    await t.service.security.audit.flush();
    const top = (await t.service.store.getTopTenant())!.uuid;
    const records = await t.service.store.listAuditRecords({ tenantUuids: [top], includeUntenanted: true }, { limit: 1000 });
    const mine = records.items.filter((r) => r.actorUuid === judy.uuid || r.targetId === factor);
    const decisions = new Set(mine.map((r) => `${r.action}:${r.outcome}`));
    for (const d of [
      'login.mfa:enrolment_required',
      'users.mfa.create:success',
      'users.mfa.confirm:success',
      'login.mfa:challenged',
      'login.mfa:failure',
      'login.mfa:success',
      'users.mfa.delete:success',
    ]) {
      expect([...decisions], d).toContain(d);
    }
    // The failure says why, and the login attempt itself is recorded as neither a success nor a failure until the factor.
    expect(mine.find((r) => r.action === 'login.mfa' && r.outcome === 'failure')!.details).toMatchObject({
      factor: 'totp',
      reason: 'invalid_code',
    });
    expect(records.items.some((r) => r.action === 'login' && r.outcome === 'mfa_required' && r.login === judy.username)).toBe(
      true,
    );
    // A confirmation with a wrong code is audited too.
    const outcomes = new Set(records.items.filter((r) => r.action === 'users.mfa.confirm').map((r) => r.outcome));
    expect([...outcomes].sort()).toEqual(['failure', 'success']);
    // And the metrics count them.
    const metric = await t.service.metrics.registry.getSingleMetricAsString('xivo_auth_mfa_verifications_total');
    expect(metric).toMatch(/xivo_auth_mfa_verifications_total\{factor="totp",result="success"\} [1-9]/);
    expect(metric).toMatch(/xivo_auth_mfa_verifications_total\{factor="totp",result="failure"\} [1-9]/);
    expect(metric).toMatch(/xivo_auth_mfa_verifications_total\{factor="recovery_code",result="success"\} [1-9]/);
    expect(metric).toMatch(/xivo_auth_mfa_verifications_total\{factor="challenge",result="challenged"\} [1-9]/);
    expect(metric).toMatch(/xivo_auth_mfa_verifications_total\{factor="none",result="enrolment_required"\} [1-9]/);
  });

  it('mfa.required_for: a matching user without a factor gets a token that can only enrol', async () => {
    const ivan = await newUser(['confd.admin.read']);
    const res = await login(ivan.username, ivan.password);
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json().error_id).toBe('mfa-enrolment-required');
    const restricted = res.json().details.token as string;
    expect(res.json().details.acl).toEqual(['auth.users.me.mfa.#']);
    expect(res.json().details.mfa_challenge).toBeUndefined();
    // Never with a refresh token: its logins would skip the factor.
    const offline = await login(ivan.username, ivan.password, { access_type: 'offline', client_id: 'mfa-enrol-app' });
    expect(offline.json().error_id).toBe('mfa-enrolment-required');
    expect(offline.json().details.token).toMatch(/./);
    expect(offline.json().details.refresh_token).toBeUndefined();
    expect(offline.body).not.toContain('refresh_token');
    const refreshTokens = await api('GET', `/0.1/users/${ivan.uuid}/tokens`, admin);
    expect(refreshTokens.statusCode, refreshTokens.body).toBe(200);
    expect(refreshTokens.json().total).toBe(0);
    expect((await inject({ method: 'HEAD', url: `/0.1/token/${restricted}?scope=confd.admin.read` })).statusCode).toBe(403);
    expect((await api('GET', '/0.1/users/me/tokens', restricted)).statusCode).toBe(401);
    // It enrols, then logs in with the factor and gets the whole ACL.
    const enrol = await api('POST', '/0.1/users/me/mfa/totp', restricted, {});
    expect(enrol.statusCode, enrol.body).toBe(200);
    const { uuid, secret } = enrol.json();
    expect(
      (await api('PUT', `/0.1/users/me/mfa/totp/${uuid}/confirm`, restricted, { code: codeAt(secret, clock.now()) })).statusCode,
    ).toBe(204);
    clock.advance(STEP_MS);
    const full = await login(ivan.username, ivan.password, {
      mfa_challenge: await challenge(ivan),
      totp: codeAt(secret, clock.now()),
    });
    expect(full.statusCode, full.body).toBe(200);
    expect(full.json().data.acl).toContain('confd.admin.read');
    // A user outside the rule is unaffected.
    expect((await login((await newUser(['confd.users.me.read'])).username, `mfa-user-${n}-password`)).statusCode).toBe(200);
  });

  it('documents the routes, their schemas and the challenge in the OpenAPI document', async () => {
    const res = await inject({ method: 'GET', url: '/0.1/api/api.yml' });
    expect(res.statusCode).toBe(200);
    const doc = parseYaml(res.body) as { paths: Record<string, Record<string, OpenApiOperation>> };
    const op = (method: string, route: string) => {
      const found = doc.paths[`/0.1${route}`]?.[method];
      expect(found, `${method.toUpperCase()} ${route}`).toBeDefined();
      return found!;
    };
    const bodyOf = (o: OpenApiOperation) => o.requestBody?.content['application/json'].schema;
    const answerOf = (o: OpenApiOperation, status: string) => o.responses[status]?.content?.['application/json']?.schema;
    const props = (schema: OpenApiSchema | undefined) => Object.keys(schema?.properties ?? {}).sort();

    expect(props(answerOf(op('get', '/users/{user_uuid}/mfa'), '200'))).toEqual(['items', 'total']);
    expect(props(answerOf(op('get', '/users/{user_uuid}/mfa'), '200')!.properties!.items.items)).not.toContain('secret');
    expect(props(answerOf(op('post', '/users/{user_uuid}/mfa/totp'), '200'))).toEqual([
      'confirmed',
      'otpauth_uri',
      'qr_svg',
      'secret',
      'uuid',
    ]);
    expect(props(bodyOf(op('put', '/users/{user_uuid}/mfa/totp/{factor_uuid}/confirm')))).toEqual(['code']);
    expect(Object.keys(op('put', '/users/{user_uuid}/mfa/totp/{factor_uuid}/confirm').responses)).toEqual(
      expect.arrayContaining(['204', '400']),
    );
    expect(props(answerOf(op('post', '/users/{user_uuid}/mfa/recovery_codes'), '200'))).toEqual(['codes', 'uuid']);
    expect(op('post', '/users/{user_uuid}/mfa/webauthn/registration/options').responses['200']).toBeDefined();
    expect(props(bodyOf(op('post', '/users/{user_uuid}/mfa/webauthn/registration')))).toEqual(['name', 'response']);
    expect(props(bodyOf(op('post', '/mfa/webauthn/options')))).toEqual(['mfa_challenge']);
    expect(Object.keys(op('delete', '/users/{user_uuid}/mfa/{factor_uuid}').responses)).toEqual(
      expect.arrayContaining(['204', '404']),
    );
    expect(props(bodyOf(op('put', '/tenants/{tenant_uuid}/mfa')))).toEqual(['required_for']);
    expect(props(answerOf(op('get', '/tenants/{tenant_uuid}/mfa'), '200'))).toEqual([
      'effective_required_for',
      'required_for',
      'tenant_uuid',
      'updated_at',
    ]);

    const token = op('post', '/token');
    expect(props(bodyOf(token))).toEqual(expect.arrayContaining(['mfa_challenge', 'recovery_code', 'totp', 'webauthn']));
    expect(props(answerOf(token, '401')!.properties!.details)).toEqual(
      expect.arrayContaining(['acl', 'expires_in', 'factors', 'mfa_challenge', 'token']),
    );
    expect(token.description).toContain('mfa-required');
    expect(token.description).toContain('mfa-enrolment-required');
  });

  it('mfa.required_for exempts service accounts (external_api) by default', async () => {
    const svc = await newUser(['confd.admin.read'], 'external_api');
    expect((await login(svc.username, svc.password)).statusCode).toBe(200);
    // Exempt from enrolling, not from a factor it has.
    const { secret } = await withTotp(svc);
    const c = await challenge(svc);
    expect((await login(svc.username, svc.password, { mfa_challenge: c, totp: codeAt(secret, clock.now()) })).statusCode).toBe(
      200,
    );
  });

  it('mfa.required_for: recovery codes alone are not the factor it asks for', async () => {
    const kim = await newUser(['confd.admin.read']);
    const codes = await api('POST', '/0.1/users/me/mfa/recovery_codes', kim.token);
    expect(codes.statusCode, codes.body).toBe(200);
    const res = await login(kim.username, kim.password);
    expect(res.json().error_id).toBe('mfa-enrolment-required');
    expect(res.json().details.acl).toEqual(['auth.users.me.mfa.#']);
  });

  it('never asks xivo_service accounts (mfa.exempt_backends), whatever their ACL', async () => {
    const res = await login('mfa-service', 'mfa-service-password', { backend: 'xivo_service' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data.acl).toEqual(['confd.admin.read']);
  });
});
