// @xivo-auth/client against a real xivo-auth (SQLite, real HTTP on loopback),
// imported as a user would: through the package's exports.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiError,
  ConflictError,
  InvalidDataError,
  InvalidTokenError,
  MissingPermissionError,
  NotFoundError,
  RateLimitedError,
  ServiceUnavailableError,
  UnauthorizedError,
  XivoAuthClient,
  type Token,
} from '@xivo-auth/client';
import { ADMIN, startTestService, type TestService } from '../../../test/helpers/service.js';
import { startServiceBehindProxy } from '../../../test/helpers/tcp-proxy.js';

let t: TestService;
let url: string;
let admin: XivoAuthClient;
let connections = 0;
let requests = 0;
const clients: XivoAuthClient[] = [];

function newClient(options: Partial<ConstructorParameters<typeof XivoAuthClient>[0]> = {}): XivoAuthClient {
  const c = new XivoAuthClient({ url, ...options });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  t = await startTestService('sqlite', { max_user_concurrent_sessions: 2 });
  url = await t.service.listen();
  t.service.app.server.on('connection', () => connections++);
  t.service.app.server.on('request', () => requests++);
  admin = newClient();
  const token = await admin.token.create({ username: ADMIN.username, password: ADMIN.password });
  admin.setToken(token.token);
});

afterAll(() => {
  for (const c of clients) c.close();
});

