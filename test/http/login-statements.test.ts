// Issue 20: the statements one password login sends to the database,
// counted by the store's drivers (src/store/statement-count.ts) and read
// from /metrics (xivo_auth_db_statements_total{engine}) before and after
// the login. PostgreSQL: 7 (reserve + trust mark; the user with its
// addresses, its tenant's method and, for a user of purpose `user`, the
// count of its live sessions against max_user_sessions; its policies; its
// second factors with the tenant rules; the writes as one statement between
// BEGIN and COMMIT). SQLite keeps a transaction for the writes (its CTEs
// cannot modify data): 11 (the same reads; BEGIN, session, token, counters
// cleared, trust mark, audit record, COMMIT), each an in-process call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iamApi } from '../helpers/iam.js';
import { ADMIN, basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';

/** Bounds (measured today: PostgreSQL 7, SQLite 11; a user's login counts its live sessions with its read). */
const EXPECTED: Record<(typeof ENGINES)[number], { admin: number; user: number }> = {
  postgresql: { admin: 7, user: 7 },
  sqlite: { admin: 11, user: 11 },
};

for (const engine of ENGINES) {
  describe(`statements of a password login (${engine})`, () => {
    let t: TestService;
    const api = iamApi(() => t);

    beforeAll(async () => {
      t = await startTestService(engine, { default_token_lifetime: 600 });
    });
    afterAll(async () => {
      await t.close();
    });

    const statements = async (): Promise<number> => {
      const res = await t.service.app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      const line = res.body.split('\n').find((l) => l.startsWith(`xivo_auth_db_statements_total{engine="${engine}"} `));
      expect(line).toBeDefined();
      return Number(line?.split(' ').pop());
    };
    const login = async (username: string, password: string) => {
      const res = await t.service.app.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic(username, password) },
        payload: { expiration: 600 },
      });
      expect(res.statusCode).toBe(200);
    };
    /**
     * Statements of one login: the counter's move across it, less what a
     * scrape of /metrics itself reads (measured just before); the fewest of
     * a few tries, so that a background job (mail relay, reaper) running
     * meanwhile does not count.
     */
    const statementsOfLogin = async (username: string, password: string): Promise<number> => {
      let fewest = Infinity;
      for (let i = 0; i < 3; i++) {
        const a = await statements();
        const b = await statements();
        await login(username, password);
        const c = await statements();
        fewest = Math.min(fewest, c - b - (b - a));
      }
      return fewest;
    };

    it('counts statements per engine on /metrics', async () => {
      const before = await statements();
      await login(ADMIN.username, ADMIN.password);
      expect(await statements()).toBeGreaterThan(before);
    });

    it(`sends at most ${EXPECTED[engine].admin} statements for an administrator's login`, async () => {
      // From an address already trusted (the first login above): no account-wide reservation.
      const n = await statementsOfLogin(ADMIN.username, ADMIN.password);
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThanOrEqual(EXPECTED[engine].admin);
    });

    it(`sends at most ${EXPECTED[engine].user} statements for a user's login (tenant default method, session cap)`, async () => {
      const admin = await api.adminToken();
      await api.createUser(admin, 'counted', 'counted-password');
      await login('counted', 'counted-password');
      const n = await statementsOfLogin('counted', 'counted-password');
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThanOrEqual(EXPECTED[engine].user);
    });
  });
}
