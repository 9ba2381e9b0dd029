// @xivo-auth/verifier's Fastify plugin against a real xivo-auth (SQLite) and
// the real RabbitMQ: remote and cached modes, eviction by bus event, fail
// closed when the bus connection is cut, documented refusals.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type Verifier } from '@xivo-auth/verifier';
import { authOf, xivoAuth } from '@xivo-auth/verifier/fastify';
import { FakeClock } from '../../../src/clock.js';
import { startTestService, type TestService } from '../../../test/helpers/service.js';
import { startTcpProxy, type TcpProxy } from '../../../test/helpers/tcp-proxy.js';
import { until } from '../../../test/helpers/until.js';
import { AMQP_URL, fixture, publisher, uniqueExchange, type Fixture, type Publisher } from './helpers.js';

const serverExchange = uniqueExchange(); // the exchange the xivo-auth server publishes to
const testExchange = uniqueExchange(); // one only this test publishes to
let t: TestService;
let f: Fixture;
let pub: Publisher;
const clock = new FakeClock(Date.now());
const closers: (() => Promise<void> | void)[] = [];

/** A small service protected by `verifier`. */
async function protectedApp(verifier: Verifier): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(xivoAuth, { verifier });
  const requireAccess = (app as unknown as { requireAccess(t?: string): never }).requireAccess;
  app.get('/users/:user_uuid', { preHandler: requireAccess('confd.users.{user_uuid}.read') }, async (request) => {
    const auth = authOf(request);
    return {
      identity: auth.identity,
      tenant: auth.tenantUuid,
      canWrite: auth.can(`confd.users.${(request.params as { user_uuid: string }).user_uuid}.update`),
    };
  });
  app.get('/lines', { preHandler: requireAccess('confd.lines.read') }, async () => ({ ok: true }));
  app.get('/anyone', { preHandler: requireAccess() }, async (request) => ({
    authId: authOf(request).identity.authId,
    tenant: authOf(request).tenantUuid,
  }));
  await app.ready();
  closers.push(() => app.close());
  return app;
}

function verifier(options: Parameters<typeof createVerifier>[0]): Verifier {
  const v = createVerifier({ url: f.url, ...options });
  closers.push(() => v.close());
  return v;
}

const get = (app: FastifyInstance, url: string, token?: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url, headers: { ...(token ? { 'x-auth-token': token } : {}), ...headers } });

beforeAll(async () => {
  t = await startTestService(
    'sqlite',
    { amqp: { enabled: true, uri: AMQP_URL, exchange_name: serverExchange, poll_interval_ms: 50 } },
    clock,
  );
  f = await fixture(t);
  pub = await publisher(testExchange);
});

afterAll(async () => {
  for (const c of closers.reverse()) await c();
  await pub?.close();
  f?.close();
  // the server's exchange, declared durable by its relay
  await t?.close();
  const cleanup = await publisher(serverExchange);
  await cleanup.close();
});

