// The contract of SecurityStoreVerbs (src/security/store.ts; issue 7):
// login-throttle counters and marks, audit records, re-hashing. Run against
// both engines, each on a database of its own shared by its tests (SQLite: a
// new file; PostgreSQL: a new database); the verbs under test are called
// through that interface (`security`), the full Store serving for setup.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecurityStoreVerbs } from '../../src/security/store.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store, Tenant } from '../../src/store/types.js';
import { createTestDatabase } from '../helpers/pg.js';
import { tempSqliteUri } from '../helpers/sqlite.js';
import { HOUR, NOW, tenantData, userData } from './fixtures.js';

describe('Store security verbs (issue 7)', () => {
  const engines: Array<[string, () => Promise<{ store: Store; cleanup(): Promise<void> }>]> = [
    [
      'sqlite',
      async () => {
        const temp = tempSqliteUri();
        const store = await openStore(temp.uri, {});
        return {
          store,
          cleanup: async () => {
            await store.close();
            temp.cleanup();
          },
        };
      },
    ],
    [
      'postgresql',
      async () => {
        const db = await createTestDatabase();
        const store = await openStore(db.uri, {});
        return {
          store,
          cleanup: async () => {
            await store.close();
            await db.drop();
          },
        };
      },
    ],
  ];
  const rule = (over: Partial<{ threshold: number; delaysMs: number[]; staleBefore: number }> = {}) => ({
    threshold: 3,
    delaysMs: [1000, 2000, 4000],
    staleBefore: NOW - 24 * HOUR,
    ...over,
  });

  for (const [name, open] of engines) {
    describe(name, () => {
      let store: Store;
      let security: SecurityStoreVerbs;
      let cleanup: () => Promise<void>;
      let tenant: Tenant;

      beforeAll(async () => {
        ({ store, cleanup } = await open());
        security = store;
        await store.migrate();
        tenant = await store.createTenant(tenantData({ name: 'master', slug: 'master' }));
      });
      afterAll(async () => {
        await cleanup();
      });

      it('counts attempts, then refuses them until the delay has passed, doubling up to the cap', async () => {
        const results = [];
        for (let i = 0; i < 4; i++) results.push(await security.reserveLoginAttempt('k1', NOW, rule()));
        expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
        expect(results[2]).toEqual({ allowed: true, failures: 3, attempts: 3, nextAttemptAt: NOW + 1000 });
        expect(results[3]).toEqual({ allowed: false, failures: 3, attempts: 4, nextAttemptAt: NOW + 1000 });
        const after = await security.reserveLoginAttempt('k1', NOW + 1000, rule());
        expect(after).toEqual({ allowed: true, failures: 4, attempts: 5, nextAttemptAt: NOW + 3000 });
        let at = NOW + 3000;
        const next = [];
        for (let i = 0; i < 3; i++) {
          const r = await security.reserveLoginAttempt('k1', at, rule());
          next.push(r.nextAttemptAt - at);
          at = r.nextAttemptAt;
        }
        expect(next).toEqual([4000, 4000, 4000]);
        expect(await security.getLoginAttempts('k1')).toMatchObject({ failures: 7 });
      });

      it('counts 50 concurrent attempts exactly, letting no more than the threshold through', async () => {
        const results = await Promise.all(
          Array.from({ length: 50 }, () => security.reserveLoginAttempt('race', NOW, rule({ threshold: 5 }))),
        );
        expect(results.filter((r) => r.allowed)).toHaveLength(5);
        expect(new Set(results.map((r) => r.attempts)).size).toBe(50);
        expect(await security.getLoginAttempts('race')).toEqual({
          allowed: false,
          failures: 5,
          attempts: 50,
          nextAttemptAt: NOW + 1000,
        });
      });

      it('starts a stale counter again, gives a failure back, clears counters', async () => {
        for (let i = 0; i < 3; i++) await security.reserveLoginAttempt('k2', NOW, rule());
        const fresh = await security.reserveLoginAttempt('k2', NOW + 48 * HOUR, rule({ staleBefore: NOW + 24 * HOUR }));
        expect(fresh).toEqual({ allowed: true, failures: 1, attempts: 1, nextAttemptAt: 0 });
        await security.reserveLoginAttempt('k3', NOW, rule());
        await security.reserveLoginAttempt('k3', NOW, rule());
        await security.releaseLoginAttempt('k3');
        expect(await security.getLoginAttempts('k3')).toMatchObject({ failures: 1, attempts: 2 });
        await security.clearLoginFailures(['k2', 'k3', 'unknown']);
        expect(await security.getLoginAttempts('k2')).toBeNull();
        expect(await security.getLoginAttempts('k3')).toBeNull();
      });

      it('keeps dated marks and purges by prefix and age', async () => {
        await security.touchLoginMark('t:mark', NOW);
        expect(await security.hasLoginMark('t:mark', NOW - HOUR)).toBe(true);
        expect(await security.hasLoginMark('t:mark', NOW + 1)).toBe(false);
        expect(await security.hasLoginMark('t:none', 0)).toBe(false);
        await security.reserveLoginAttempt('p:old', NOW - 10 * HOUR, rule());
        await security.reserveLoginAttempt('p:new', NOW, rule());
        expect(await security.purgeLoginThrottle('p:', NOW - HOUR)).toBe(1);
        expect(await security.getLoginAttempts('p:old')).toBeNull();
        expect(await security.getLoginAttempts('p:new')).not.toBeNull();
        expect(await security.purgeLoginThrottle('t:', NOW + 1)).toBe(1);
        expect(await security.hasLoginMark('t:mark', 0)).toBe(false);
      });

      it('lists the counters backing off and deletes one (issue 25)', async () => {
        for (let i = 0; i < 3; i++) await security.reserveLoginAttempt('p:blocked', NOW, rule({ threshold: 1 }));
        await security.reserveLoginAttempt('a:blocked', NOW, rule({ threshold: 1, delaysMs: [60_000] }));
        await security.reserveLoginAttempt('p:free', NOW, rule());
        await security.touchLoginMark('t:mark', NOW);
        const blocked = await security.listBlockedLogins(NOW, 10);
        expect(blocked.map((b) => b.key)).toEqual(['a:blocked', 'p:blocked']);
        expect(blocked[1]).toMatchObject({ failures: 1, attempts: 3, updatedAt: NOW });
        expect(blocked[0].nextAttemptAt).toBe(NOW + 60_000);
        expect(await security.listBlockedLogins(NOW + 60_000, 10)).toEqual([]);
        expect((await security.listBlockedLogins(NOW, 1)).length).toBe(1);
        expect(await security.deleteLoginThrottle('p:blocked')).toBe(true);
        expect(await security.deleteLoginThrottle('p:blocked')).toBe(false);
        expect(await security.getLoginAttempts('p:blocked')).toBeNull();
      });

      it('stores, lists (scoped, searched, paged, newest first) and purges audit records', async () => {
        const other = await store.createTenant(tenantData({ parentUuid: tenant.uuid }));
        const record = (i: number, tenantUuid: string | null, action = 'users.create') => ({
          uuid: randomUUID(),
          at: NOW + i * 1000,
          action,
          outcome: 'success',
          tenantUuid,
          actorUuid: null,
          actorAuthId: null,
          login: i % 2 === 0 ? `login-${i}` : null,
          remoteAddr: '192.0.2.1',
          targetType: 'users',
          targetId: `t-${i}`,
          statusCode: 200,
          details: { i, nested: { ok: true } },
        });
        for (let i = 0; i < 6; i++) await security.insertAuditRecord(record(i, tenant.uuid));
        await security.insertAuditRecord(record(10, other.uuid, 'login'));
        await security.insertAuditRecord(record(11, null, 'login'));
        const own = await security.listAuditRecords({ tenantUuids: [tenant.uuid], includeUntenanted: false }, {});
        expect(own.total).toBe(6);
        expect(own.items.map((r) => r.at)).toEqual([5, 4, 3, 2, 1, 0].map((i) => NOW + i * 1000));
        expect(own.items[0]).toMatchObject({ tenantUuid: tenant.uuid, details: { i: 5, nested: { ok: true } }, statusCode: 200 });
        const page = await security.listAuditRecords(
          { tenantUuids: [tenant.uuid], includeUntenanted: false },
          { limit: 2, offset: 2 },
        );
        expect(page.items.map((r) => r.targetId)).toEqual(['t-3', 't-2']);
        const asc = await security.listAuditRecords(
          { tenantUuids: [tenant.uuid], includeUntenanted: false },
          { order: 'at', direction: 'asc', limit: 1 },
        );
        expect(asc.items[0].targetId).toBe('t-0');
        const all = await security.listAuditRecords(
          { tenantUuids: [tenant.uuid, other.uuid], includeUntenanted: true },
          { search: 'LOGIN' },
        );
        expect(all.total).toBe(8);
        expect(all.filtered).toBe(2 + 3);
        expect(
          (await security.listAuditRecords({ tenantUuids: [], includeUntenanted: true }, {})).items.map((r) => r.tenantUuid),
        ).toEqual([null]);
        expect((await security.listAuditRecords({ tenantUuids: [], includeUntenanted: false }, {})).total).toBe(0);
        expect(await security.purgeAuditRecords(NOW + 3000, 2)).toBe(2);
        expect(await security.purgeAuditRecords(NOW + 3000, 100)).toBe(1);
        expect((await security.listAuditRecords({ tenantUuids: [tenant.uuid], includeUntenanted: false }, {})).total).toBe(3);
      });

      it('replaces a password hash only if it is still the expected one', async () => {
        const user = await store.createUser(userData(tenant.uuid));
        expect(await security.replacePasswordHash(user.uuid, 'not-the-hash', 'new')).toBe(false);
        expect((await store.getUser(user.uuid))!.passwordHash).toBe(user.passwordHash);
        expect(await security.replacePasswordHash(user.uuid, user.passwordHash!, '$argon2id$new')).toBe(true);
        expect((await store.getUser(user.uuid))!.passwordHash).toBe('$argon2id$new');
      });
    });
  }
});
