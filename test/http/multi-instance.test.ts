// Two instances over one PostgreSQL database: a token issued on one is valid
// on the other; a revocation on one reaches the other's cache at once; when
// the revocation listener is down, the cache is bypassed (fail closed).
import type { InjectOptions } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src/main.js';
import { createTestDatabase } from '../helpers/pg.js';
import { ADMIN, basic, testConfig } from '../helpers/service.js';
import { until } from '../helpers/until.js';

describe('two instances on PostgreSQL', () => {
  let db: { uri: string; drop(): Promise<void> };
  let a: Service;
  let b: Service;
  let userToken: () => Promise<string>;
  const on = (s: Service, opts: InjectOptions) => s.app.inject(opts);

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = testConfig(db.uri);
    a = await createService(config, pino({ level: 'silent' }));
    b = await createService(config, pino({ level: 'silent' }));
    await Promise.all([a.app.ready(), b.app.ready()]);
    await until(() => a.cache.isActive && b.cache.isActive, 'both caches on');
    const admin = (
      await on(a, {
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic(ADMIN.username, ADMIN.password) },
        payload: {},
      })
    ).json().data.token;
    await on(a, {
      method: 'POST',
      url: '/0.1/users',
      headers: { 'x-auth-token': admin },
      payload: { username: 'pat', password: 'pat-password' },
    });
    userToken = async () =>
      (
        await on(a, { method: 'POST', url: '/0.1/token', headers: { authorization: basic('pat', 'pat-password') }, payload: {} })
      ).json().data.token;
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('a token issued on A is valid on B, and a revocation on A is seen by B at once', async () => {
    const token = await userToken();
    expect((await on(b, { method: 'HEAD', url: `/0.1/token/${token}` })).statusCode).toBe(204);
    expect((await on(b, { method: 'HEAD', url: `/0.1/token/${token}` })).statusCode).toBe(204); // now cached on B
    expect(b.cache.size).toBeGreaterThan(0);
    expect((await on(a, { method: 'DELETE', url: `/0.1/token/${token}` })).statusCode).toBe(200);
    // NOTIFY is asynchronous: B answers 404 within a short bounded time, and from then on.
    await until(
      async () => (await on(b, { method: 'HEAD', url: `/0.1/token/${token}` })).statusCode === 404,
      'B to see the revocation',
      2000,
    );
  });

  it("revoking all of a user's tokens (password change) reaches B", async () => {
    const t1 = await userToken();
    const t2 = await userToken();
    for (const t of [t1, t2]) expect((await on(b, { method: 'HEAD', url: `/0.1/token/${t}` })).statusCode).toBe(204);
    const removal = await a.tokens.revokeUser((await a.store.findUserByLogin('pat'))!.uuid);
    expect(removal.tokenHashes.length).toBeGreaterThanOrEqual(2);
    for (const t of [t1, t2]) {
      await until(
        async () => (await on(b, { method: 'HEAD', url: `/0.1/token/${t}` })).statusCode === 404,
        'B to forget a revoked token',
        2000,
      );
    }
  });

  it('flushes and bypasses the cache while the listener is down, and recovers', async () => {
    const token = await userToken();
    expect((await on(b, { method: 'HEAD', url: `/0.1/token/${token}` })).statusCode).toBe(204);
    // Cut every listener connection (both instances).
    const admin = new pg.Client({ connectionString: db.uri });
    await admin.connect();
    try {
      await admin.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'xivo-auth-listener' and datname = current_database()",
      );
    } finally {
      await admin.end();
    }
    await until(() => !b.cache.isActive, 'B to notice the listener is gone', 5000);
    expect(b.cache.size).toBe(0);
    const statusDown = (await on(b, { method: 'GET', url: '/0.1/status' })).json();
    expect(statusDown.token_cache).toMatchObject({ status: 'fail', invalidation: 'lost' });
    expect(statusDown.store.status).toBe('ok');
    // Revocations made meanwhile are never served from a cache.
    await on(a, { method: 'DELETE', url: `/0.1/token/${token}` });
    expect((await on(b, { method: 'HEAD', url: `/0.1/token/${token}` })).statusCode).toBe(404);
    await until(() => a.cache.isActive && b.cache.isActive, 'the listeners to come back', 10_000);
    const again = await userToken();
    expect((await on(b, { method: 'HEAD', url: `/0.1/token/${again}` })).statusCode).toBe(204);
    expect(b.cache.size).toBeGreaterThan(0);
    expect((await on(b, { method: 'GET', url: '/0.1/status' })).json().token_cache).toMatchObject({
      status: 'ok',
      invalidation: 'listening',
    });
  });
});