describe.each(['remote', 'cached'] as const)('%s mode', (mode) => {
  let app: FastifyInstance;
  let v: Verifier;
  beforeAll(async () => {
    v = verifier(mode === 'remote' ? { mode } : { mode, bus: { url: AMQP_URL, exchange: testExchange } });
    await v.ready();
    app = await protectedApp(v);
  });

  it('no token: 401 in the documented shape with a WWW-Authenticate challenge', async () => {
    const res = await get(app, '/users/u1');
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="xivo-auth"');
    const body = res.json();
    expect(body).toMatchObject({
      message: 'Unauthorized',
      error_id: 'unauthorized',
      details: { invalid_token: null, reason: 'not_found_or_expired', required_access: 'confd.users.u1.read' },
    });
    expect(typeof body.timestamp).toBe('number');
  });

  it('unknown token: 401 invalid_token, the token never echoed', async () => {
    const res = await get(app, '/users/u1', 'not-a-real-token-value');
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="xivo-auth", error="invalid_token"');
    expect(res.json().details).toEqual({
      invalid_token: '<redacted>',
      reason: 'not_found_or_expired',
      required_access: 'confd.users.u1.read',
    });
    expect(res.body).not.toContain('not-a-real-token-value');
  });

  it('granted: request.auth has the identity and can()', async () => {
    const token = await f.tokenWith(['confd.users.me.read', 'confd.users.me.update']);
    const res = await get(app, `/users/${token.auth_id}`, token.token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      identity: expect.objectContaining({
        authId: token.auth_id,
        userUuid: token.metadata.uuid,
        sessionUuid: token.session_uuid,
        tenantUuid: token.metadata.tenant_uuid,
      }),
      tenant: token.metadata.tenant_uuid,
      canWrite: true,
    });
    // Bearer works too
    const bearer = await get(app, `/users/${token.auth_id}`, undefined, { authorization: `Bearer ${token.token}` });
    expect(bearer.statusCode).toBe(200);
  });

  it('an empty required access is literal, as on the server: only `#` or `*` grant it', async () => {
    const plain = await f.tokenWith(['confd.lines.read']);
    await expect(v.verify({ token: plain.token, access: '' })).rejects.toMatchObject({
      status: 401,
      reason: 'missing_permission_or_invalid_tenant',
    });
    const root = await f.tokenWith(['#']);
    const auth = await v.verify({ token: root.token, access: '' });
    expect(auth.can('')).toBe(true);
    expect((await v.verify({ token: plain.token, access: null })).can('')).toBe(false);
  });

  it('identity.pbxUserUuid is the user for purpose user', async () => {
    const token = await f.tokenWith(['confd.lines.read']);
    const auth = await v.verify({ token: token.token, access: 'confd.lines.read' });
    expect(auth.identity.pbxUserUuid).toBe(token.metadata.uuid);
  });

  it('missing access: 401 insufficient_scope naming the access', async () => {
    const token = await f.tokenWith(['confd.users.me.read']);
    const res = await get(app, '/users/someone-else', token.token);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="xivo-auth", error="insufficient_scope", scope="confd.users.someone-else.read"',
    );
    expect(res.json().details).toEqual({
      invalid_token: '<redacted>',
      reason: 'missing_permission_or_invalid_tenant',
      required_access: 'confd.users.someone-else.read',
    });
  });

  it('path parameters are substituted with dots turned into _', async () => {
    const token = await f.tokenWith(['confd.users.a_b.read']);
    expect((await get(app, '/users/a.b', token.token)).statusCode).toBe(200);
    const other = await f.tokenWith(['confd.users.a.b.read']);
    const res = await get(app, '/users/a.b', other.token);
    expect(res.statusCode).toBe(401);
    expect(res.json().details.required_access).toBe('confd.users.a_b.read');
  });

  it('never lets a token through for an access it lacks after a check for another', async () => {
    const token = await f.tokenWith(['confd.lines.read']);
    expect((await get(app, '/lines', token.token)).statusCode).toBe(200);
    expect((await get(app, '/anyone', token.token)).statusCode).toBe(200);
    expect((await get(app, '/users/x', token.token)).statusCode).toBe(401);
    expect((await get(app, '/lines', token.token)).statusCode).toBe(200);
    expect((await get(app, '/users/x', token.token)).statusCode).toBe(401);
  });

  it('Wazo-Tenant: a sub-tenant is accepted, another tenant refused', async () => {
    const sub = await f.admin.tenants.create({ name: `sub-${mode}` });
    const top = await f.tokenWith(['confd.lines.read']);
    const ok = await get(app, '/anyone', top.token, { 'wazo-tenant': sub.uuid });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().tenant).toBe(sub.uuid);
    expect((await get(app, '/anyone', top.token)).json().tenant).toBe(top.metadata.tenant_uuid);
    const inSub = await f.tokenWith(['confd.lines.read'], 3600, sub.uuid);
    expect((await get(app, '/lines', inSub.token, { 'wazo-tenant': sub.uuid })).statusCode).toBe(200);
    const refused = await get(app, '/lines', inSub.token, { 'wazo-tenant': top.metadata.tenant_uuid as string });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().details.reason).toBe('missing_permission_or_invalid_tenant');
  });

  it('a revoked token is refused (the server publishes auth_session_deleted / remote check)', async () => {
    const token = await f.tokenWith(['confd.lines.read']);
    expect((await get(app, '/lines', token.token)).statusCode).toBe(200);
    await f.admin.token.revoke(token.token);
    if (mode === 'remote') {
      expect((await get(app, '/lines', token.token)).statusCode).toBe(401);
    } else {
      // the verifier listens on testExchange: publish the documented event there
      await pub.sessionDeleted(token);
      await until(async () => (await get(app, '/lines', token.token)).statusCode === 401, 'the revocation to be seen');
    }
  });
});

