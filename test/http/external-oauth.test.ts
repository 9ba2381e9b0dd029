// Google and Microsoft connections (issue 22) against a real OAuth 2.0
// server on loopback (oidc-provider, ../helpers/oauth-provider.ts), over
// real HTTP, on both engines: the device authorization as the user lives it
// (approved on the server's own pages), the background poll (completed by
// another instance than the one that started it), the refresh, the
// revocation, and the failures: denied, expired code, provider down, hung or
// broken. Events on the real RabbitMQ; no secret in an answer, the log or
// the database.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import type { Config } from '../../src/config/types.js';
import type { FakeClock } from '../../src/clock.js';
import { createService, type Service } from '../../src/main.js';
import { startLoggedService, type LoggedService } from '../backends/logged-service.js';
import { AMQP_URI, type BusConsumer, type BusMessage, startBusConsumer } from '../helpers/bus.js';
import { closeAtEnd } from '../helpers/cleanup.js';
import { databaseText, externalAuthWith, httpClient, tempKeyFile } from '../helpers/external.js';
import { CLIENT_ID, CLIENT_SECRET, SCOPES, startOAuthProvider, type TestOAuthProvider } from '../helpers/oauth-provider.js';
import { ADMIN, ENGINES, basic, testConfig } from '../helpers/service.js';
import { until } from '../helpers/until.js';

