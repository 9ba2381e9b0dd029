// The events of API.md §5 on the real RabbitMQ, through the outbox and the
// relay, on both engines: names, routing keys, headers, bodies, order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import type { FakeClock } from '../../src/clock.js';
import { AMQP_URI, type BusConsumer, type BusMessage, startBusConsumer } from '../helpers/bus.js';
import { ADMIN, basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { until } from '../helpers/until.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

describe.each(ENGINES)('events on %s', (engine) => {
  let t: TestService;
  let bus: BusConsumer;
  let adminToken: string;
  const inject = (opts: InjectOptions) => t.service.app.inject(opts);
  const asAdmin = (opts: InjectOptions) =>
    inject({ ...opts, headers: { ...JSON_HEADERS, 'x-auth-token': adminToken, ...(opts.headers ?? {}) } });

  async function login(user: string, password: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    const res = await inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { ...JSON_HEADERS, authorization: basic(user, password), ...headers },
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().data as {
      token: string;
      session_uuid: string;
      metadata: { uuid: string; tenant_uuid: string };
      refresh_token?: string;
    };
  }

  async function createUser(username: string, password = `${username}-password`) {
    const res = await asAdmin({ method: 'POST', url: '/0.1/users', payload: { username, password } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { uuid: string; tenant_uuid: string };
  }

  /** Waits for one message matching, and returns it. */
  async function expectEvent(predicate: (m: BusMessage) => boolean, what: string): Promise<BusMessage> {
    await until(() => bus.messages.some(predicate), what);
    return bus.messages.find(predicate)!;
  }

  beforeAll(async () => {
    bus = await startBusConsumer();
    t = await startTestService(engine, {
      uuid: '5c6c4f1a-0d0f-4a4e-9c55-000000000001',
      amqp: {
        enabled: true,
        uri: AMQP_URI,
        exchange_name: bus.exchange,
        poll_interval_ms: 50,
        retry_min_ms: 50,
        retry_max_ms: 200,
        expire_soon_seconds: 30,
      },
    });
    await t.service.listen();
    adminToken = (await login(ADMIN.username, ADMIN.password)).token;
  });
  afterAll(async () => {
    await t?.close();
    await bus?.close();
  });

  it('publishes auth_session_created with the documented headers and body', async () => {
    const alice = await createUser('alice');
    const data = await login('alice', 'alice-password', {}, { 'wazo-session-type': 'mobile' });
    const m = await expectEvent((x) => x.routingKey === `auth.sessions.${data.session_uuid}.created`, 'session created');
    const expectedData = { uuid: data.session_uuid, tenant_uuid: alice.tenant_uuid, user_uuid: alice.uuid, mobile: true };
    expect(m.headers).toMatchObject({
      name: 'auth_session_created',
      origin_uuid: '5c6c4f1a-0d0f-4a4e-9c55-000000000001',
      tenant_uuid: alice.tenant_uuid,
      required_access: 'event.auth_session_created',
      [`user_uuid:${alice.uuid}`]: true,
    });
    expect(Date.parse(m.headers.timestamp as string)).not.toBeNaN();
    expect(m.body).toEqual({ ...m.headers, data: expectedData });
    // The token never travels in an event.
    expect(JSON.stringify(m)).not.toContain(data.token);
  });

  it('publishes auth_session_deleted after the session was created, when the token is revoked', async () => {
    await createUser('bob');
    const data = await login('bob', 'bob-password');
    const res = await inject({ method: 'DELETE', url: `/0.1/token/${data.token}` });
    expect(res.statusCode).toBe(200);
    const deleted = await expectEvent((x) => x.routingKey === `auth.sessions.${data.session_uuid}.deleted`, 'session deleted');
    expect(deleted.headers.name).toBe('auth_session_deleted');
    expect(deleted.body.data).toEqual({
      uuid: data.session_uuid,
      tenant_uuid: data.metadata.tenant_uuid,
      user_uuid: data.metadata.uuid,
    });
    const keys = bus.messages.map((x) => x.routingKey);
    expect(keys.indexOf(`auth.sessions.${data.session_uuid}.created`)).toBeLessThan(
      keys.indexOf(`auth.sessions.${data.session_uuid}.deleted`),
    );
  });

  it('publishes auth_session_deleted for every session of a disabled user', async () => {
    const carol = await createUser('carol');
    const one = await login('carol', 'carol-password');
    const two = await login('carol', 'carol-password');
    const res = await asAdmin({ method: 'PUT', url: `/0.1/users/${carol.uuid}`, payload: { username: 'carol', enabled: false } });
    expect(res.statusCode, res.body).toBe(200);
    await expectEvent((x) => x.routingKey === `auth.sessions.${one.session_uuid}.deleted`, 'first session deleted');
    await expectEvent((x) => x.routingKey === `auth.sessions.${two.session_uuid}.deleted`, 'second session deleted');
  });

  it('publishes refresh token events, with a routing key shortened when the client_id is too long for AMQP', async () => {
    const dave = await createUser('dave');
    await login('dave', 'dave-password', { access_type: 'offline', client_id: 'my-app' });
    const created = await expectEvent(
      (x) => x.routingKey === `auth.users.${dave.uuid}.tokens.my-app.created`,
      'refresh token created',
    );
    expect(created.headers.name).toBe('auth_refresh_token_created');
    expect(created.body.data).toEqual({
      client_id: 'my-app',
      mobile: false,
      user_uuid: dave.uuid,
      tenant_uuid: dave.tenant_uuid,
    });

    const longId = 'c'.repeat(1024);
    await login('dave', 'dave-password', { access_type: 'offline', client_id: longId });
    const long = await expectEvent(
      (x) => x.headers.name === 'auth_refresh_token_created' && (x.body.data as { client_id: string }).client_id === longId,
      'long client id',
    );
    expect(long.routingKey).toMatch(new RegExp(`^auth\\.users\\.${dave.uuid}\\.tokens\\.sha256-[0-9a-f]{64}\\.created$`));
    expect(Buffer.byteLength(long.routingKey)).toBeLessThanOrEqual(255);

    const res = await asAdmin({ method: 'DELETE', url: `/0.1/users/${dave.uuid}/tokens/my-app` });
    expect(res.statusCode, res.body).toBe(204);
    await expectEvent((x) => x.routingKey === `auth.users.${dave.uuid}.tokens.my-app.deleted`, 'refresh token deleted');
  });

  it('publishes tenant events', async () => {
    const res = await asAdmin({ method: 'POST', url: '/0.1/tenants', payload: { name: 'Acme', slug: 'acme' } });
    expect(res.statusCode, res.body).toBe(200);
    const tenant = res.json() as { uuid: string };
    const added = await expectEvent((x) => x.routingKey === `auth.tenants.${tenant.uuid}.created`, 'tenant added');
    expect(added.headers.name).toBe('auth_tenant_added');
    expect(added.body.data).toEqual({ uuid: tenant.uuid, name: 'Acme', slug: 'acme' });
    expect(
      (await asAdmin({ method: 'PUT', url: `/0.1/tenants/${tenant.uuid}`, payload: { name: 'Acme Corp' } })).statusCode,
    ).toBe(200);
    const updated = await expectEvent((x) => x.routingKey === `auth.tenants.${tenant.uuid}.updated`, 'tenant updated');
    expect(updated.body.data).toMatchObject({ uuid: tenant.uuid, name: 'Acme Corp' });
    expect((await asAdmin({ method: 'DELETE', url: `/0.1/tenants/${tenant.uuid}` })).statusCode).toBe(204);
    const deleted = await expectEvent((x) => x.routingKey === `auth.tenants.${tenant.uuid}.deleted`, 'tenant deleted');
    expect(deleted.headers.name).toBe('auth_tenant_deleted');
  });

  it('announces a session about to expire once, then its deletion when the reaper removes it', async () => {
    await createUser('erin');
    const data = await login('erin', 'erin-password', { expiration: 120 });
    const clock = t.clock as FakeClock;
    clock.advance(95_000);
    await t.service.expireSoon!.runOnce();
    const soon = await expectEvent(
      (x) => x.headers.name === 'auth_session_expire_soon' && (x.body.data as { uuid: string }).uuid === data.session_uuid,
      'expire soon',
    );
    expect(soon.routingKey).toBe(`auth.users.${data.metadata.uuid}.sessions.${data.session_uuid}.expire_soon`);
    await t.service.expireSoon!.runOnce();
    clock.advance(30_000);
    await t.service.reaper.runOnce();
    const expired = await expectEvent(
      (x) => x.routingKey === `auth.sessions.${data.session_uuid}.deleted`,
      'expired session deleted',
    );
    // The same event as a revocation's, whichever path deleted the session (SQLite: the purge thread).
    expect(expired.headers).toMatchObject({
      name: 'auth_session_deleted',
      tenant_uuid: data.metadata.tenant_uuid,
      [`user_uuid:${data.metadata.uuid}`]: true,
    });
    expect(expired.body).toEqual({
      ...expired.headers,
      data: { uuid: data.session_uuid, tenant_uuid: data.metadata.tenant_uuid, user_uuid: data.metadata.uuid },
    });
    expect(
      bus.messages.filter(
        (x) => x.headers.name === 'auth_session_expire_soon' && (x.body.data as { uuid: string }).uuid === data.session_uuid,
      ),
    ).toHaveLength(1);
  });

  it('publishes audit records (issue 7) as auth_audit_recorded, with no secret', async () => {
    await createUser('frank');
    const bad = await inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { ...JSON_HEADERS, authorization: basic('frank', 'wrong-password-x') },
      payload: {},
    });
    expect(bad.statusCode).toBe(401);
    const failure = await expectEvent(
      (x) => x.headers.name === 'auth_audit_recorded' && (x.body.data as { login: string }).login === 'frank',
      'audit of the failure',
    );
    expect(failure.routingKey).toBe('auth.audit.login.failure');
    expect(failure.body.data).toMatchObject({ action: 'login', outcome: 'failure', login: 'frank' });
    const data = await login('frank', 'frank-password');
    const success = await expectEvent(
      (x) =>
        x.routingKey === 'auth.audit.login.success' && (x.body.data as { target_id: string }).target_id === data.session_uuid,
      'audit of the success',
    );
    expect(success.headers[`user_uuid:${data.metadata.uuid}`]).toBe(true);
    const text = JSON.stringify(bus.messages);
    expect(text).not.toContain('wrong-password-x');
    expect(text).not.toContain('frank-password');
    expect(text).not.toContain(data.token);
  });

  it('reports the bus and an empty outbox in /status once everything is published', async () => {
    await until(async () => (await t.service.store.outboxBacklog()).pending === 0, 'outbox drained');
    const res = await inject({ method: 'GET', url: '/0.1/status' });
    expect(res.statusCode).toBe(200);
    expect(res.json().bus).toMatchObject({ status: 'ok', failures: 0, outbox: { pending: 0, oldest_age_seconds: 0 } });
    const metrics = (await inject({ method: 'GET', url: '/metrics' })).body;
    expect(Number(/^xivo_auth_events_published_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^xivo_auth_outbox_events 0$/m);
    expect(metrics).toMatch(/^xivo_auth_outbox_oldest_event_age_seconds 0$/m);
  });
});

describe.each(ENGINES)('outbox with amqp disabled on %s', (engine) => {
  it('records nothing: the outbox stays empty', async () => {
    const t = await startTestService(engine, { amqp: { enabled: false } });
    const res = await t.service.app.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { ...JSON_HEADERS, authorization: basic(ADMIN.username, ADMIN.password) },
      payload: {},
    });
    expect(res.statusCode).toBe(200);
    expect(await t.service.store.outboxBacklog()).toEqual({ pending: 0, oldestCreatedAt: null });
    expect((await t.service.app.inject({ method: 'GET', url: '/0.1/status' })).json().bus).toEqual({ status: 'disabled' });
    await t.close();
  });
});
