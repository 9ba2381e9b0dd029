// The SQLite reaper's worker thread (src/store/sqlite/purge-thread.ts): the
// same deletions as the store's deleteExpired, done on a thread with its own
// connection to the file, while the service keeps serving and writing; the
// thread ends on close. SQLite only: PostgreSQL keeps the store's path.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { openStore } from '../../src/store/open-store.js';
import type { Removal, Session, Store, TokenRecord } from '../../src/store/types.js';
import { Reaper } from '../../src/tokens/reaper.js';
import { SqlitePurgeThread, sqlitePurgeThreadFor } from '../../src/store/sqlite/purge-thread.js';
import { ADMIN, basic, startTestService } from '../helpers/service.js';
import { tempSqliteUri, type TempSqlite } from '../helpers/sqlite.js';
import { ownThreads } from '../helpers/threads.js';

const NOW = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

function sessionData(tenantUuid: string): Session {
  return { uuid: randomUUID(), tenantUuid, userUuid: randomUUID(), mobile: false, createdAt: NOW };
}

function tokenData(session: Session, expiresAt: number): TokenRecord {
  return {
    hash: randomBytes(32).toString('hex'),
    sessionUuid: session.uuid,
    authId: session.userUuid ?? 'x',
    userUuid: session.userUuid,
    tenantUuid: session.tenantUuid,
    pbxUserUuid: null,
    xivoUuid: null,
    issuedAt: NOW - 2 * HOUR,
    expiresAt,
    acl: ['auth.#'],
    metadata: {},
    remoteAddr: null,
    userAgent: null,
    refreshTokenUuid: null,
  };
}

/** Threads of this process named by the purge worker (Linux). */
function purgeThreads(): number {
  return readdirSync('/proc/self/task').filter((tid) => {
    try {
      return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'token-purge';
    } catch {
      return false;
    }
  }).length;
}

interface Fixture {
  store: Store;
  db: TempSqlite;
  tenantUuid: string;
}

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

async function fixture(): Promise<Fixture> {
  const db = tempSqliteUri();
  const store = await openStore(db.uri);
  await store.migrate();
  opened.push({
    close: async () => {
      await store.close();
      db.cleanup();
    },
  });
  const tenantUuid = randomUUID();
  await store.createTenant({ uuid: tenantUuid, name: 't', slug: null, parentUuid: null, domainNames: [] });
  return { store, db, tenantUuid };
}

function thread(path: string, options?: ConstructorParameters<typeof SqlitePurgeThread>[1]): SqlitePurgeThread {
  const t = new SqlitePurgeThread(path, options);
  opened.push({ close: () => t.close() });
  return t;
}

/** `n` expired single-token sessions, written straight into the file (fast). */
function insertExpired(path: string, tenantUuid: string, n: number): void {
  const db = new Database(path);
  const session = db.prepare('INSERT INTO sessions (uuid, tenant_uuid, user_uuid, mobile, created_at) VALUES (?, ?, NULL, 0, ?)');
  const token = db.prepare(`INSERT INTO tokens (hash, session_uuid, auth_id, user_uuid, tenant_uuid, pbx_user_uuid, xivo_uuid,
    issued_at, expires_at, acl, metadata, remote_addr, user_agent, refresh_token_uuid)
    VALUES (?, ?, 'bulk', NULL, ?, NULL, NULL, ?, ?, '[]', '{}', NULL, NULL, NULL)`);
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const s = randomUUID();
      session.run(s, tenantUuid, NOW - 2 * HOUR);
      token.run(randomBytes(32).toString('hex'), s, tenantUuid, NOW - 2 * HOUR, NOW - HOUR - n + i);
    }
  })();
  db.close();
}