describe('cached mode', () => {
  it('checks a token once, then answers from the cache for any access', async () => {
    const v = verifier({ mode: 'cached', bus: { url: AMQP_URL, exchange: testExchange } });
    await v.ready();
    const app = await protectedApp(v);
    const token = await f.tokenWith(['confd.lines.read', 'confd.users.me.read']);
    const before = f.serverRequests();
    for (let i = 0; i < 5; i++) expect((await get(app, '/lines', token.token)).statusCode).toBe(200);
    expect((await get(app, `/users/${token.auth_id}`, token.token)).statusCode).toBe(200);
    expect((await get(app, '/users/other', token.token)).statusCode).toBe(401);
    expect(f.serverRequests() - before).toBe(1);
    expect(v.stats).toMatchObject({ remoteChecks: 1, cacheHits: 6, cacheEntries: 1 });
  });

  it('sees a revocation through the bus event before its TTL, without asking the server', async () => {
    const v = verifier({ mode: 'cached', ttl: 600_000, bus: { url: AMQP_URL, exchange: testExchange } });
    await v.ready();
    const app = await protectedApp(v);
    const token = await f.tokenWith(['confd.lines.read']);
    const bystander = await f.tokenWith(['confd.lines.read']);
    expect((await get(app, '/lines', token.token)).statusCode).toBe(200);
    expect((await get(app, '/lines', bystander.token)).statusCode).toBe(200);
    // Revoked at the server, but no event on this verifier's exchange: the
    // cached record is still used (this is what the event is for).
    await f.admin.token.revoke(token.token);
    expect((await get(app, '/lines', token.token)).statusCode).toBe(200);
    await pub.sessionDeleted(token);
    await until(async () => (await get(app, '/lines', token.token)).statusCode === 401, 'eviction by the event');
    expect(v.stats.evictions).toBe(1);
    // other sessions stay cached
    const before = f.serverRequests();
    expect((await get(app, '/lines', bystander.token)).statusCode).toBe(200);
    expect(f.serverRequests()).toBe(before);
  });

  it('sees a revocation made through the server, end to end (server → RabbitMQ → verifier)', async () => {
    const v = verifier({ mode: 'cached', ttl: 600_000, bus: { url: AMQP_URL, exchange: serverExchange } });
    await v.ready();
    const app = await protectedApp(v);
    const token = await f.tokenWith(['confd.lines.read']);
    expect((await get(app, '/lines', token.token)).statusCode).toBe(200);
    expect((await get(app, '/lines', token.token)).statusCode).toBe(200);
    expect(v.stats.cacheHits).toBe(1);
    await f.admin.sessions.delete(token.session_uuid);
    await until(() => v.stats.evictions === 1, "the server's auth_session_deleted event", 15_000);
    expect((await get(app, '/lines', token.token)).statusCode).toBe(401);
  });

  it('fails closed when the bus connection is cut: flushed and bypassed until it is back', async () => {
    const proxy: TcpProxy = await startTcpProxy('127.0.0.1', 5672);
    closers.push(() => proxy.close());
    const v = verifier({
      mode: 'cached',
      ttl: 600_000,
      bus: { url: `amqp://guest:guest@127.0.0.1:${proxy.port}`, exchange: testExchange, reconnectMinMs: 50, reconnectMaxMs: 200 },
    });
    await v.ready();
    const app = await protectedApp(v);
    const token = await f.tokenWith(['confd.lines.read']);
    expect((await get(app, '/lines', token.token)).statusCode).toBe(200);
    expect(v.stats.cacheEntries).toBe(1);

    await proxy.cut();
    await until(() => !v.cacheActive, 'the verifier to notice the bus is gone');
    expect(v.stats.cacheEntries).toBe(0);
    expect(v.stats.flushes).toBeGreaterThanOrEqual(1);
    // A revocation whose event could not be received is seen at once:
    await f.admin.token.revoke(token.token);
    expect((await get(app, '/lines', token.token)).statusCode).toBe(401);
    // Bypassed: every request asks the server, nothing is cached.
    const live = await f.tokenWith(['confd.lines.read']);
    const before = f.serverRequests();
    expect((await get(app, '/lines', live.token)).statusCode).toBe(200);
    expect((await get(app, '/lines', live.token)).statusCode).toBe(200);
    expect(f.serverRequests() - before).toBe(2);
    expect(v.stats.cacheEntries).toBe(0);

    await proxy.restore();
    await until(() => v.cacheActive, 'the bus to come back', 15_000);
    expect((await get(app, '/lines', live.token)).statusCode).toBe(200);
    const hits = v.stats.cacheHits;
    expect((await get(app, '/lines', live.token)).statusCode).toBe(200);
    expect(v.stats.cacheHits).toBe(hits + 1);
  });

  it('is bypassed until the bus is first connected (unreachable broker)', async () => {
    const v = verifier({
      mode: 'cached',
      bus: { url: 'amqp://guest:guest@127.0.0.1:1', exchange: testExchange, reconnectMinMs: 50 },
    });
    const app = await protectedApp(v);
    const token = await f.tokenWith(['confd.lines.read']);
    const before = f.serverRequests();
    expect((await get(app, '/lines', token.token)).statusCode).toBe(200);
    expect((await get(app, '/lines', token.token)).statusCode).toBe(200);
    expect(f.serverRequests() - before).toBe(2);
    expect(v.cacheActive).toBe(false);
    expect(v.busState).toMatch(/connecting|down/);
  });

  it('never uses a record past the token expiry, whatever the TTL', async () => {
    let now = Date.now();
    const v = verifier({ mode: 'cached', ttl: 3_600_000, now: () => now, bus: { url: AMQP_URL, exchange: testExchange } });
    await v.ready();
    const app = await protectedApp(v);
    const token = await f.tokenWith(['confd.lines.read'], 60);
    expect((await get(app, '/lines', token.token)).statusCode).toBe(200);
    expect((await get(app, '/lines', token.token)).statusCode).toBe(200);
    expect(v.stats.remoteChecks).toBe(1);
    now += 61_000; // past the expiry on the verifier's clock: the record is dropped...
    clock.advance(61_000); // ...and the server (on its own clock) says the token is gone
    expect((await get(app, '/lines', token.token)).statusCode).toBe(401);
    expect(v.stats.remoteChecks).toBe(2);
  });

  it('answers 503 service-unavailable when xivo-auth cannot be reached (fail closed)', async () => {
    const v = createVerifier({ url: 'http://127.0.0.1:1', mode: 'remote', clientOptions: { retries: 0 } });
    closers.push(() => v.close());
    const app = await protectedApp(v);
    const res = await get(app, '/lines', 'some-token');
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toMatchObject({ error_id: 'service-unavailable' });
  });

  it('refuses to run cached without a bus', () => {
    expect(() => createVerifier({ url: f.url, mode: 'cached' })).toThrow(/bus/);
  });
});
