// Issue 19, item 1, at the store: db_timeout bounds a whole checkout (a
// transaction of several statements waits one timeout, not one per
// statement, and its ROLLBACK does not wait another), the calls of one
// request share one timeout (src/db-budget.ts), and a PostgreSQL
// connection whose statement got no answer is destroyed, never pooled again.
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDbBudget } from '../../src/db-budget.js';
import { StoreUnavailableError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js';
import { tempSqliteUri } from '../helpers/sqlite.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { until } from '../helpers/until.js';

const TIMEOUT_MS = 600;
/** Timers, scheduling, a busy 2-core machine. */
const SLACK_MS = 400;

async function timed(fn: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  let error: unknown = null;
  try {
    await fn();
  } catch (err) {
    error = err;
  }
  return { ms: performance.now() - started, error };
}

describe('PostgreSQL behind a blackhole', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let store: Store;

  const serverConnections = async (): Promise<number> => {
    const admin = new pg.Client({ connectionString: database.uri });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'xivo-auth'",
      );
      return rows[0].n;
    } finally {
      await admin.end();
    }
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const url = new URL(database.uri);
    proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    url.host = `127.0.0.1:${proxy.port}`;
    store = await openStore(url.toString(), { timeoutMs: TIMEOUT_MS, poolMax: 3 });
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('a stuck statement fails its checkout in one timeout, and its connection is destroyed', async () => {
    // The pool holds one idle connection (poolMax 3).
    await store.ping();
    await until(async () => (await serverConnections()) === 1, 'one pooled connection');
    proxy.blackhole();
    try {
      // A statement on the pooled connection gets no answer in time: that
      // connection must not go back to the pool (checked after the restore).
      const stuck = await timed(() => store.getTopTenant());
      expect(stuck.error).toBeInstanceOf(StoreUnavailableError);
      expect(stuck.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);

      // A transaction: BEGIN gets no answer; no ROLLBACK waits behind it.
      const trx = await timed(() =>
        store.transaction(async (tx) => {
          await tx.getTopTenant();
          await tx.getTopTenant();
          await tx.getTopTenant();
        }),
      );
      expect(trx.error).toBeInstanceOf(StoreUnavailableError);
      expect(trx.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(trx.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);

      // A new connection gets no answer either: one timeout.
      const ping = await timed(() => store.ping());
      expect(ping.error).toBeInstanceOf(StoreUnavailableError);
      expect(ping.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);

      // One request's calls share one timeout: the first waits it, the others fail at once.
      const request = await timed(() =>
        withDbBudget(async () => {
          const errors: unknown[] = [];
          for (let i = 0; i < 4; i += 1) errors.push(await store.getTopTenant().catch((err: unknown) => err));
          for (const err of errors) expect(err).toBeInstanceOf(StoreUnavailableError);
        }),
      );
      expect(request.error).toBeNull();
      expect(request.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    } finally {
      await proxy.restore();
    }
    // The route is back and the blackholed connections resume: the one the
    // transaction had was destroyed (its end reaches the server now), not
    // pooled again; a pooled one would carry on, idle, on the server.
    await until(async () => (await serverConnections()) === 0, 'the stuck connection closed', 5000);
    await until(
      () =>
        store.ping().then(
          () => true,
          () => false,
        ),
      'the store back',
      5000,
    );
    expect(await store.getTopTenant()).toBeNull();
  });
});

describe('SQLite with the write lock held elsewhere', () => {
  const sqlite = tempSqliteUri();
  let store: Store;

  beforeAll(async () => {
    store = await openStore(sqlite.uri, { timeoutMs: TIMEOUT_MS });
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
    sqlite.cleanup();
  });

  it('writes wait one timeout per request, off the event loop; reads do not wait', async () => {
    const other = new Database(sqlite.path);
    try {
      other.exec('BEGIN IMMEDIATE');
      const write = () => store.reserveLoginAttempt('p:x', Date.now(), { threshold: 5, delaysMs: [1000], staleBefore: 0 });
      // The event loop keeps turning while a write waits.
      let ticks = 0;
      const ticker = setInterval(() => {
        ticks += 1;
      }, 10);
      const one = await timed(write);
      clearInterval(ticker);
      expect(one.error).toBeInstanceOf(StoreUnavailableError);
      expect(one.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(one.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      expect(ticks).toBeGreaterThan(TIMEOUT_MS / 10 / 3);
      // A transaction too (BEGIN IMMEDIATE waits for the lock).
      const trx = await timed(() => store.transaction((tx) => tx.getTopTenant()));
      expect(trx.error).toBeInstanceOf(StoreUnavailableError);
      expect(trx.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      // One request: four writes, one timeout in all.
      const request = await timed(() =>
        withDbBudget(async () => {
          for (let i = 0; i < 4; i += 1) expect(await write().catch((err: unknown) => err)).toBeInstanceOf(StoreUnavailableError);
        }),
      );
      expect(request.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      // Reads need no lock (WAL).
      const read = await timed(() => store.getTopTenant());
      expect(read.error).toBeNull();
      expect(read.ms).toBeLessThan(100);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
    expect((await store.reserveLoginAttempt('p:x', Date.now(), { threshold: 5, delaysMs: [1000], staleBefore: 0 })).allowed).toBe(
      true,
    );
  });
});
