// External accounts (issue 22) over real HTTP on both engines: the
// configuration API (write-only secrets), mobile push tokens (also through
// `me`), the sender id, the connected users, and their events on the real
// RabbitMQ. No secret is ever in an answer, the log, or the database in clear.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { startLoggedService, type LoggedService } from '../backends/logged-service.js';
import { AMQP_URI, type BusConsumer, type BusMessage, startBusConsumer } from '../helpers/bus.js';
import { databaseText, externalAuthWith, httpClient, tempKeyFile } from '../helpers/external.js';
import { UNKNOWN_UUID } from '../helpers/iam.js';
import { ADMIN, ENGINES, basic } from '../helpers/service.js';
import { until } from '../helpers/until.js';

const SECRETS = {
  serviceAccount: 'fcm-service-account-private-key-7f3a91c2d4',
  apnsPrivate: '-----BEGIN PRIVATE KEY-----apns-private-5be0c7a1-----END PRIVATE KEY-----',
  fcmToken: 'fcm-registration-token-e41d8cd98f00b204',
  voipToken: 'apns-voip-token-9e107d9d372bb6826bd8',
  replacedToken: 'fcm-registration-token-replaced-0cc175b9c0f1',
};

describe.each(ENGINES)('external accounts: configuration and mobile on %s', (engine) => {
  let t: LoggedService;
  let bus: BusConsumer;
  let admin: string;
  let master: string;
  let alice: { uuid: string; token: string };
  const http = httpClient(() => t.service.url!);

  const login = async (username: string, password: string) => {
    const res = await http('POST', '/0.1/token', { body: {}, headers: { authorization: basic(username, password) } });
    expect(res.status, res.text).toBe(200);
    return res.body.data.token as string;
  };
  const createUser = async (username: string, acl: string[] = []) => {
    const res = await http('POST', '/0.1/users', { token: admin, body: { username, password: `${username}-password` } });
    expect(res.status, res.text).toBe(200);
    const uuid = res.body.uuid as string;
    if (acl.length > 0) {
      const policy = await http('POST', '/0.1/policies', { token: admin, body: { name: `${username} policy`, acl } });
      expect(policy.status, policy.text).toBe(200);
      expect((await http('PUT', `/0.1/users/${uuid}/policies/${policy.body.uuid}`, { token: admin })).status).toBe(204);
    }
    return { uuid, token: await login(username, `${username}-password`) };
  };
  const expectEvent = async (predicate: (m: BusMessage) => boolean, what: string) => {
    await until(() => bus.messages.some(predicate), what);
    return bus.messages.find(predicate)!;
  };

  beforeAll(async () => {
    const key = tempKeyFile();
    bus = await startBusConsumer();
    t = await startLoggedService(engine, {
      external_auth: externalAuthWith(key.file),
      amqp: {
        ...DEFAULT_CONFIG.amqp,
        enabled: true,
        uri: AMQP_URI,
        exchange_name: bus.exchange,
        poll_interval_ms: 50,
        retry_min_ms: 50,
        retry_max_ms: 200,
      },
    });
    await t.service.listen();
    admin = await login(ADMIN.username, ADMIN.password);
    master = (await http('GET', `/0.1/token/${admin}`)).body.data.metadata.tenant_uuid;
    alice = await createUser('alice', ['auth.users.me.external.mobile.#']);
  });
  afterAll(async () => {
    await t?.close();
    await bus?.close();
  });

  describe('configuration of a type for the tenant', () => {
    const mobileConfig = {
      fcm_sender_id: '123456789012',
      fcm_service_account_info: JSON.stringify({ type: 'service_account', private_key: SECRETS.serviceAccount }),
      ios_apn_certificate: '-----BEGIN CERTIFICATE-----public-----END CERTIFICATE-----',
      ios_apn_private: SECRETS.apnsPrivate,
      use_sandbox: true,
    };
    const publicView = {
      fcm_sender_id: '123456789012',
      ios_apn_certificate: mobileConfig.ios_apn_certificate,
      use_sandbox: true,
    };

    it('is created once (201, 409 after), read back without its write-only fields, replaced, deleted', async () => {
      expect((await http('GET', '/0.1/external/mobile/config', { token: admin })).status).toBe(404);
      const created = await http('POST', '/0.1/external/mobile/config', { token: admin, body: mobileConfig });
      expect(created.status, created.text).toBe(201);
      expect(created.body).toEqual(publicView);
      const again = await http('POST', '/0.1/external/mobile/config', { token: admin, body: mobileConfig });
      expect(again.status, again.text).toBe(409);
      const read = await http('GET', '/0.1/external/mobile/config', { token: admin });
      expect(read.status).toBe(200);
      expect(read.body).toEqual(publicView);
      for (const answer of [created, again, read]) {
        expect(answer.text).not.toContain(SECRETS.serviceAccount);
        expect(answer.text).not.toContain(SECRETS.apnsPrivate);
      }

      // PUT without the write-only fields keeps them while what they belong to is unchanged...
      const kept = await http('PUT', '/0.1/external/mobile/config', {
        token: admin,
        body: { ...publicView, use_sandbox: false },
      });
      expect(kept.status, kept.text).toBe(204);
      expect((await http('GET', '/0.1/external/mobile/config', { token: admin })).body).toEqual({
        ...publicView,
        use_sandbox: false,
      });
      // ...and asks for them again when it changes.
      const changed = await http('PUT', '/0.1/external/mobile/config', {
        token: admin,
        body: { ...publicView, fcm_sender_id: '999' },
      });
      expect(changed.status, changed.text).toBe(400);
      expect(changed.body.details).toHaveProperty('fcm_service_account_info');
      expect((await http('PUT', '/0.1/external/mobile/config', { token: admin, body: mobileConfig })).status).toBe(204);
    });

    it('refuses fields of another type, unknown fields, a google one without client_id, and unknown types', async () => {
      const wrongType = await http('POST', '/0.1/external/google/config', {
        token: admin,
        body: { client_id: 'x', fcm_sender_id: '1' },
      });
      expect(wrongType.status, wrongType.text).toBe(400);
      expect(wrongType.body.details).toHaveProperty('fcm_sender_id');
      expect((await http('POST', '/0.1/external/google/config', { token: admin, body: { client_secret: 's' } })).status).toBe(
        400,
      );
      expect(
        (await http('POST', '/0.1/external/google/config', { token: admin, body: { client_id: 'x', bogus: 1 } })).status,
      ).toBe(400);
      const unknown = await http('GET', '/0.1/external/facebook/config', { token: admin });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error_id).toBe('unknown-external-auth-type');
      expect((await http('POST', '/0.1/external/facebook/config', { token: admin, body: {} })).status).toBe(404);
    });

    it('keeps a google client_secret write-only: never returned, kept by a PUT with the same client_id', async () => {
      const secret = 'google-client-secret-3c59dc048e8850243be8';
      const created = await http('POST', '/0.1/external/google/config', {
        token: admin,
        body: { client_id: 'client-a', client_secret: secret },
      });
      expect(created.status, created.text).toBe(201);
      expect(created.body).toEqual({ client_id: 'client-a' });
      expect((await http('PUT', '/0.1/external/google/config', { token: admin, body: { client_id: 'client-a' } })).status).toBe(
        204,
      );
      expect((await http('PUT', '/0.1/external/google/config', { token: admin, body: { client_id: 'client-b' } })).status).toBe(
        400,
      );
      const read = await http('GET', '/0.1/external/google/config', { token: admin });
      expect(read.body).toEqual({ client_id: 'client-a' });
      expect(read.text).not.toContain(secret);
      expect(databaseText(t.config.db_uri!)).not.toContain(secret);
      expect(t.lines.join('\n')).not.toContain(secret);
      expect((await http('DELETE', '/0.1/external/google/config', { token: admin })).status).toBe(204);
      expect((await http('DELETE', '/0.1/external/google/config', { token: admin })).status).toBe(404);
      expect((await http('GET', '/0.1/external/google/config', { token: admin })).status).toBe(404);
    });

    it('is per tenant: another tenant has its own (Wazo-Tenant)', async () => {
      const tenant = await http('POST', '/0.1/tenants', { token: admin, body: { name: 'external sub' } });
      expect(tenant.status, tenant.text).toBe(200);
      const headers = { 'wazo-tenant': tenant.body.uuid };
      expect((await http('GET', '/0.1/external/mobile/config', { token: admin, headers })).status).toBe(404);
      expect(
        (await http('POST', '/0.1/external/mobile/config', { token: admin, headers, body: { fcm_sender_id: '42' } })).status,
      ).toBe(201);
      expect((await http('GET', '/0.1/external/mobile/config', { token: admin, headers })).body).toEqual({ fcm_sender_id: '42' });
      expect((await http('GET', '/0.1/external/mobile/config', { token: admin })).body.fcm_sender_id).toBe('123456789012');
    });
  });

  describe('mobile push tokens', () => {
    it('are registered by the user through `me` (201, 409 again), read, replaced by PUT, deleted, with their events', async () => {
      const posted = await http('POST', '/0.1/users/me/external/mobile', {
        token: alice.token,
        body: { token: SECRETS.fcmToken, apns_voip_token: SECRETS.voipToken },
      });
      expect(posted.status, posted.text).toBe(201);
      expect(posted.body).toEqual({
        token: SECRETS.fcmToken,
        apns_token: null,
        apns_voip_token: SECRETS.voipToken,
        apns_notification_token: null,
      });
      const added = await expectEvent(
        (m) => m.routingKey === `auth.users.${alice.uuid}.external.mobile.created`,
        'external auth added',
      );
      expect(added.headers).toMatchObject({
        name: 'auth_user_external_auth_added',
        tenant_uuid: master,
        [`user_uuid:${alice.uuid}`]: true,
      });
      expect(added.body.data).toEqual({ user_uuid: alice.uuid, external_auth_name: 'mobile' });

      // `me` in the ACL is also the user's own uuid.
      expect(
        (await http('POST', `/0.1/users/${alice.uuid}/external/mobile`, { token: alice.token, body: { token: 'again' } })).status,
      ).toBe(409);
      expect((await http('POST', '/0.1/users/me/external/mobile', { token: alice.token, body: { token: 'again' } })).status).toBe(
        409,
      );

      // An administrator reads them by uuid (dird, webhookd).
      const read = await http('GET', `/0.1/users/${alice.uuid}/external/mobile`, { token: admin });
      expect(read.status, read.text).toBe(200);
      expect(read.body).toEqual(posted.body);
      expect((await http('GET', '/0.1/users/me/external/mobile', { token: alice.token })).body).toEqual(posted.body);

      const put = await http('PUT', '/0.1/users/me/external/mobile', {
        token: alice.token,
        body: { token: SECRETS.replacedToken, apns_notification_token: 'n' },
      });
      expect(put.status, put.text).toBe(200);
      expect(put.body).toEqual({
        token: SECRETS.replacedToken,
        apns_token: null,
        apns_voip_token: null,
        apns_notification_token: 'n',
      });
      await expectEvent(
        (m) =>
          m.routingKey === `auth.users.${alice.uuid}.external.mobile.updated` &&
          m.headers.name === 'auth_user_external_auth_updated',
        'external auth updated',
      );
      expect((await http('GET', '/0.1/users/me/external/mobile', { token: alice.token })).body.token).toBe(SECRETS.replacedToken);

      const listed = await http('GET', `/0.1/users/${alice.uuid}/external`, { token: admin });
      expect(listed.status, listed.text).toBe(200);
      expect(listed.body).toEqual({
        total: 3,
        filtered: 3,
        items: [
          { type: 'google', enabled: false, data: {}, plugin_info: {} },
          { type: 'microsoft', enabled: false, data: {}, plugin_info: {} },
          { type: 'mobile', enabled: true, data: {}, plugin_info: {} },
        ],
      });
      expect((await http('GET', `/0.1/users/${alice.uuid}/external?search=mob`, { token: admin })).body).toMatchObject({
        total: 3,
        filtered: 1,
      });
      expect((await http('GET', `/0.1/users/${alice.uuid}/external?order=bogus`, { token: admin })).status).toBe(400);

      // Connected: a mobile connection and a live token.
      const users = await http('GET', '/0.1/external/mobile/users', { token: admin });
      expect(users.status, users.text).toBe(200);
      expect(users.body).toEqual({ total: 1, filtered: 1, items: [{ uuid: alice.uuid }] });

      expect((await http('DELETE', '/0.1/users/me/external/mobile', { token: alice.token })).status).toBe(204);
      const deleted = await expectEvent(
        (m) => m.routingKey === `auth.users.${alice.uuid}.external.mobile.deleted`,
        'external auth deleted',
      );
      expect(deleted.headers.name).toBe('auth_user_external_auth_deleted');
      expect((await http('GET', '/0.1/users/me/external/mobile', { token: alice.token })).status).toBe(404);
      expect((await http('DELETE', '/0.1/users/me/external/mobile', { token: alice.token })).status).toBe(404);
      expect((await http('GET', '/0.1/external/mobile/users', { token: admin })).body.total).toBe(0);
    });

    it('PUT creates them when there are none (auth_user_external_auth_added)', async () => {
      const bob = await createUser('bob', ['auth.users.me.external.mobile.#']);
      const put = await http('PUT', '/0.1/users/me/external/mobile', { token: bob.token, body: { token: 'bob-token' } });
      expect(put.status, put.text).toBe(200);
      await expectEvent((m) => m.routingKey === `auth.users.${bob.uuid}.external.mobile.created`, 'added by PUT');
      // A user without the access: 401; an unknown user: 404.
      const carol = await createUser('carol');
      expect((await http('GET', `/0.1/users/${bob.uuid}/external/mobile`, { token: carol.token })).status).toBe(401);
      expect((await http('GET', '/0.1/users/me/external/mobile', { token: carol.token })).status).toBe(401);
      expect((await http('GET', `/0.1/users/${UNKNOWN_UUID}/external/mobile`, { token: admin })).status).toBe(404);
      expect(
        (await http('POST', '/0.1/users/me/external/mobile', { token: bob.token, body: { token: 'x'.repeat(513) } })).status,
      ).toBe(400);
    });

    it("sender_id is the FCM sender id of the user's tenant, 404 without one", async () => {
      const res = await http('GET', '/0.1/users/me/external/mobile/sender_id', { token: alice.token });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({ sender_id: '123456789012' });
      const tenant = await http('POST', '/0.1/tenants', { token: admin, body: { name: 'no push' } });
      const user = await http('POST', '/0.1/users', {
        token: admin,
        body: { username: 'dave', password: 'dave-password' },
        headers: { 'wazo-tenant': tenant.body.uuid },
      });
      const none = await http('GET', `/0.1/users/${user.body.uuid}/external/mobile/sender_id`, { token: admin });
      expect(none.status, none.text).toBe(404);
      expect(none.body.error_id).toBe('unknown-external-auth-config');
    });
  });

  it('holds no secret in clear in the database or the log', async () => {
    // Stored again (the test above deleted alice's), then looked for.
    expect(
      (await http('PUT', '/0.1/users/me/external/mobile', { token: alice.token, body: { token: SECRETS.fcmToken } })).status,
    ).toBe(200);
    const stored = databaseText(t.config.db_uri!);
    expect(stored).toContain('123456789012'); // what is not secret is there (the dump is real)
    for (const secret of Object.values(SECRETS)) expect(stored, secret).not.toContain(secret);
    const log = t.lines.join('\n');
    expect(log.length).toBeGreaterThan(0);
    for (const secret of Object.values(SECRETS)) expect(log, secret).not.toContain(secret);
  });
});

describe('external_auth.encryption_key_file', () => {
  it('stops the start-up with a clear message when the configured key file is missing', async () => {
    await expect(
      startLoggedService('sqlite', { external_auth: externalAuthWith('/nonexistent/xivo-auth/external-auth.key') }),
    ).rejects.toThrow(/external_auth\.encryption_key_file \/nonexistent\/xivo-auth\/external-auth\.key cannot be read: ENOENT/);
  });
});
