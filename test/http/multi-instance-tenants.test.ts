// Issue 19, item 3: no tenant state held only in one process. Each instance
// remembers tenant parents (identity/tenant-tree.ts); a tenant deleted,
// re-parented or re-created on one instance must be seen by the others at
// once (a tenant notice committed with the change, delivered by the
// revocation listener), the remembered parents must be bypassed while that
// listener is down (fail closed), and on SQLite a change committed by
// another connection (`xivo-auth import` from another process) must be seen
// too (PRAGMA data_version).
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import Database from 'better-sqlite3';
import type { InjectOptions } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src/main.js';
import { sqlitePath } from '../../src/store/open-store.js';
import { createTestDatabase } from '../helpers/pg.js';
import { ADMIN, basic, startTestService, testConfig, type TestService } from '../helpers/service.js';
import { until } from '../helpers/until.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

/** Requests against one service, as the admin or as anyone. */
function client(s: () => Service) {
  const inject = (opts: InjectOptions) => s().app.inject(opts);
  return {
    inject,
    async login(username: string, password: string): Promise<string> {
      const res = await inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { ...JSON_HEADERS, authorization: basic(username, password) },
        payload: {},
      });
      if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.statusCode} ${res.body}`);
      return res.json().data.token as string;
    },
    async as(token: string, method: string, url: string, payload?: object) {
      return inject({
        method: method as 'GET',
        url,
        headers: { ...JSON_HEADERS, 'x-auth-token': token },
        ...(payload === undefined ? {} : { payload }),
      });
    },
    /** HEAD /token/{token}?tenant=X: 204 inside the token's subtree, 403 outside. */
    async checkIn(token: string, tenant: string): Promise<number> {
      return (await inject({ method: 'HEAD', url: `/0.1/token/${token}?tenant=${tenant}` })).statusCode;
    },
  };
}

/**
 * A pass-through TCP proxy to PostgreSQL that can refuse, and cut, the
 * revocation listener's connections only (told apart by the
 * application_name of their startup packet): the listener stays down while
 * the instance's pool keeps working.
 */
async function startListenerGate(target: URL): Promise<{ uri: string; block(): void; unblock(): void; close(): Promise<void> }> {
  let blocked = false;
  const listenerPairs = new Set<[net.Socket, net.Socket]>();
  const all = new Set<net.Socket>();
  const server = net.createServer((client) => {
    all.add(client);
    client.on('close', () => all.delete(client));
    client.on('error', () => client.destroy());
    client.once('data', (startup: Buffer) => {
      client.pause();
      const isListener = startup.includes('xivo-auth-listener');
      if (isListener && blocked) {
        client.destroy();
        return;
      }
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      all.add(upstream);
      const pair: [net.Socket, net.Socket] = [client, upstream];
      if (isListener) listenerPairs.add(pair);
      const end = () => {
        listenerPairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      upstream.on('error', end).on('close', end);
      client.on('close', end);
      upstream.on('connect', () => {
        upstream.write(startup);
        client.pipe(upstream);
        upstream.pipe(client);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const uri = new URL(target.toString());
  uri.hostname = '127.0.0.1';
  uri.port = String((server.address() as net.AddressInfo).port);
  return {
    uri: uri.toString(),
    block() {
      blocked = true;
      for (const [client, upstream] of [...listenerPairs]) {
        client.destroy();
        upstream.destroy();
      }
    },
    unblock() {
      blocked = false;
    },
    async close() {
      for (const socket of all) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('tenant changes across two instances on PostgreSQL', () => {
  let db: { uri: string; drop(): Promise<void> };
  let gate: Awaited<ReturnType<typeof startListenerGate>>;
  let a: Service;
  let b: Service;
  let adminToken: string;
  const onA = client(() => a);
  const onB = client(() => b);
  let n = 0;

  /** A tenant under `parent` (the top tenant when omitted), made on A. */
  const tenant = async (parent?: string, uuid?: string): Promise<string> => {
    n += 1;
    const res = await onA.as(adminToken, 'POST', '/0.1/tenants', {
      name: `t${n}`,
      ...(parent === undefined ? {} : { parent_uuid: parent }),
      ...(uuid === undefined ? {} : { uuid }),
    });
    if (res.statusCode !== 200) throw new Error(`create tenant: ${res.statusCode} ${res.body}`);
    return res.json().uuid as string;
  };
  /** A token of a new user of `tenantUuid`. */
  const tokenIn = async (tenantUuid: string): Promise<string> => {
    n += 1;
    const res = await onA.inject({
      method: 'POST',
      url: '/0.1/users',
      headers: { ...JSON_HEADERS, 'x-auth-token': adminToken, 'wazo-tenant': tenantUuid },
      payload: { username: `u${n}`, password: `password-${n}` },
    });
    if (res.statusCode !== 200) throw new Error(`create user: ${res.statusCode} ${res.body}`);
    return onA.login(`u${n}`, `password-${n}`);
  };
  const move = async (uuid: string, parent: string) => {
    expect((await onA.as(adminToken, 'PUT', `/0.1/tenants/${uuid}/parent/${parent}`)).statusCode).toBe(204);
  };
  beforeAll(async () => {
    db = await createTestDatabase();
    // B reaches PostgreSQL through the gate, which can keep its listener out.
    gate = await startListenerGate(new URL(db.uri));
    a = await createService(testConfig(db.uri), pino({ level: 'silent' }));
    b = await createService(testConfig(gate.uri), pino({ level: 'silent' }));
    await Promise.all([a.app.ready(), b.app.ready()]);
    await until(() => a.cache.isActive && b.cache.isActive, 'both listeners up');
    adminToken = await onA.login(ADMIN.username, ADMIN.password);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await gate?.close();
    await db?.drop();
  });

  it("a tenant deleted on A is out of every token's subtree on B at once", async () => {
    const parent = await tenant();
    const child = await tenant(parent);
    const token = await tokenIn(parent);
    // B walks child → parent, and remembers it.
    expect(await onB.checkIn(token, child)).toBe(204);
    expect(await onB.checkIn(token, child)).toBe(204);
    expect((await onA.as(adminToken, 'DELETE', `/0.1/tenants/${child}`)).statusCode).toBe(204);
    await until(async () => (await onB.checkIn(token, child)) === 403, 'B to forget the deleted tenant', 2000);
    // A too (its own change), and from then on.
    expect(await onA.checkIn(token, child)).toBe(403);
    expect(await onB.checkIn(token, child)).toBe(403);
  });

  it('a tenant re-parented on A has its new parent on B at once', async () => {
    const left = await tenant();
    const right = await tenant();
    const moving = await tenant(left);
    const below = await tenant(moving);
    const leftToken = await tokenIn(left);
    const rightToken = await tokenIn(right);
    for (const t of [moving, below]) {
      expect(await onB.checkIn(leftToken, t)).toBe(204);
      expect(await onB.checkIn(rightToken, t)).toBe(403);
    }
    await move(moving, right);
    await until(async () => (await onB.checkIn(leftToken, moving)) === 403, 'B to see the new parent', 2000);
    for (const t of [moving, below]) {
      expect(await onB.checkIn(leftToken, t)).toBe(403);
      expect(await onB.checkIn(rightToken, t)).toBe(204);
    }
    // The management API on B follows as well (Wazo-Tenant is checked against the same tree).
    const seen = await onB.inject({
      method: 'GET',
      url: '/0.1/users',
      headers: { 'x-auth-token': leftToken, 'wazo-tenant': below },
    });
    expect(seen.statusCode).toBe(401);
  });

  it('a tenant deleted and created again with the same uuid under another parent: B follows', async () => {
    const first = await tenant();
    const second = await tenant();
    const uuid = randomUUID();
    await tenant(first, uuid);
    const firstToken = await tokenIn(first);
    const secondToken = await tokenIn(second);
    expect(await onB.checkIn(firstToken, uuid)).toBe(204);
    expect((await onA.as(adminToken, 'DELETE', `/0.1/tenants/${uuid}`)).statusCode).toBe(204);
    await tenant(second, uuid);
    await until(async () => (await onB.checkIn(secondToken, uuid)) === 204, 'B to see the new tenant', 2000);
    expect(await onB.checkIn(firstToken, uuid)).toBe(403);
  });

  it('while the listener is down, B remembers nothing (fail closed), and starts afresh when it is back', async () => {
    const left = await tenant();
    const right = await tenant();
    const moving = await tenant(left);
    const leftToken = await tokenIn(left);
    const rightToken = await tokenIn(right);
    expect(await onB.checkIn(leftToken, moving)).toBe(204);

    // B's listener cut, and refused while it tries to come back; its pool works.
    gate.block();
    try {
      await until(() => !b.cache.isActive, 'B to notice the listener is gone', 5000);
      // Read while down (a tree that kept caching would remember it now)...
      expect(await onB.checkIn(leftToken, moving)).toBe(204);
      expect(await onB.checkIn(leftToken, moving)).toBe(204);
      // ...moved on A while no notice can reach B: B sees it on the very next check.
      await move(moving, right);
      expect(b.cache.isActive).toBe(false);
      expect(await onB.checkIn(leftToken, moving)).toBe(403);
      expect(await onB.checkIn(rightToken, moving)).toBe(204);
      await move(moving, left);
      expect(await onB.checkIn(leftToken, moving)).toBe(204);
      expect(await onB.checkIn(rightToken, moving)).toBe(403);
      expect((await onB.inject({ method: 'GET', url: '/0.1/status' })).json().token_cache).toMatchObject({
        status: 'fail',
        invalidation: 'lost',
      });
      expect(b.cache.isActive).toBe(false);
    } finally {
      gate.unblock();
    }

    await until(() => b.cache.isActive, "B's listener to come back", 10_000);
    // Remembered again, and told again.
    expect(await onB.checkIn(leftToken, moving)).toBe(204);
    expect(await onB.checkIn(leftToken, moving)).toBe(204);
    await move(moving, right);
    await until(async () => (await onB.checkIn(leftToken, moving)) === 403, 'B to see the move after the reconnection', 2000);
    expect(await onB.checkIn(rightToken, moving)).toBe(204);
  });
});

describe('tenant changes by another connection on SQLite', () => {
  let t: TestService;
  const api = client(() => t.service);

  beforeAll(async () => {
    t = await startTestService('sqlite');
  });

  it('a parent changed or a tenant deleted by another connection (an import, another process) is seen at once', async () => {
    const admin = await api.login(ADMIN.username, ADMIN.password);
    const create = async (body: object) => {
      const res = await api.as(admin, 'POST', '/0.1/tenants', body);
      if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`);
      return res.json().uuid as string;
    };
    const left = await create({ name: 'left' });
    const right = await create({ name: 'right' });
    const moving = await create({ name: 'moving', parent_uuid: left });
    const doomed = await create({ name: 'doomed', parent_uuid: left });
    for (const [username, tenantUuid] of [
      ['lefty', left],
      ['righty', right],
    ]) {
      const res = await api.inject({
        method: 'POST',
        url: '/0.1/users',
        headers: { ...JSON_HEADERS, 'x-auth-token': admin, 'wazo-tenant': tenantUuid },
        payload: { username, password: `${username}-password` },
      });
      expect(res.statusCode).toBe(200);
    }
    const leftToken = await api.login('lefty', 'lefty-password');
    const rightToken = await api.login('righty', 'righty-password');
    expect(await api.checkIn(leftToken, moving)).toBe(204);
    expect(await api.checkIn(leftToken, moving)).toBe(204);
    expect(await api.checkIn(leftToken, doomed)).toBe(204);

    const other = new Database(sqlitePath(t.config.db_uri!));
    try {
      other.pragma('foreign_keys = ON');
      other.prepare('update tenants set parent_uuid = ? where uuid = ?').run(right, moving);
      expect(await api.checkIn(leftToken, moving)).toBe(403);
      expect(await api.checkIn(rightToken, moving)).toBe(204);
      other.exec('BEGIN');
      for (const table of ['tenant_domains', 'groups', 'policies'])
        other.prepare(`delete from ${table} where tenant_uuid = ?`).run(doomed);
      other.prepare('delete from tenants where uuid = ?').run(doomed);
      other.exec('COMMIT');
      expect(await api.checkIn(leftToken, doomed)).toBe(403);
    } finally {
      other.close();
    }
    // This instance's own changes are seen at once too.
    expect((await api.as(admin, 'PUT', `/0.1/tenants/${moving}/parent/${left}`)).statusCode).toBe(204);
    expect(await api.checkIn(leftToken, moving)).toBe(204);
    expect(await api.checkIn(rightToken, moving)).toBe(403);
  });
});