describe('SQLite purge thread', () => {
  it('deletes at most `limit` expired tokens, oldest first, and the sessions left empty, as the store does', async () => {
    const { store, db, tenantUuid } = await fixture();
    const expiredSessions = Array.from({ length: 5 }, () => sessionData(tenantUuid));
    const expiredTokens = expiredSessions.map((s, i) => tokenData(s, NOW - (5 - i) * HOUR));
    const mixed = sessionData(tenantUuid);
    const mixedExpired = tokenData(mixed, NOW);
    const mixedLive = tokenData(mixed, NOW + HOUR);
    for (const s of [...expiredSessions, mixed]) await store.createSession(s);
    for (const t of [...expiredTokens, mixedExpired, mixedLive]) await store.insertToken(t);

    const purge = thread(db.path);
    const first = await purge.deleteExpired(NOW, 2);
    expect(first.tokenHashes.sort()).toEqual([expiredTokens[0].hash, expiredTokens[1].hash].sort());
    // Sessions come back mapped like the store's.
    expect(first.sessions.sort((a, b) => a.uuid.localeCompare(b.uuid))).toEqual(
      [expiredSessions[0], expiredSessions[1]].sort((a, b) => a.uuid.localeCompare(b.uuid)),
    );

    const second = await purge.deleteExpired(NOW, 10);
    expect(second.tokenHashes.sort()).toEqual([...expiredTokens.slice(2).map((t) => t.hash), mixedExpired.hash].sort());
    expect(second.sessions.map((s) => s.uuid).sort()).toEqual(
      expiredSessions
        .slice(2)
        .map((s) => s.uuid)
        .sort(),
    );
    expect(await purge.deleteExpired(NOW, 10)).toEqual({ tokenHashes: [], sessions: [] });
    expect(await store.findTokenByHash(mixedLive.hash)).toEqual(mixedLive);
    expect(await store.getSession(mixed.uuid)).toEqual(mixed);
  });

  it("records auth_session_deleted as the store does, stamped with the reaper's clock, in the chunk's transaction", async () => {
    const { store, db, tenantUuid } = await fixture();
    const sessions = Array.from({ length: 3 }, () => sessionData(tenantUuid));
    for (const s of sessions) {
      await store.createSession(s);
      await store.insertToken(tokenData(s, NOW - HOUR));
    }
    const purge = thread(db.path, { recordEvents: true });
    const removal = await purge.deleteExpired(NOW, 10);
    expect(removal.sessions.map((s) => s.uuid).sort()).toEqual(sessions.map((s) => s.uuid).sort());
    const file = new Database(db.path, { readonly: true });
    const rows = file
      .prepare('SELECT name, routing_key, tenant_uuid, user_uuid, data, created_at FROM outbox ORDER BY id')
      .all() as Array<{
      name: string;
      routing_key: string;
      tenant_uuid: string;
      user_uuid: string | null;
      data: string;
      created_at: number;
    }>;
    file.close();
    expect(
      rows.map((r) => ({ ...r, data: JSON.parse(r.data) })).sort((a, b) => a.routing_key.localeCompare(b.routing_key)),
    ).toEqual(
      sessions
        .map((s) => ({
          name: 'auth_session_deleted',
          routing_key: `auth.sessions.${s.uuid}.deleted`,
          tenant_uuid: s.tenantUuid,
          user_uuid: s.userUuid,
          data: { uuid: s.uuid, tenant_uuid: s.tenantUuid, user_uuid: s.userUuid },
          // The reaper's `now` (a fixed day of 2026), not the thread's wall clock.
          created_at: NOW,
        }))
        .sort((a, b) => a.routing_key.localeCompare(b.routing_key)),
    );
  });

  it('runs at nice 19 by default: the threads serving requests preempt it', async () => {
    const { db, tenantUuid } = await fixture();
    insertExpired(db.path, tenantUuid, 10);
    const purge = thread(db.path, { idleMs: 60_000 });
    await purge.deleteExpired(NOW, 100);
    expect(
      ownThreads()
        .filter((t) => t.name === 'token-purge')
        .map((t) => t.nice),
    ).toEqual([19]);
  });

  it('fills a large batch over several short transactions', async () => {
    const { db, tenantUuid } = await fixture();
    insertExpired(db.path, tenantUuid, 3000);
    const purge = thread(db.path);
    const removal = await purge.deleteExpired(NOW, 2500);
    expect(removal.tokenHashes).toHaveLength(2500);
    expect(new Set(removal.tokenHashes).size).toBe(2500);
    expect(removal.sessions).toHaveLength(2500);
    expect((await purge.deleteExpired(NOW, 2500)).tokenHashes).toHaveLength(500);
  });

  it('lets the main thread write while it purges (no SQLITE_BUSY), and every removal reaches onRemoved', async () => {
    const { store, db, tenantUuid } = await fixture();
    const expired = 5000;
    insertExpired(db.path, tenantUuid, expired);
    // Normal priority: this test is about the lock, not about scheduling.
    const purge = thread(db.path, { niceness: 0 });
    const removals: Removal[] = [];
    const reaper = new Reaper(purge, new FakeClock(NOW), pino({ level: 'silent' }), {
      intervalSeconds: 60,
      batchSize: 5000,
      onRemoved: (r) => removals.push(r),
    });
    let done = false;
    const pass = reaper.runOnce().finally(() => {
      done = true;
    });
    // Logins' writes, one after the other, for as long as the purge runs.
    let writes = 0;
    let writesDuringPurge = 0;
    while (!done || writes < 20) {
      const s = sessionData(tenantUuid);
      await store.transaction(async (tx) => {
        await tx.createSession(s);
        await tx.insertToken(tokenData(s, NOW + HOUR));
      });
      writes += 1;
      if (!done) writesDuringPurge += 1;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await pass).toBe(expired);
    expect(writesDuringPurge).toBeGreaterThan(0);
    const removed = removals.flatMap((r) => r.tokenHashes);
    expect(removed).toHaveLength(expired);
    expect(new Set(removed).size).toBe(expired);
    expect(removals.flatMap((r) => r.sessions)).toHaveLength(expired);
    const check = new Database(db.path, { readonly: true });
    expect(check.prepare('SELECT count(*) AS n FROM tokens WHERE expires_at <= ?').get(NOW)).toEqual({ n: 0 });
    expect(check.prepare('SELECT count(*) AS n FROM tokens').get()).toEqual({ n: writes });
    check.close();
  }, 120_000);

  it('ends its thread on close, and refuses work afterwards', async () => {
    const { db } = await fixture();
    const purge = new SqlitePurgeThread(db.path);
    expect(purge.running).toBe(false);
    await purge.deleteExpired(NOW, 10);
    expect(purge.running).toBe(true);
    expect(purgeThreads()).toBe(1);
    await purge.close();
    expect(purge.running).toBe(false);
    expect(purgeThreads()).toBe(0);
    await expect(purge.deleteExpired(NOW, 10)).rejects.toThrow(/closed/);
  });

  it('ends its thread once a pass is over and idle, and starts another for the next pass', async () => {
    const { db, tenantUuid } = await fixture();
    const purge = new SqlitePurgeThread(db.path, { idleMs: 50 });
    opened.push({ close: () => purge.close() });
    expect((await purge.deleteExpired(NOW, 10)).tokenHashes).toEqual([]);
    expect(purge.running).toBe(true);
    const deadline = Date.now() + 5000;
    while ((purge.running || purgeThreads() > 0) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(purge.running).toBe(false);
    expect(purgeThreads()).toBe(0);
    insertExpired(db.path, tenantUuid, 3);
    expect((await purge.deleteExpired(NOW, 10)).tokenHashes).toHaveLength(3);
  });

  it('is used only for a database file', () => {
    expect(sqlitePurgeThreadFor('sqlite::memory:')).toBeNull();
    expect(sqlitePurgeThreadFor('postgresql://postgres@127.0.0.1/x')).toBeNull();
    expect(sqlitePurgeThreadFor('sqlite:/tmp/x.db')).toBeInstanceOf(SqlitePurgeThread);
  });
});

describe('service on SQLite: the reaper thread', () => {
  it('reaps expired tokens off the main thread, evicts them from the cache, keeps answering, and stops with the service', async () => {
    const clock = new FakeClock(Date.now());
    const t = await startTestService('sqlite', { token_cleanup_interval: 0.05 }, clock);
    const { service } = t;
    await service.listen();
    const login = async () => {
      const res = await fetch(`${service.url}/0.1/token`, {
        method: 'POST',
        headers: { authorization: basic(ADMIN.username, ADMIN.password), 'content-type': 'application/json' },
        body: JSON.stringify({ expiration: 60 }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { data: { token: string } }).data.token;
    };
    const token = await login();
    const hash = createHash('sha256').update(token).digest('hex');
    expect((await fetch(`${service.url}/0.1/token/${token}`, { method: 'HEAD' })).status).toBe(204);
    expect(service.cache.get(hash)).toBeDefined();

    clock.advance(120_000);
    // The reaper's next pass (every 50 ms) removes the row on the worker thread.
    const deadline = Date.now() + 10_000;
    // The row goes on the worker's commit; the removal reaches the main thread
    // (cache eviction) in the message that follows it.
    while (
      ((await service.store.findTokenByHash(hash)) !== null || service.cache.get(hash) !== undefined) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await service.store.findTokenByHash(hash)).toBeNull();
    expect(purgeThreads()).toBe(1);
    // The removal reached the main thread: out of the cache, counted.
    expect(service.cache.get(hash)).toBeUndefined();
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/^xivo_auth_reaper_deleted_tokens_total 1$/m);

    // Still answering: a fresh login and its check.
    const fresh = await login();
    expect((await fetch(`${service.url}/0.1/token/${fresh}`, { method: 'HEAD' })).status).toBe(204);

    await t.close();
    expect(purgeThreads()).toBe(0);
  });
});
