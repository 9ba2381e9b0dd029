// A successful login commits once: its session and token, the throttle's
// counters cleared, the address's trust mark and the audit record go in one
// transaction (StoreTx.settleLogin). If that transaction fails, none of it is
// stored and the client gets no token.
import { beforeAll, describe, expect, it } from 'vitest';
import type { LoginSettlement, StoreTx } from '../../src/store/types.js';
import { iamApi } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { login, securityWith } from './helpers.js';

for (const engine of ENGINES) {
  describe(`login commit (${engine})`, () => {
    let t: TestService;
    let admin: string;
    const api = iamApi(() => t);
    /** When set, settleLogin does its writes, then this error ends the transaction. */
    let failAfterSettle: Error | null = null;
    const settled: LoginSettlement[] = [];

    beforeAll(async () => {
      t = await startTestService(engine, { security: securityWith({ rate_limits: { enabled: false } }) });
      const store = t.service.store;
      const transaction = store.transaction.bind(store);
      store.transaction = (fn) =>
        transaction((tx) =>
          fn(
            new Proxy(tx, {
              get(target, key) {
                if (key !== 'settleLogin') return target[key as keyof StoreTx];
                return async (s: LoginSettlement) => {
                  await target.settleLogin(s);
                  settled.push(s);
                  if (failAfterSettle !== null) throw failAfterSettle;
                };
              },
            }),
          ),
        );
      admin = await api.adminToken();
    });

    const sessionsOf = async (userUuid: string) =>
      (await api.as(admin, 'GET', `/0.1/users/${userUuid}/sessions`)).json().items as unknown[];
    const auditOf = async (loginName: string) => {
      await t.service.security.audit.flush();
      const res = await api.as(admin, 'GET', '/0.1/audit?limit=1000');
      return (res.json().items as { login: string | null; outcome: string }[]).filter((r) => r.login === loginName);
    };

    it("writes the success's counters, trust mark and audit record in the login's transaction", async () => {
      await api.createUser(admin, 'committer', 'committer-password');
      // A failure first: its counter is what the success clears.
      expect((await login(t.service, 'committer', 'wrong-password-1', '198.51.100.20')).statusCode).toBe(401);
      settled.length = 0;
      expect((await login(t.service, 'committer', 'committer-password', '198.51.100.20')).statusCode).toBe(200);
      expect(settled).toHaveLength(1);
      expect(settled[0]?.clearKeys).toHaveLength(2);
      expect(settled[0]?.mark).not.toBeNull();
      expect(settled[0]?.audit).toMatchObject({ action: 'login', outcome: 'success', login: 'committer' });
      expect((await auditOf('committer')).map((r) => r.outcome).sort()).toEqual(['failure', 'success']);
    });

    it('stores nothing of a login whose transaction fails, and gives its attempt back', async () => {
      const uuid = await api.createUser(admin, 'rolledback', 'rolledback-password');
      failAfterSettle = new Error('disk full');
      try {
        const res = await login(t.service, 'rolledback', 'rolledback-password', '198.51.100.21');
        expect(res.statusCode).toBeGreaterThanOrEqual(500);
        expect(res.body).not.toContain('"token"');
      } finally {
        failAfterSettle = null;
      }
      expect(await sessionsOf(uuid)).toEqual([]);
      // No success recorded: the record went with the transaction (the error is audited apart).
      expect((await auditOf('rolledback')).map((r) => r.outcome)).toEqual(['error']);
      // The attempt was given back: 5 wrong passwords are still allowed before the back-off.
      for (let i = 0; i < 5; i++) {
        expect((await login(t.service, 'rolledback', `wrong-${i}`, '198.51.100.21')).statusCode).toBe(401);
      }
      expect((await login(t.service, 'rolledback', 'wrong-5', '198.51.100.21')).statusCode).toBe(429);
    });
  });
}
