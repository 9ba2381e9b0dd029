// Issue 19, item 1, SQLite: another connection (the CLI, a second process)
// holding the database's write lock longer than db_timeout_seconds makes the
// writes that need it answer 503 with Retry-After within the bound, never a
// hang; the wait does not block the event loop (other requests answer
// meanwhile), and everything works again once the lock is released.
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { sqlitePath } from '../../src/store/open-store.js';
import { ADMIN, basic, startTestService, type TestService } from '../helpers/service.js';

describe('SQLite write lock held by another connection', () => {
  let t: TestService;
  const login = () =>
    t.service.app.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { authorization: basic(ADMIN.username, ADMIN.password) },
      payload: {},
    });

  beforeAll(async () => {
    t = await startTestService('sqlite', { db_timeout_seconds: 1 });
  });

  it('answers 503 + Retry-After within db_timeout_seconds, keeps the event loop free, recovers', async () => {
    const token = (await login()).json().data.token as string;
    const other = new Database(sqlitePath(t.config.db_uri!));
    try {
      other.exec('BEGIN IMMEDIATE');
      other.prepare('UPDATE login_throttle SET updated_at = updated_at').run();

      // Reads need no lock (WAL): a check answers at once.
      const check = await t.service.app.inject({ method: 'HEAD', url: `/0.1/token/${token}` });
      expect(check.statusCode).toBe(204);

      const started = performance.now();
      const pending = login();
      // While the login waits for the lock, the event loop serves others.
      const liveStarted = performance.now();
      const live = await t.service.app.inject({ method: 'GET', url: '/health/live' });
      const liveMs = performance.now() - liveStarted;
      const refused = await pending;
      const elapsed = performance.now() - started;
      expect(live.statusCode).toBe(200);
      expect(liveMs).toBeLessThan(300);
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(2000);

      // A revocation (a write transaction) too.
      const revokeStarted = performance.now();
      const revoke = await t.service.app.inject({ method: 'DELETE', url: `/0.1/token/${token}` });
      expect(revoke.statusCode).toBe(503);
      expect(revoke.headers['retry-after']).toBe('1');
      expect(performance.now() - revokeStarted).toBeLessThan(2000);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
    // The lock is gone: logins, checks and revocations work, and the refused
    // login's throttle reservation was given back (no 429 for the next ones).
    for (let i = 0; i < 6; i += 1) expect((await login()).statusCode).toBe(200);
    expect((await t.service.app.inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode).toBe(204);
    expect((await t.service.app.inject({ method: 'DELETE', url: `/0.1/token/${token}` })).statusCode).toBe(200);
    expect((await t.service.app.inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode).toBe(404);
  });
});