describe.each(ENGINES)('Google and Microsoft connections on %s', (engine) => {
  let provider: TestOAuthProvider;
  let t: LoggedService;
  let other: Service;
  let bus: BusConsumer;
  let admin: string;
  const http = httpClient(() => t.service.url!);
  const clock = () => t.clock as FakeClock;

  const login = async (username: string, password: string) => {
    // Tokens outlive the clock's jumps over access tokens' lifetimes.
    const res = await http('POST', '/0.1/token', {
      body: { expiration: 315_360_000 },
      headers: { authorization: basic(username, password) },
    });
    expect(res.status, res.text).toBe(200);
    return res.body.data.token as string;
  };
  /** A user whose token grants it its own external connections; returns its uuid and token. */
  const createUser = async (username: string) => {
    const res = await http('POST', '/0.1/users', { token: admin, body: { username, password: `${username}-password` } });
    expect(res.status, res.text).toBe(200);
    const policy = await http('POST', '/0.1/policies', {
      token: admin,
      body: { name: `${username} policy`, acl: ['auth.users.me.external.#'] },
    });
    expect((await http('PUT', `/0.1/users/${res.body.uuid}/policies/${policy.body.uuid}`, { token: admin })).status).toBe(204);
    return { uuid: res.body.uuid as string, token: await login(username, `${username}-password`) };
  };
  const expectEvent = async (predicate: (m: BusMessage) => boolean, what: string) => {
    await until(() => bus.messages.some(predicate), what);
    return bus.messages.find(predicate)!;
  };
  /** Starts a connection as the user; returns the device authorization. */
  const start = async (token: string, type = 'google') => {
    const res = await http('POST', `/0.1/users/me/external/${type}`, { token, body: {} });
    expect(res.status, res.text).toBe(201);
    return res.body as {
      verification_uri: string;
      verification_uri_complete: string | null;
      user_code: string;
      expires_in: number;
      interval: number;
    };
  };
  /** Moves the clock past the poll interval (the provider's clock is real: it is not fooled). */
  const nextInterval = (seconds = 5) => clock().advance(seconds * 1000 + 1);

  beforeAll(async () => {
    provider = await startOAuthProvider();
    const key = tempKeyFile();
    bus = await startBusConsumer();
    const endpoints = {
      device_authorization_url: provider.deviceAuthorizationUrl,
      token_url: provider.tokenUrl,
      revocation_url: provider.revocationUrl,
      scope: SCOPES,
    };
    const overrides: Partial<Config> = {
      external_auth: externalAuthWith(key.file, { provider_timeout_seconds: 1, poll_interval_seconds: 0 }),
      google: endpoints,
      // Microsoft's identity platform has no revocation endpoint: nor has this one.
      microsoft: { ...endpoints, revocation_url: null },
      amqp: {
        ...DEFAULT_CONFIG.amqp,
        enabled: true,
        uri: AMQP_URI,
        exchange_name: bus.exchange,
        poll_interval_ms: 50,
        retry_min_ms: 50,
        retry_max_ms: 200,
      },
    };
    t = await startLoggedService(engine, overrides);
    await t.service.listen();
    // A second instance on the same database, with the same key: it completes what the first started.
    other = await createService(testConfig(t.config.db_uri!, overrides), pino({ level: 'silent' }), { clock: t.clock });
    closeAtEnd(() => other.close());
    admin = await login(ADMIN.username, ADMIN.password);
    for (const type of ['google', 'microsoft']) {
      const res = await http('POST', `/0.1/external/${type}/config`, {
        token: admin,
        body: { client_id: CLIENT_ID, client_secret: CLIENT_SECRET },
      });
      expect(res.status, res.text).toBe(201);
    }
  });
  afterAll(async () => {
    await other?.close();
    await t?.close();
    await bus?.close();
    await provider?.close();
  });

  it("connects a user: device code, approval on the provider's pages, background poll on another instance, token", async () => {
    const alice = await createUser('alice');
    const started = await start(alice.token);
    expect(started.verification_uri).toBe(`${provider.issuer}/device`);
    expect(started.user_code).toMatch(/^[A-Z]{4}-?[A-Z]{4}$/);
    expect(started.expires_in).toBeGreaterThan(0);
    expect(started.interval).toBeGreaterThan(0);

    // Not approved yet: 404 pending (a poll made, answered authorization_pending).
    nextInterval(started.interval);
    const pending = await http('GET', '/0.1/users/me/external/google', { token: alice.token });
    expect(pending.status, pending.text).toBe(404);
    expect(pending.body.error_id).toBe('external-auth-pending');
    expect(provider.tokenRequests).toContain('urn:ietf:params:oauth:grant-type:device_code');

    await provider.approve(started.verification_uri, started.user_code);
    // The other instance's poller completes it (the poll is claimed in the store).
    nextInterval(started.interval);
    expect(await other.external.poller.runOnce()).toBe(1);
    // ...and the first one, polling at the same time, finds nothing due.
    expect(await t.service.external.poller.runOnce()).toBe(0);

    const added = await expectEvent((m) => m.routingKey === `auth.users.${alice.uuid}.external.google.created`, 'added');
    expect(added.headers.name).toBe('auth_user_external_auth_added');
    const authorized = await expectEvent(
      (m) => m.routingKey === `auth.users.${alice.uuid}.external.google.authorized`,
      'authorized',
    );
    expect(authorized.headers).toMatchObject({ name: 'auth_user_external_auth_authorized', [`user_uuid:${alice.uuid}`]: true });
    expect(authorized.body.data).toEqual({ user_uuid: alice.uuid, external_auth_name: 'google' });

    const token = await http('GET', '/0.1/users/me/external/google', { token: alice.token });
    expect(token.status, token.text).toBe(200);
    expect(token.body.scope).toEqual(expect.arrayContaining(['contacts.read']));
    expect(Date.parse(token.body.expires_at)).toBeGreaterThan(clock().now());
    expect(token.body.token_expiration).toBe(Math.floor(Date.parse(token.body.expires_at) / 1000));
    expect(await provider.introspect(token.body.access_token)).toBe(true);
    // dird asks for it by uuid, with its own token.
    expect((await http('GET', `/0.1/users/${alice.uuid}/external/google`, { token: admin })).body.access_token).toBe(
      token.body.access_token,
    );

    const listed = await http('GET', `/0.1/users/${alice.uuid}/external`, { token: admin });
    expect(listed.body.items.find((i: { type: string }) => i.type === 'google')).toEqual({
      type: 'google',
      enabled: true,
      data: {},
      plugin_info: {},
    });
    expect((await http('GET', '/0.1/external/google/users', { token: admin })).body.items).toContainEqual({ uuid: alice.uuid });
  });

  it('refreshes the token when it is about to expire, and revokes it at the provider on DELETE', async () => {
    const bob = await createUser('bob');
    const started = await start(bob.token);
    await provider.approve(started.verification_uri, started.user_code);
    nextInterval(started.interval);
    const first = await http('GET', '/0.1/users/me/external/google', { token: bob.token });
    expect(first.status, first.text).toBe(200);
    const refreshesBefore = provider.tokenRequests.filter((g) => g === 'refresh_token').length;

    // Still valid: the same token, no refresh.
    clock().advance(60_000);
    expect((await http('GET', '/0.1/users/me/external/google', { token: bob.token })).body.access_token).toBe(
      first.body.access_token,
    );
    // Within the margin of its expiry: refreshed once, even when asked for twice at once.
    clock().advance(3600_000 - 60_000 - 30_000);
    const [a, b] = await Promise.all([
      http('GET', '/0.1/users/me/external/google', { token: bob.token }),
      http('GET', '/0.1/users/me/external/google', { token: bob.token }),
    ]);
    expect(a.status, a.text).toBe(200);
    expect(b.status, b.text).toBe(200);
    expect(provider.tokenRequests.filter((g) => g === 'refresh_token').length).toBe(refreshesBefore + 1);
    const refreshed = a.body.access_token === first.body.access_token ? b.body : a.body;
    expect(refreshed.access_token).not.toBe(first.body.access_token);
    expect(Date.parse(refreshed.expires_at)).toBeGreaterThan(clock().now() + 3000_000);
    expect(await provider.introspect(refreshed.access_token)).toBe(true);
    await expectEvent((m) => m.routingKey === `auth.users.${bob.uuid}.external.google.updated`, 'updated by the refresh');

    const deleted = await http('DELETE', '/0.1/users/me/external/google', { token: bob.token });
    expect(deleted.status, deleted.text).toBe(204);
    await expectEvent((m) => m.routingKey === `auth.users.${bob.uuid}.external.google.deleted`, 'deleted');
    // Revoked at the provider: the grant, with its access token.
    expect(await provider.introspect(refreshed.access_token)).toBe(false);
    expect((await http('GET', '/0.1/users/me/external/google', { token: bob.token })).status).toBe(404);
    expect((await http('DELETE', '/0.1/users/me/external/google', { token: bob.token })).status).toBe(404);
  });

  it('forgets a connection whose refresh token the provider no longer accepts (404 revoked)', async () => {
    const erin = await createUser('erin');
    const started = await start(erin.token, 'microsoft');
    await provider.approve(started.verification_uri, started.user_code);
    nextInterval(started.interval);
    const token = await http('GET', '/0.1/users/me/external/microsoft', { token: erin.token });
    expect(token.status, token.text).toBe(200);
    // The user removes xivo-auth's access in the provider's account settings.
    await provider.revokeGrantOf(token.body.access_token);
    clock().advance(3600_000);
    const gone = await http('GET', '/0.1/users/me/external/microsoft', { token: erin.token });
    expect(gone.status, gone.text).toBe(404);
    expect(gone.body.error_id).toBe('external-auth-revoked');
    await expectEvent((m) => m.routingKey === `auth.users.${erin.uuid}.external.microsoft.deleted`, 'forgotten');
    // Microsoft has no revocation endpoint: DELETE of a new connection only forgets it.
    const again = await start(erin.token, 'microsoft');
    await provider.approve(again.verification_uri, again.user_code);
    nextInterval(again.interval);
    const renewed = await http('GET', '/0.1/users/me/external/microsoft', { token: erin.token });
    expect(renewed.status, renewed.text).toBe(200);
    expect((await http('DELETE', '/0.1/users/me/external/microsoft', { token: erin.token })).status).toBe(204);
    expect(await provider.introspect(renewed.body.access_token)).toBe(true);
  });

  it("reports a denied authorization, and an expired code (the provider's expiry and ours)", async () => {
    const carol = await createUser('carol');
    const denied = await start(carol.token);
    await provider.approve(denied.verification_uri, denied.user_code, { deny: true });
    nextInterval(denied.interval);
    const answer = await http('GET', '/0.1/users/me/external/google', { token: carol.token });
    expect(answer.status, answer.text).toBe(404);
    expect(answer.body).toMatchObject({ error_id: 'external-auth-denied', details: { state: 'denied' } });
    expect((await http('GET', '/0.1/users/me/external/google', { token: carol.token })).body.error_id).toBe(
      'external-auth-denied',
    );

    // Expired at the provider (a code living 1 s, polled after it).
    provider.deviceCodeTtl = 1;
    try {
      await start(carol.token);
    } finally {
      provider.deviceCodeTtl = 600;
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    nextInterval();
    const expired = await http('GET', '/0.1/users/me/external/google', { token: carol.token });
    expect(expired.status, expired.text).toBe(404);
    expect(expired.body.error_id).toBe('external-auth-expired');

    // Expired by our clock: not even asked.
    const late = await start(carol.token);
    const requests = provider.tokenRequests.length;
    clock().advance(late.expires_in * 1000 + 1);
    expect((await http('GET', '/0.1/users/me/external/google', { token: carol.token })).body.error_id).toBe(
      'external-auth-expired',
    );
    expect(provider.tokenRequests.length).toBe(requests);
    // DELETE forgets what is left of it.
    expect((await http('DELETE', '/0.1/users/me/external/google', { token: carol.token })).status).toBe(204);
    expect((await http('GET', '/0.1/users/me/external/google', { token: carol.token })).body.error_id).toBe(
      'unknown-external-auth',
    );
  });

  it('answers 503 (never 500) when the provider is down, hangs or fails, and recovers when it is back', async () => {
    const dave = await createUser('dave');
    try {
      for (const mode of ['down', 'hang', 'error'] as const) {
        provider.mode = mode;
        const res = await http('POST', '/0.1/users/me/external/google', { token: dave.token, body: {} });
        expect(res.status, `${mode}: ${res.text}`).toBe(503);
        expect(res.body.error_id, mode).toBe('service-unavailable');
        expect(res.headers.get('retry-after'), mode).toBe('5');
      }
    } finally {
      provider.mode = 'up';
    }
    const started = await start(dave.token);
    await provider.approve(started.verification_uri, started.user_code);
    // Down while the flow is pending: the poll is retried at the next interval.
    provider.mode = 'down';
    nextInterval(started.interval);
    expect((await http('GET', '/0.1/users/me/external/google', { token: dave.token })).body.error_id).toBe(
      'external-auth-pending',
    );
    provider.mode = 'up';
    nextInterval(started.interval);
    const token = await http('GET', '/0.1/users/me/external/google', { token: dave.token });
    expect(token.status, token.text).toBe(200);

    // Down at refresh time: the current token while it lasts, then 503.
    clock().advance(3600_000 - 30_000);
    provider.mode = 'down';
    try {
      const stale = await http('GET', '/0.1/users/me/external/google', { token: dave.token });
      expect(stale.status, stale.text).toBe(200);
      expect(stale.body.access_token).toBe(token.body.access_token);
      clock().advance(60_000);
      const unavailable = await http('GET', '/0.1/users/me/external/google', { token: dave.token });
      expect(unavailable.status, unavailable.text).toBe(503);
    } finally {
      provider.mode = 'up';
    }
    const back = await http('GET', '/0.1/users/me/external/google', { token: dave.token });
    expect(back.status, back.text).toBe(200);
    expect(back.body.access_token).not.toBe(token.body.access_token);
  });

  it('answers clearly without a configuration, for a wrong client secret, and for a bad scope', async () => {
    const frank = await createUser('frank');
    const tenant = await http('POST', '/0.1/tenants', { token: admin, body: { name: 'no google' } });
    const user = await http('POST', '/0.1/users', {
      token: admin,
      body: { username: 'gina', password: 'gina-password' },
      headers: { 'wazo-tenant': tenant.body.uuid },
    });
    const none = await http('POST', `/0.1/users/${user.body.uuid}/external/google`, { token: admin, body: {} });
    expect(none.status, none.text).toBe(404);
    expect(none.body.error_id).toBe('unknown-external-auth-config');

    const headers = { 'wazo-tenant': tenant.body.uuid };
    expect(
      (
        await http('POST', '/0.1/external/google/config', {
          token: admin,
          headers,
          body: { client_id: CLIENT_ID, client_secret: 'wrong-secret' },
        })
      ).status,
    ).toBe(201);
    const refused = await http('POST', `/0.1/users/${user.body.uuid}/external/google`, { token: admin, body: {} });
    expect(refused.status, refused.text).toBe(503);
    expect(refused.body).toMatchObject({ error_id: 'external-auth-provider-refused', details: { error: 'invalid_client' } });
    expect(refused.text).not.toContain('wrong-secret');

    for (const scope of ['contacts', [], ['']]) {
      const bad = await http('POST', '/0.1/users/me/external/google', { token: frank.token, body: { scope } });
      expect(bad.status, `${JSON.stringify(scope)}: ${bad.text}`).toBe(400);
    }
  });

  it('holds no client secret, device code or provider token in clear in the database or the log', async () => {
    expect(provider.issued.length).toBeGreaterThan(5);
    const stored = databaseText(t.config.db_uri!);
    expect(stored).toContain(CLIENT_ID);
    const log = t.lines.join('\n');
    for (const secret of [CLIENT_SECRET, ...provider.issued]) {
      expect(stored.includes(secret), `database holds ${secret.slice(0, 12)}…`).toBe(false);
      expect(log.includes(secret), `log holds ${secret.slice(0, 12)}…`).toBe(false);
    }
  });
});