describe('tokens', () => {
  it('create, get, check, isValid, checkScopes, revoke', async () => {
    const c = newClient();
    const token = await c.token.create({ username: ADMIN.username, password: ADMIN.password, expiration: 600 });
    expect(token.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(token.acl.length).toBeGreaterThan(0);

    const got = await c.token.get(token.token);
    expect(got.session_uuid).toBe(token.session_uuid);
    expect(got.auth_id).toBe(token.auth_id);
    await expect(c.token.check(token.token, { scope: 'auth.users.read' })).resolves.toBeUndefined();
    expect(await c.token.isValid(token.token)).toBe(true);

    const scopes = await c.token.checkScopes(token.token, ['auth.users.read', 'nothing.granted.here']);
    expect(Object.keys(scopes).sort()).toEqual(['auth.users.read', 'nothing.granted.here']);
    expect(scopes['auth.users.read']).toBe(true);

    await c.token.revoke(token.token);
    expect(await c.token.isValid(token.token)).toBe(false);
    await expect(c.token.get(token.token)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(c.token.check(token.token)).rejects.toBeInstanceOf(InvalidTokenError);
    // revoking an unknown token succeeds
    await expect(c.token.revoke(token.token)).resolves.toBeUndefined();
  });

  it('a scope the token lacks: MissingPermissionError from check, false from isValid', async () => {
    const { uuid } = await admin.users.create({ username: 'no-scopes', password: 'pw-no-scopes-1' });
    expect(uuid).toBeTruthy();
    const token = await admin.token.create({ username: 'no-scopes', password: 'pw-no-scopes-1' });
    const err = await admin.token.check(token.token, { scope: 'confd.users.read' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingPermissionError);
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect((err as ApiError).status).toBe(403);
    expect(await admin.token.isValid(token.token, { scope: 'confd.users.read' })).toBe(false);
    expect(await admin.token.isValid(token.token)).toBe(true);
    expect(await admin.token.checkScopes(token.token, ['confd.users.read'])).toEqual({ 'confd.users.read': false });
  });

  it('refresh tokens: offline login, login with the refresh token, list and delete', async () => {
    await admin.users.create({ username: 'mobile-user', password: 'pw-mobile-user-1' });
    const c = newClient();
    const offline = await c.token.create({
      username: 'mobile-user',
      password: 'pw-mobile-user-1',
      accessType: 'offline',
      clientId: 'my-app',
      mobile: true,
    });
    expect(typeof offline.refresh_token).toBe('string');
    const again = await c.token.create({ refreshToken: offline.refresh_token, clientId: 'my-app', expiration: 60 });
    expect(again.refresh_token).toBeUndefined();
    expect(again.auth_id).toBe(offline.auth_id);

    c.setToken(again.token);
    const mine = await admin.refreshTokens.listForUser(offline.auth_id);
    expect(mine.items.map((r) => [r.client_id, r.mobile])).toEqual([['my-app', true]]);
    const all = [];
    for await (const r of admin.refreshTokens.iterate()) all.push(r.client_id);
    expect(all).toContain('my-app');
    await admin.refreshTokens.delete(offline.auth_id, 'my-app');
    await expect(c.token.create({ refreshToken: offline.refresh_token, clientId: 'my-app' })).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    await expect(admin.refreshTokens.delete(offline.auth_id, 'my-app')).rejects.toMatchObject({
      status: 404,
      errorId: 'cannot-find-refresh-token-matching-client-id',
    });
  });
});

describe('resources', () => {
  it('users: create, get, update, list, change password, delete', async () => {
    const user = await admin.users.create({
      username: 'carol',
      password: 'pw-carol-1',
      firstname: 'Carol',
      email_address: 'carol@example.com',
    });
    expect(user).toMatchObject({ username: 'carol', firstname: 'Carol', enabled: true });
    expect((await admin.users.get(user.uuid)).emails[0].address).toBe('carol@example.com');
    const updated = await admin.users.update(user.uuid, { username: 'carol', lastname: 'Smith' });
    expect(updated.lastname).toBe('Smith');
    const page = await admin.users.list({ search: 'carol' });
    expect(page.items.map((u) => u.uuid)).toEqual([user.uuid]);

    const carol = newClient();
    const first = await carol.token.create({ username: 'carol', password: 'pw-carol-1' });
    await admin.users.changePassword(user.uuid, { oldPassword: 'pw-carol-1', newPassword: 'pw-carol-2' });
    expect(await carol.token.isValid(first.token)).toBe(false);
    await expect(carol.token.create({ username: 'carol', password: 'pw-carol-1' })).rejects.toBeInstanceOf(UnauthorizedError);
    await carol.token.create({ username: 'carol', password: 'pw-carol-2' });

    await admin.users.delete(user.uuid);
    await expect(admin.users.get(user.uuid)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('tenants, policies (with ACL edits), groups, user links and sessions', async () => {
    const tenant = await admin.tenants.create({ name: 'Acme' });
    expect((await admin.tenants.get(tenant.uuid)).name).toBe('Acme');
    expect((await admin.tenants.update(tenant.uuid, { name: 'Acme Corp' })).name).toBe('Acme Corp');
    expect((await admin.tenants.list({ search: 'Acme' })).items.map((x) => x.uuid)).toContain(tenant.uuid);

    const policy = await admin.policies.create({ name: 'readers', acl: ['confd.users.read'] }, { tenant: tenant.uuid });
    expect(policy.tenant_uuid).toBe(tenant.uuid);
    await admin.policies.addAccess(policy.uuid, 'confd.lines.#', { tenant: tenant.uuid });
    expect((await admin.policies.get(policy.uuid, { tenant: tenant.uuid })).acl).toEqual(['confd.users.read', 'confd.lines.#']);
    await admin.policies.removeAccess(policy.uuid, 'confd.users.read', { tenant: tenant.uuid });
    expect((await admin.policies.get(policy.uuid, { tenant: tenant.uuid })).acl).toEqual(['confd.lines.#']);

    const group = await admin.groups.create({ name: 'staff' }, { tenant: tenant.uuid });
    const dave = await admin.users.create({ username: 'dave', password: 'pw-dave-1' }, { tenant: tenant.uuid });
    await admin.groups.addUser(group.uuid, dave.uuid, { tenant: tenant.uuid });
    await admin.groups.addPolicy(group.uuid, policy.uuid, { tenant: tenant.uuid });
    expect((await admin.groups.users(group.uuid, { tenant: tenant.uuid })).items.map((u) => u.uuid)).toEqual([dave.uuid]);
    expect((await admin.groups.policies(group.uuid, { tenant: tenant.uuid })).items.map((p) => p.uuid)).toEqual([policy.uuid]);
    expect((await admin.users.groups(dave.uuid, { tenant: tenant.uuid })).items.map((g) => g.uuid)).toContain(group.uuid);

    const daveToken = await admin.token.create({ username: 'dave', password: 'pw-dave-1' });
    expect(await admin.token.isValid(daveToken.token, { scope: 'confd.lines.1.read' })).toBe(true);

    const sessions = await admin.users.sessions(dave.uuid, { tenant: tenant.uuid });
    expect(sessions.items.map((s) => s.uuid)).toEqual([daveToken.session_uuid]);
    const everywhere = [];
    for await (const s of admin.sessions.iterate({ recurse: true, pageSize: 1 })) everywhere.push(s.uuid);
    expect(everywhere).toContain(daveToken.session_uuid);
    await admin.sessions.delete(daveToken.session_uuid);
    expect(await admin.token.isValid(daveToken.token)).toBe(false);

    await admin.groups.removePolicy(group.uuid, policy.uuid, { tenant: tenant.uuid });
    await admin.groups.removeUser(group.uuid, dave.uuid, { tenant: tenant.uuid });
    await admin.users.addPolicy(dave.uuid, policy.uuid, { tenant: tenant.uuid });
    expect((await admin.users.policies(dave.uuid, { tenant: tenant.uuid })).items.map((p) => p.uuid)).toEqual([policy.uuid]);
    await admin.users.removePolicy(dave.uuid, policy.uuid, { tenant: tenant.uuid });
    await admin.groups.delete(group.uuid, { tenant: tenant.uuid });
    await admin.policies.delete(policy.uuid, { tenant: tenant.uuid });
    await admin.users.delete(dave.uuid, { tenant: tenant.uuid });
    await admin.tenants.delete(tenant.uuid);
    await expect(admin.tenants.get(tenant.uuid)).rejects.toMatchObject({ status: 404, errorId: 'unknown-tenant' });
  });

  it('for await walks every page of a list', async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await admin.users.create({ username: `paged-${i}`, password: null })).uuid);
    const seen: string[] = [];
    const before = requests;
    for await (const u of admin.users.iterate({ search: 'paged-', order: 'username', pageSize: 2 })) seen.push(u.uuid);
    expect(seen).toEqual(made);
    expect(requests - before).toBe(3); // 2 + 2 + 1
    const limited: string[] = [];
    for await (const u of admin.users.iterate({ search: 'paged-', order: 'username', pageSize: 2, limit: 3, offset: 1 }))
      limited.push(u.uuid);
    expect(limited).toEqual(made.slice(1, 4));
  });

  it('backends and status', async () => {
    expect(await admin.backends.list()).toContain('xivo_user');
    const status = await admin.status.get();
    expect(status.rest_api.status).toBe('ok');
    expect(await admin.status.isHealthy()).toBe(true);
  });

  it('config: get (secrets masked) and patch debug', async () => {
    const config = await admin.config.get();
    expect(config.bootstrap_user_password).toBe('********');
    expect(config.debug).toBe(false);
    const patched = await admin.config.patch([{ op: 'replace', path: '/debug', value: true }]);
    expect(patched.debug).toBe(true);
    expect((await admin.config.patch([{ op: 'replace', path: '/debug', value: false }])).debug).toBe(false);
    await expect(admin.config.patch([{ op: 'replace', path: '/db_uri', value: 'x' } as never])).rejects.toBeInstanceOf(
      InvalidDataError,
    );
  });
});

describe('typed errors for every status', () => {
  it('400 InvalidDataError with the fields in details', async () => {
    const err = await admin.users.create({ username: '' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidDataError);
    expect(err).toMatchObject({ status: 400, errorId: 'invalid-data' });
  });

  it('401 UnauthorizedError for a failed login (legacy body)', async () => {
    const err = await admin.token.create({ username: ADMIN.username, password: 'wrong' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect(err).not.toBeInstanceOf(InvalidTokenError);
    expect(err).toMatchObject({ status: 401, message: 'Authentication Failed' });
  });

  it('401 InvalidTokenError with errorId and details for an unknown token', async () => {
    const err = await admin.users.list({ token: 'not-a-token' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidTokenError);
    expect(err).toMatchObject({ status: 401, errorId: 'unauthorized', details: { reason: 'not_found_or_expired' } });
  });

  it('401 MissingPermissionError names the required access', async () => {
    await admin.users.create({ username: 'weak', password: 'pw-weak-1' });
    const weak = newClient();
    weak.setToken((await weak.token.create({ username: 'weak', password: 'pw-weak-1' })).token);
    const err = await weak.users.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingPermissionError);
    expect(err).toMatchObject({ status: 401, errorId: 'unauthorized', requiredAccess: 'auth.users.read' });
    expect((err as MissingPermissionError).details.reason).toBe('missing_permission_or_invalid_tenant');
  });

  it('401 UnauthorizedError for a tenant outside the token', async () => {
    const err = await admin.users.list({ tenant: '00000000-0000-4000-8000-000000000000' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect(err).toMatchObject({ status: 401 });
  });

  it('403 and 404 on the token endpoints', async () => {
    await expect(admin.token.get('unknown')).rejects.toMatchObject({ name: 'InvalidTokenError', status: 404 });
  });

  it('404 NotFoundError with errorId', async () => {
    const err = await admin.users.get('00000000-0000-4000-8000-000000000000').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ status: 404, errorId: 'unknown-user' });
  });

  it('409 ConflictError', async () => {
    await admin.users.create({ username: 'twice' });
    const err = await admin.users.create({ username: 'twice' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ status: 409, errorId: 'conflict' });
  });

  it('429 RateLimitedError when the session cap is reached', async () => {
    await admin.users.create({ username: 'capped', password: 'pw-capped-1' });
    const c = newClient();
    await c.token.create({ username: 'capped', password: 'pw-capped-1' });
    await c.token.create({ username: 'capped', password: 'pw-capped-1' });
    const err = await c.token.create({ username: 'capped', password: 'pw-capped-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err).toMatchObject({ status: 429 });
    expect((err as RateLimitedError).retryAfter === null || typeof (err as RateLimitedError).retryAfter === 'number').toBe(true);
  });

  it('503 ServiceUnavailableError when the store is down (PostgreSQL behind a cut proxy)', async () => {
    const { service, proxy } = await startServiceBehindProxy();
    const base = await service.listen();
    const c = newClient({ url: base, timeout: 10_000, retries: 1, retryDelay: 10 });
    c.setToken((await c.token.create({ username: ADMIN.username, password: ADMIN.password })).token);
    await c.users.list();
    await proxy.cut();
    try {
      const err = await c.users.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServiceUnavailableError);
      expect(err).toMatchObject({ status: 503 });
    } finally {
      await proxy.restore();
    }
  });
});

/** A loopback HTTP server answering with `handler`, counting requests by method. */
async function fakeServer(
  handler: http.RequestListener,
): Promise<{ url: string; counts: Record<string, number>; close(): Promise<void> }> {
  const counts: Record<string, number> = {};
  const server = http.createServer((req, res) => {
    counts[req.method ?? ''] = (counts[req.method ?? ''] ?? 0) + 1;
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('transport', () => {
  it('keeps connections alive across calls', async () => {
    const c = newClient();
    c.setToken(admin.currentToken);
    await c.status.get();
    const before = connections;
    for (let i = 0; i < 10; i++) await c.users.list({ limit: 1 });
    await c.token.isValid(admin.currentToken ?? '');
    expect(connections - before).toBe(0);
  });

  it('times out after the deadline (ServiceUnavailableError, timedOut)', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const c = newClient({ url: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, timeout: 150 });
    try {
      const err = await c.backends.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServiceUnavailableError);
      expect((err as ServiceUnavailableError).timedOut).toBe(true);
      expect(new XivoAuthClient({ url }).transport.timeout).toBe(2000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('a caller AbortSignal aborts the call with its own reason, without retrying', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const c = newClient({ url: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, timeout: 5000 });
    try {
      const controller = new AbortController();
      const pending = c.backends.list({ signal: controller.signal }).catch((e: unknown) => e);
      setTimeout(() => controller.abort(new Error('user gave up')), 50);
      const err = await pending;
      expect((err as Error).message).toBe('user gave up');
      expect(sockets.length).toBe(1);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('retries idempotent calls on 503, never a login', async () => {
    const server = await fakeServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end(JSON.stringify({ message: 'down', error_id: 'service-unavailable', details: {}, timestamp: 0 }));
    });
    const c = newClient({ url: server.url, retries: 2, retryDelay: 5 });
    try {
      const get = await c.users.list().catch((e: unknown) => e);
      expect(get).toBeInstanceOf(ServiceUnavailableError);
      expect((get as ServiceUnavailableError).retryAfter).toBe(0);
      expect(server.counts.GET).toBe(3);
      await expect(c.users.delete('x')).rejects.toBeInstanceOf(ServiceUnavailableError);
      expect(server.counts.DELETE).toBe(3);
      await expect(c.token.create({ username: 'a', password: 'b' })).rejects.toBeInstanceOf(ServiceUnavailableError);
      await expect(c.users.create({ username: 'x' })).rejects.toBeInstanceOf(ServiceUnavailableError);
      expect(server.counts.POST).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('retries an idempotent call after a connection reset and succeeds', async () => {
    let first = true;
    const server = await fakeServer((req, res) => {
      if (first) {
        first = false;
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: ['xivo_user'] }));
    });
    const c = newClient({ url: server.url, retryDelay: 5 });
    try {
      expect(await c.backends.list()).toEqual(['xivo_user']);
      expect(server.counts.GET).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('RateLimitedError carries Retry-After', async () => {
    const server = await fakeServer((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end(JSON.stringify({ message: 'slow down', error_id: 'too-many-requests', details: {}, timestamp: 0 }));
    });
    const c = newClient({ url: server.url });
    try {
      const err = await c.users.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RateLimitedError);
      expect(err).toMatchObject({ retryAfter: 7, errorId: 'too-many-requests', status: 429 });
      expect(server.counts.GET).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('never sends the client token with a login or a token check', async () => {
    const seen: (string | undefined)[] = [];
    const server = await fakeServer((req, res) => {
      seen.push(req.headers['x-auth-token'] as string | undefined);
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ reason: ['No such token'], timestamp: [0], status_code: 404 }));
    });
    const c = newClient({ url: server.url, token: 'secret-admin-token' });
    try {
      await c.token.isValid('other');
      await c.token.create({ username: 'a', password: 'b' }).catch(() => undefined);
      await c.users.list().catch(() => undefined);
      expect(seen).toEqual([undefined, undefined, 'secret-admin-token']);
    } finally {
      await server.close();
    }
  });
});

export type { Token };
