// The contract of TokenStoreTx (src/tokens/store.ts): sessions, access
// tokens, refresh tokens and the reaper's deletions, as the token domain
// reaches them. Run against both engines (./fixtures.ts defineContract), each
// test on a fresh database; the verbs under test are called through that
// interface (`tokenStore`), the full Store serving for setup and for the
// verbs of other domains.

import { randomBytes, randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { StoreConflictError } from '../../src/store/errors.js';
import type { RefreshToken, Store, Tenant } from '../../src/store/types.js';
import type { TokenStoreTx } from '../../src/tokens/store.js';
import type { OpenedStore } from './fixtures.js';
import {
  HOUR,
  NOW,
  defineContract,
  policyData,
  refreshTokenData,
  rejection,
  sessionData,
  tenantData,
  tokenData,
  userData,
} from './fixtures.js';

defineContract('Token store contract', (ctx) => {
  let opened: OpenedStore;
  let store: Store;
  let tokenStore: TokenStoreTx;
  let tenant: Tenant;

  beforeEach(() => {
    ({ opened, store, tenant } = ctx);
    tokenStore = store;
  });

  describe('sessions and tokens', () => {
    it('stores and finds a token by hash, every field intact', async () => {
      const session = sessionData(tenant.uuid, randomUUID(), { mobile: true });
      await tokenStore.createSession(session);
      const token = tokenData(session, {
        pbxUserUuid: randomUUID(),
        xivoUuid: randomUUID(),
        refreshTokenUuid: randomUUID(),
        acl: ['a.b.c', 'émoji.✓'],
        metadata: { list: [1, 'two', null], flag: true, text: 'é' },
        expiresAt: NOW + 10 * 365 * 24 * HOUR,
      });
      await tokenStore.insertToken(token);
      const found = await tokenStore.findTokenByHash(token.hash);
      expect(found).toEqual(token);
      expect(typeof found?.expiresAt).toBe('number');

      const bare = tokenData(session, {
        userUuid: null,
        tenantUuid: null,
        remoteAddr: null,
        userAgent: null,
        acl: [],
        metadata: {},
      });
      await tokenStore.insertToken(bare);
      expect(await tokenStore.findTokenByHash(bare.hash)).toEqual(bare);
      expect(await tokenStore.findTokenByHash('0'.repeat(64))).toBeNull();
    });

    it('refuses a token for an unknown session and a duplicate hash', async () => {
      const session = sessionData(tenant.uuid, null);
      await tokenStore.createSession(session);
      const token = tokenData(session);
      await tokenStore.insertToken(token);
      const dup = await rejection(tokenStore.insertToken(token));
      expect(dup).toBeInstanceOf(StoreConflictError);
      expect((dup as StoreConflictError).field).toBe('hash');
      const orphan = await rejection(tokenStore.insertToken(tokenData(sessionData(tenant.uuid, null))));
      expect(orphan).toBeInstanceOf(StoreConflictError);
      const dupSession = await rejection(tokenStore.createSession(session));
      expect((dupSession as StoreConflictError).field).toBe('uuid');
    });

    it('deleteToken removes the session only with its last token', async () => {
      const session = sessionData(tenant.uuid, randomUUID());
      await tokenStore.createSession(session);
      const a = tokenData(session);
      const b = tokenData(session);
      await tokenStore.insertToken(a);
      await tokenStore.insertToken(b);

      expect(await tokenStore.deleteToken(a.hash)).toEqual({ tokenHashes: [a.hash], sessions: [] });
      expect(await tokenStore.findTokenByHash(a.hash)).toBeNull();
      expect(await tokenStore.findTokenByHash(b.hash)).toEqual(b);

      expect(await tokenStore.deleteToken(b.hash)).toEqual({ tokenHashes: [b.hash], sessions: [session] });
      expect(await tokenStore.deleteToken(b.hash)).toBeNull();
      // The session is gone: its uuid is free again.
      await expect(tokenStore.createSession(session)).resolves.toBeUndefined();
    });

    it('deleteUserSessions removes every session and token of the user, only those', async () => {
      const userUuid = randomUUID();
      const otherUuid = randomUUID();
      const s1 = sessionData(tenant.uuid, userUuid);
      const s2 = sessionData(tenant.uuid, userUuid);
      const empty = sessionData(tenant.uuid, userUuid);
      const sOther = sessionData(tenant.uuid, otherUuid);
      for (const s of [s1, s2, empty, sOther]) await tokenStore.createSession(s);
      const tokens = [tokenData(s1), tokenData(s1), tokenData(s2, { expiresAt: NOW - HOUR })];
      for (const t of tokens) await tokenStore.insertToken(t);
      const tOther = tokenData(sOther);
      await tokenStore.insertToken(tOther);

      const removal = await tokenStore.deleteUserSessions(userUuid);
      expect(removal.tokenHashes.sort()).toEqual(tokens.map((t) => t.hash).sort());
      expect(removal.sessions.map((s) => s.uuid).sort()).toEqual([s1.uuid, s2.uuid, empty.uuid].sort());
      expect(removal.sessions.find((s) => s.uuid === s1.uuid)).toEqual(s1);
      for (const t of tokens) expect(await tokenStore.findTokenByHash(t.hash)).toBeNull();
      expect(await tokenStore.findTokenByHash(tOther.hash)).toEqual(tOther);
      expect(await tokenStore.countLiveSessions(otherUuid, NOW)).toBe(1);

      expect(await tokenStore.deleteUserSessions(userUuid)).toEqual({ tokenHashes: [], sessions: [], refreshTokens: [] });
    });

    it("deleteUserSessions with refreshTokens also removes the user's refresh tokens, only those", async () => {
      const user = await store.createUser(userData(tenant.uuid));
      const other = await store.createUser(userData(tenant.uuid));
      const rt1 = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'one' });
      const rt2 = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'two' });
      const rtOther = refreshTokenData(other.uuid, tenant.uuid);
      for (const rt of [rt1, rt2, rtOther]) await tokenStore.replaceRefreshToken(rt);

      expect((await tokenStore.deleteUserSessions(user.uuid)).refreshTokens).toEqual([]);
      expect(await tokenStore.findRefreshTokenByHash(rt1.hash)).toEqual(rt1);
      const removal = await tokenStore.deleteUserSessions(user.uuid, { refreshTokens: true });
      expect(removal.refreshTokens.map((rt) => rt.clientId).sort()).toEqual(['one', 'two']);
      for (const rt of [rt1, rt2]) expect(await tokenStore.findRefreshTokenByHash(rt.hash)).toBeNull();
      expect(await tokenStore.findRefreshTokenByHash(rtOther.hash)).toEqual(rtOther);
    });

    it('listGroupPolicies gives every linked policy; listForeignPolicyLinks the links outside its tenant', async () => {
      const child = await store.createTenant(tenantData({ name: 'links child', parentUuid: tenant.uuid }));
      const policy = await store.upsertPolicy(policyData(tenant.uuid, { shared: true }));
      const own = await store.createGroup({
        uuid: randomUUID(),
        tenantUuid: tenant.uuid,
        name: 'own',
        slug: `own-${randomUUID().slice(0, 8)}`,
        systemManaged: false,
      });
      const below = await store.createGroup({
        uuid: randomUUID(),
        tenantUuid: child.uuid,
        name: 'below',
        slug: 'below',
        systemManaged: false,
      });
      const ownUser = await store.createUser(userData(tenant.uuid));
      const belowUser = await store.createUser(userData(child.uuid));
      for (const g of [own, below]) await store.addGroupPolicy(g.uuid, policy.uuid);
      for (const u of [ownUser, belowUser]) await store.addUserPolicy(u.uuid, policy.uuid);

      expect(await store.listGroupPolicies(below.uuid)).toEqual([policy]);
      expect(await store.listForeignPolicyLinks(policy.uuid)).toEqual({
        users: [{ uuid: belowUser.uuid, tenantUuid: child.uuid }],
        groups: [{ uuid: below.uuid, tenantUuid: child.uuid }],
      });
    });

    it('countLiveSessions counts sessions with an unexpired token, once each', async () => {
      const userUuid = randomUUID();
      const live = sessionData(tenant.uuid, userUuid);
      const mixed = sessionData(tenant.uuid, userUuid);
      const expired = sessionData(tenant.uuid, userUuid);
      const elsewhere = sessionData(tenant.uuid, randomUUID());
      for (const s of [live, mixed, expired, elsewhere]) await tokenStore.createSession(s);
      await tokenStore.insertToken(tokenData(live));
      await tokenStore.insertToken(tokenData(live));
      await tokenStore.insertToken(tokenData(mixed, { expiresAt: NOW - 1 }));
      await tokenStore.insertToken(tokenData(mixed, { expiresAt: NOW + 1 }));
      await tokenStore.insertToken(tokenData(expired, { expiresAt: NOW - HOUR }));
      await tokenStore.insertToken(tokenData(expired, { expiresAt: NOW }));
      await tokenStore.insertToken(tokenData(elsewhere));

      expect(await tokenStore.countLiveSessions(userUuid, NOW)).toBe(2);
      expect(await tokenStore.countLiveSessions(userUuid, NOW + 1)).toBe(1);
      expect(await tokenStore.countLiveSessions(userUuid, NOW + 2 * HOUR)).toBe(0);
      expect(await tokenStore.countLiveSessions(randomUUID(), NOW)).toBe(0);
      // Bounded by the cap it is asked about.
      expect(await tokenStore.countLiveSessions(userUuid, NOW, 1)).toBe(1);
      expect(await tokenStore.countLiveSessions(userUuid, NOW, 5)).toBe(2);
    });

    it("findLoginUser counts a login's live sessions as countLiveSessions does, for the purposes asked only", async () => {
      const user = await store.createUser(userData(tenant.uuid));
      const internal = await store.createUser(userData(tenant.uuid, { purpose: 'internal' }));
      const live = sessionData(tenant.uuid, user.uuid);
      const other = sessionData(tenant.uuid, user.uuid);
      const expired = sessionData(tenant.uuid, user.uuid);
      const internals = sessionData(tenant.uuid, internal.uuid);
      for (const s of [live, other, expired, internals]) await tokenStore.createSession(s);
      await tokenStore.insertToken(tokenData(live));
      await tokenStore.insertToken(tokenData(live));
      await tokenStore.insertToken(tokenData(other, { expiresAt: NOW + 1 }));
      await tokenStore.insertToken(tokenData(expired, { expiresAt: NOW }));
      await tokenStore.insertToken(tokenData(internals));
      const ask = (now: number, atMost: number) => ({ now, atMost, purposes: ['user', 'external_api'] as const });

      for (const [now, atMost] of [
        [NOW, 100],
        [NOW + 1, 100],
        [NOW + 2 * HOUR, 100],
        [NOW, 1],
      ] as const) {
        const found = await store.findLoginUser(user.username ?? '', ask(now, atMost));
        expect(found?.user.uuid).toBe(user.uuid);
        expect(found?.liveSessions, `now + ${now - NOW}, at most ${atMost}`).toBe(
          await tokenStore.countLiveSessions(user.uuid, now, atMost),
        );
      }
      expect((await store.findLoginUser(user.username ?? '', ask(NOW, 100)))?.liveSessions).toBe(2);
      // By email too; not counted when not asked, nor for a purpose not asked about.
      expect((await store.findLoginUser(user.emails[0].address, ask(NOW, 100)))?.liveSessions).toBe(2);
      expect((await store.findLoginUser(user.username ?? ''))?.liveSessions).toBeUndefined();
      const notCapped = await store.findLoginUser(internal.username ?? '', ask(NOW, 100));
      expect(notCapped?.user.uuid).toBe(internal.uuid);
      expect(notCapped?.liveSessions).toBeUndefined();
    });

    describe('deleteExpired', () => {
      it('deletes at most `limit` expired tokens, oldest first, and the sessions left empty', async () => {
        const userUuid = randomUUID();
        // Five single-token sessions expired at NOW-5h … NOW-1h.
        const expiredSessions = Array.from({ length: 5 }, () => sessionData(tenant.uuid, userUuid));
        const expiredTokens = expiredSessions.map((s, i) => tokenData(s, { expiresAt: NOW - (5 - i) * HOUR }));
        // One session holding an expired and a live token: it must stay.
        const mixed = sessionData(tenant.uuid, userUuid);
        const mixedExpired = tokenData(mixed, { expiresAt: NOW });
        const mixedLive = tokenData(mixed, { expiresAt: NOW + HOUR });
        // A session with only a live token.
        const live = sessionData(tenant.uuid, userUuid);
        const liveToken = tokenData(live);
        for (const s of [...expiredSessions, mixed, live]) await tokenStore.createSession(s);
        for (const t of [...expiredTokens, mixedExpired, mixedLive, liveToken]) await tokenStore.insertToken(t);

        const first = await tokenStore.deleteExpired(NOW, 2);
        expect(first.tokenHashes.sort()).toEqual([expiredTokens[0].hash, expiredTokens[1].hash].sort());
        expect(first.sessions.map((s) => s.uuid).sort()).toEqual([expiredSessions[0].uuid, expiredSessions[1].uuid].sort());
        expect(first.sessions.find((s) => s.uuid === expiredSessions[0].uuid)).toEqual(expiredSessions[0]);

        const second = await tokenStore.deleteExpired(NOW, 10);
        expect(second.tokenHashes.sort()).toEqual([...expiredTokens.slice(2).map((t) => t.hash), mixedExpired.hash].sort());
        expect(second.sessions.map((s) => s.uuid).sort()).toEqual(
          expiredSessions
            .slice(2)
            .map((s) => s.uuid)
            .sort(),
        );

        expect(await tokenStore.deleteExpired(NOW, 10)).toEqual({ tokenHashes: [], sessions: [] });
        expect(await tokenStore.findTokenByHash(mixedLive.hash)).toEqual(mixedLive);
        expect(await tokenStore.findTokenByHash(liveToken.hash)).toEqual(liveToken);
        expect(await tokenStore.countLiveSessions(userUuid, NOW)).toBe(2);
      });

      it('reports the last expiry deleted, and resumes from a given expiry', async () => {
        const sessions = Array.from({ length: 5 }, () => sessionData(tenant.uuid, null));
        // Expired at NOW-5h … NOW-1h.
        const tokens = sessions.map((s, i) => tokenData(s, { expiresAt: NOW - (5 - i) * HOUR }));
        for (const s of sessions) await tokenStore.createSession(s);
        for (const t of tokens) await tokenStore.insertToken(t);

        const first = await tokenStore.deleteExpired(NOW, 2);
        expect(first.tokenHashes.sort()).toEqual([tokens[0].hash, tokens[1].hash].sort());
        expect(first.lastExpiresAt).toBe(NOW - 4 * HOUR);
        // From NOW-2h: the token of NOW-3h is left for a later pass.
        const resumed = await tokenStore.deleteExpired(NOW, 10, NOW - 2 * HOUR);
        expect(resumed.tokenHashes.sort()).toEqual([tokens[3].hash, tokens[4].hash].sort());
        expect(resumed.lastExpiresAt).toBe(NOW - HOUR);
        expect(await tokenStore.findTokenByHash(tokens[2].hash)).toEqual(tokens[2]);
        // A pass starts from the lowest expiry.
        expect((await tokenStore.deleteExpired(NOW, 10)).tokenHashes).toEqual([tokens[2].hash]);
        const none = await tokenStore.deleteExpired(NOW, 10);
        expect(none.tokenHashes).toEqual([]);
        expect(none.lastExpiresAt).toBeUndefined();
      });

      it('does nothing with a limit of 0', async () => {
        const s = sessionData(tenant.uuid, null);
        await tokenStore.createSession(s);
        const t = tokenData(s, { expiresAt: NOW - HOUR });
        await tokenStore.insertToken(t);
        expect(await tokenStore.deleteExpired(NOW, 0)).toEqual({ tokenHashes: [], sessions: [] });
        expect(await tokenStore.findTokenByHash(t.hash)).toEqual(t);
      });

      it('handles a batch larger than one IN list', async () => {
        const sessions = Array.from({ length: 1200 }, () => sessionData(tenant.uuid, null));
        await store.transaction(async (tx) => {
          for (const s of sessions) {
            await tx.createSession(s);
            await tx.insertToken(tokenData(s, { expiresAt: NOW - HOUR }));
          }
        });
        const removal = await tokenStore.deleteExpired(NOW, 1100);
        expect(removal.tokenHashes).toHaveLength(1100);
        expect(removal.sessions).toHaveLength(1100);
        expect((await tokenStore.deleteExpired(NOW, 1100)).sessions).toHaveLength(100);
      });
    });
  });

  describe('refresh tokens', () => {
    let user: Awaited<ReturnType<Store['createUser']>>;
    beforeEach(async () => {
      user = await store.createUser(userData(tenant.uuid));
    });

    it('replaces the token of a (user, client_id), returning the old one', async () => {
      const first = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'phone', mobile: true });
      expect(await tokenStore.replaceRefreshToken(first)).toBeNull();
      expect(await tokenStore.findRefreshTokenByHash(first.hash)).toEqual(first);

      const second = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'phone', createdAt: NOW + 1 });
      expect(await tokenStore.replaceRefreshToken(second)).toEqual(first);
      expect(await tokenStore.findRefreshTokenByHash(first.hash)).toBeNull();
      expect(await tokenStore.findRefreshTokenByHash(second.hash)).toEqual(second);
      expect(await tokenStore.findRefreshTokenByHash('f'.repeat(64))).toBeNull();
    });

    it('refuses a duplicate hash, and a user that does not exist', async () => {
      const first = refreshTokenData(user.uuid, tenant.uuid);
      await tokenStore.replaceRefreshToken(first);
      const dup = await rejection(tokenStore.replaceRefreshToken(refreshTokenData(user.uuid, tenant.uuid, { hash: first.hash })));
      expect(dup).toBeInstanceOf(StoreConflictError);
      expect((dup as StoreConflictError).field).toBe('hash');
      // The failed replace left the first token in place.
      expect(await tokenStore.findRefreshTokenByHash(first.hash)).toEqual(first);
      await expect(tokenStore.replaceRefreshToken(refreshTokenData(randomUUID(), tenant.uuid))).rejects.toBeInstanceOf(
        StoreConflictError,
      );
    });

    it('deletes by (user, client_id)', async () => {
      const rt = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'web' });
      await tokenStore.replaceRefreshToken(rt);
      expect(await tokenStore.deleteRefreshToken(user.uuid, 'other')).toBeNull();
      expect(await tokenStore.deleteRefreshToken(user.uuid, 'web')).toEqual(rt);
      expect(await tokenStore.deleteRefreshToken(user.uuid, 'web')).toBeNull();
      expect(await tokenStore.findRefreshTokenByHash(rt.hash)).toBeNull();
    });

    it('lists with filters, search, order and pages', async () => {
      const sub = await store.createTenant(tenantData({ parentUuid: tenant.uuid }));
      const subUser = await store.createUser(userData(sub.uuid));
      const mine = [
        refreshTokenData(user.uuid, tenant.uuid, { clientId: 'Beta', createdAt: NOW + 3, mobile: false }),
        refreshTokenData(user.uuid, tenant.uuid, { clientId: 'alpha_1', createdAt: NOW + 1, mobile: true }),
        refreshTokenData(user.uuid, tenant.uuid, { clientId: 'alphax', createdAt: NOW + 2, mobile: false }),
      ];
      const theirs = refreshTokenData(subUser.uuid, sub.uuid, { clientId: 'gamma', createdAt: NOW });
      for (const rt of [...mine, theirs]) await tokenStore.replaceRefreshToken(rt);
      const ids = (r: { items: RefreshToken[] }) => r.items.map((t) => t.clientId);

      const byUser = await tokenStore.listRefreshTokens({ userUuid: user.uuid });
      expect(byUser).toMatchObject({ total: 3, filtered: 3 });
      expect(ids(byUser)).toEqual(['alpha_1', 'alphax', 'Beta']);
      expect(byUser.items[0]).toEqual(mine[1]);

      expect(ids(await tokenStore.listRefreshTokens({}))).toEqual(['gamma', 'alpha_1', 'alphax', 'Beta']);
      expect(ids(await tokenStore.listRefreshTokens({ tenantUuids: [sub.uuid] }))).toEqual(['gamma']);
      expect(ids(await tokenStore.listRefreshTokens({ tenantUuids: [tenant.uuid, sub.uuid] }))).toHaveLength(4);
      expect(await tokenStore.listRefreshTokens({ tenantUuids: [] })).toEqual({ total: 0, filtered: 0, items: [] });
      expect((await tokenStore.listRefreshTokens({ userUuid: user.uuid, tenantUuids: [sub.uuid] })).total).toBe(0);

      const search = await tokenStore.listRefreshTokens({ userUuid: user.uuid, search: 'A_' });
      expect(search).toMatchObject({ total: 3, filtered: 1 });
      expect(ids(search)).toEqual(['alpha_1']);
      expect(ids(await tokenStore.listRefreshTokens({ userUuid: user.uuid, search: 'ALPHA' }))).toEqual(['alpha_1', 'alphax']);

      expect(ids(await tokenStore.listRefreshTokens({ userUuid: user.uuid, order: 'client_id' }))).toEqual([
        'alpha_1',
        'alphax',
        'Beta',
      ]);
      expect(ids(await tokenStore.listRefreshTokens({ userUuid: user.uuid, order: 'client_id', direction: 'desc' }))).toEqual([
        'Beta',
        'alphax',
        'alpha_1',
      ]);
      expect(ids(await tokenStore.listRefreshTokens({ userUuid: user.uuid, order: 'mobile', direction: 'desc' }))[0]).toBe(
        'alpha_1',
      );
      expect(ids(await tokenStore.listRefreshTokens({ userUuid: user.uuid, order: 'created_at', direction: 'desc' }))).toEqual([
        'Beta',
        'alphax',
        'alpha_1',
      ]);
      expect(ids(await tokenStore.listRefreshTokens({ userUuid: user.uuid, order: 'bogus' }))).toEqual([
        'alpha_1',
        'alphax',
        'Beta',
      ]);
      expect(ids(await tokenStore.listRefreshTokens({ userUuid: user.uuid, limit: 1, offset: 1 }))).toEqual(['alphax']);
      expect(ids(await tokenStore.listRefreshTokens({ userUuid: user.uuid, offset: 2 }))).toEqual(['Beta']);

      // Exact filters narrow `filtered`, not `total`.
      expect(await tokenStore.listRefreshTokens({ userUuid: user.uuid, clientId: 'alphax' })).toMatchObject({
        total: 3,
        filtered: 1,
        items: [mine[2]],
      });
      expect((await tokenStore.listRefreshTokens({ userUuid: user.uuid, clientId: 'alpha' })).filtered).toBe(0);
      expect(ids(await tokenStore.listRefreshTokens({ userUuid: user.uuid, mobile: true }))).toEqual(['alpha_1']);
      expect(await tokenStore.listRefreshTokens({ userUuid: user.uuid, mobile: false })).toMatchObject({ total: 3, filtered: 2 });
      expect(ids(await tokenStore.listRefreshTokens({ userUuid: user.uuid, mobile: false, search: 'ALPHA' }))).toEqual([
        'alphax',
      ]);
    });

    it("deleteMobileRefreshTokens removes the user's mobile refresh tokens, their tokens and emptied sessions, only those", async () => {
      const other = await store.createUser(userData(tenant.uuid));
      const phone = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'phone', mobile: true });
      const tablet = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'tablet', mobile: true });
      const desktop = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'desktop' });
      const othersPhone = refreshTokenData(other.uuid, tenant.uuid, { clientId: 'phone', mobile: true });
      for (const rt of [phone, tablet, desktop, othersPhone]) await tokenStore.replaceRefreshToken(rt);
      const issued = async (userUuid: string, rt: RefreshToken | null) => {
        const s = sessionData(tenant.uuid, userUuid, { mobile: rt?.mobile ?? false });
        await tokenStore.createSession(s);
        const tok = tokenData(s, { refreshTokenUuid: rt?.uuid ?? null });
        await tokenStore.insertToken(tok);
        return { session: s, token: tok };
      };
      const fromPhone = [await issued(user.uuid, phone), await issued(user.uuid, phone)];
      const fromTablet = await issued(user.uuid, tablet);
      const kept = [await issued(user.uuid, desktop), await issued(user.uuid, null), await issued(other.uuid, othersPhone)];

      const removal = await tokenStore.deleteMobileRefreshTokens(user.uuid);
      expect(removal.refreshTokens.map((rt) => rt.clientId).sort()).toEqual(['phone', 'tablet']);
      const gone = [...fromPhone, fromTablet];
      expect([...removal.tokenHashes].sort()).toEqual(gone.map((g) => g.token.hash).sort());
      expect(removal.sessions.map((s) => s.uuid).sort()).toEqual(gone.map((g) => g.session.uuid).sort());
      for (const g of gone) expect(await tokenStore.findTokenByHash(g.token.hash)).toBeNull();
      for (const k of kept) expect(await tokenStore.findTokenByHash(k.token.hash)).not.toBeNull();
      expect(await tokenStore.findRefreshTokenByHash(phone.hash)).toBeNull();
      expect(await tokenStore.findRefreshTokenByHash(desktop.hash)).toEqual(desktop);
      expect(await tokenStore.findRefreshTokenByHash(othersPhone.hash)).toEqual(othersPhone);
      expect(await tokenStore.deleteMobileRefreshTokens(user.uuid)).toEqual({ tokenHashes: [], sessions: [], refreshTokens: [] });
    });

    describe('lifecycle (issue 19, migration 12)', () => {
      const newHash = () => randomBytes(32).toString('hex');

      it("useRefreshToken records the last use, only while the hash presented is the token's", async () => {
        const rt = refreshTokenData(user.uuid, tenant.uuid);
        await tokenStore.replaceRefreshToken(rt);
        expect(await tokenStore.useRefreshToken({ uuid: rt.uuid, hash: rt.hash, at: NOW + HOUR })).toBe(true);
        expect(await tokenStore.findRefreshTokenByHash(rt.hash)).toEqual({ ...rt, lastUsedAt: NOW + HOUR });
        // Another hash, or another uuid: nothing changes.
        expect(await tokenStore.useRefreshToken({ uuid: rt.uuid, hash: newHash(), at: NOW + 2 * HOUR })).toBe(false);
        expect(await tokenStore.useRefreshToken({ uuid: randomUUID(), hash: rt.hash, at: NOW + 2 * HOUR })).toBe(false);
        expect((await tokenStore.findRefreshTokenByHash(rt.hash))?.lastUsedAt).toBe(NOW + HOUR);
        expect(await tokenStore.findRetiredRefreshToken(rt.hash)).toBeNull();
      });

      it('rotation gives the token a new hash (same uuid, created_at) and retires the old one; the old hash no longer rotates', async () => {
        const rt = refreshTokenData(user.uuid, tenant.uuid);
        await tokenStore.replaceRefreshToken(rt);
        const next = newHash();
        expect(
          await tokenStore.useRefreshToken({
            uuid: rt.uuid,
            hash: rt.hash,
            at: NOW + HOUR,
            rotateTo: { hash: next, keepRetired: 10 },
          }),
        ).toBe(true);
        expect(await tokenStore.findRefreshTokenByHash(rt.hash)).toBeNull();
        expect(await tokenStore.findRefreshTokenByHash(next)).toEqual({ ...rt, hash: next, lastUsedAt: NOW + HOUR });
        expect(await tokenStore.findRetiredRefreshToken(rt.hash)).toEqual({
          hash: rt.hash,
          familyUuid: rt.uuid,
          retiredAt: NOW + HOUR,
        });
        expect(await tokenStore.findRetiredRefreshToken(next)).toBeNull();
        expect(
          await tokenStore.useRefreshToken({
            uuid: rt.uuid,
            hash: rt.hash,
            at: NOW + 2 * HOUR,
            rotateTo: { hash: newHash(), keepRetired: 10 },
          }),
        ).toBe(false);
        expect(await tokenStore.findRefreshTokenByHash(next)).not.toBeNull();
        // Listed as before: one refresh token of (user, client_id).
        expect((await tokenStore.listRefreshTokens({ userUuid: user.uuid })).items).toEqual([
          { ...rt, hash: next, lastUsedAt: NOW + HOUR },
        ]);
      });

      it('of two concurrent rotations of one token, exactly one applies', async () => {
        const rt = refreshTokenData(user.uuid, tenant.uuid);
        await tokenStore.replaceRefreshToken(rt);
        const [a, b] = [newHash(), newHash()];
        const rotate = (to: string) =>
          store.transaction((tx) =>
            tx.useRefreshToken({ uuid: rt.uuid, hash: rt.hash, at: NOW + 1, rotateTo: { hash: to, keepRetired: 10 } }),
          );
        const results = await Promise.all([rotate(a), rotate(b)]);
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results[0] ? a : b;
        expect((await tokenStore.findRefreshTokenByHash(winner))?.uuid).toBe(rt.uuid);
        expect(await tokenStore.findRefreshTokenByHash(winner === a ? b : a)).toBeNull();
        expect(await opened.query(`select hash from refresh_token_retired where family_uuid = '${rt.uuid}'`)).toEqual([
          { hash: rt.hash },
        ]);
      });

      it('keeps the newest `keepRetired` retired hashes of a family', async () => {
        const rt = refreshTokenData(user.uuid, tenant.uuid);
        await tokenStore.replaceRefreshToken(rt);
        const hashes = [rt.hash];
        for (let i = 1; i <= 5; i++) {
          hashes.push(newHash());
          expect(
            await tokenStore.useRefreshToken({
              uuid: rt.uuid,
              hash: hashes[i - 1],
              at: NOW + i,
              rotateTo: { hash: hashes[i], keepRetired: 3 },
            }),
          ).toBe(true);
        }
        for (const h of hashes.slice(0, 2)) expect(await tokenStore.findRetiredRefreshToken(h)).toBeNull();
        for (const [i, h] of hashes.slice(2, 5).entries()) {
          expect(await tokenStore.findRetiredRefreshToken(h)).toEqual({ hash: h, familyUuid: rt.uuid, retiredAt: NOW + i + 3 });
        }
      });

      it('retired hashes go with their family, whatever deletes it', async () => {
        const rotated = async (clientId: string) => {
          const rt = refreshTokenData(user.uuid, tenant.uuid, { clientId });
          await tokenStore.replaceRefreshToken(rt);
          await tokenStore.useRefreshToken({
            uuid: rt.uuid,
            hash: rt.hash,
            at: NOW + 1,
            rotateTo: { hash: newHash(), keepRetired: 10 },
          });
          expect(await tokenStore.findRetiredRefreshToken(rt.hash)).not.toBeNull();
          return rt;
        };
        const deleted = await rotated('deleted');
        await tokenStore.deleteRefreshToken(user.uuid, 'deleted');
        expect(await tokenStore.findRetiredRefreshToken(deleted.hash)).toBeNull();
        const replaced = await rotated('replaced');
        await tokenStore.replaceRefreshToken(refreshTokenData(user.uuid, tenant.uuid, { clientId: 'replaced' }));
        expect(await tokenStore.findRetiredRefreshToken(replaced.hash)).toBeNull();
        const ofUser = await rotated('user');
        await store.deleteUser(user.uuid);
        expect(await tokenStore.findRetiredRefreshToken(ofUser.hash)).toBeNull();
      });

      it('revokeRefreshTokenFamily deletes the refresh token, its retired hashes, every token issued from it and the sessions left empty, only those', async () => {
        const family = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'phone' });
        const other = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'desktop' });
        for (const rt of [family, other]) await tokenStore.replaceRefreshToken(rt);
        const next = newHash();
        await tokenStore.useRefreshToken({
          uuid: family.uuid,
          hash: family.hash,
          at: NOW + 1,
          rotateTo: { hash: next, keepRetired: 10 },
        });
        const issued = async (rt: RefreshToken | null) => {
          const s = sessionData(tenant.uuid, user.uuid);
          await tokenStore.createSession(s);
          const tok = tokenData(s, { refreshTokenUuid: rt?.uuid ?? null });
          await tokenStore.insertToken(tok);
          return { session: s, token: tok };
        };
        // Before and after the rotation: all name the family's uuid.
        const fromFamily = [await issued(family), await issued(family)];
        const kept = [await issued(other), await issued(null)];

        const removal = await tokenStore.revokeRefreshTokenFamily(family.uuid);
        expect(removal.refreshTokens).toEqual([{ ...family, hash: next, lastUsedAt: NOW + 1 }]);
        expect([...removal.tokenHashes].sort()).toEqual(fromFamily.map((g) => g.token.hash).sort());
        expect(removal.sessions.map((x) => x.uuid).sort()).toEqual(fromFamily.map((g) => g.session.uuid).sort());
        expect(await tokenStore.findRefreshTokenByHash(next)).toBeNull();
        expect(await tokenStore.findRetiredRefreshToken(family.hash)).toBeNull();
        for (const g of fromFamily) expect(await tokenStore.findTokenByHash(g.token.hash)).toBeNull();
        for (const k of kept) expect(await tokenStore.findTokenByHash(k.token.hash)).not.toBeNull();
        expect(await tokenStore.findRefreshTokenByHash(other.hash)).toEqual(other);
        expect(await tokenStore.revokeRefreshTokenFamily(family.uuid)).toEqual({
          tokenHashes: [],
          sessions: [],
          refreshTokens: [],
        });
      });

      it('deleteExpiredRefreshTokens deletes those idle or too old, at most `limit`, leaving their access tokens', async () => {
        const day = 24 * HOUR;
        const idle = refreshTokenData(user.uuid, tenant.uuid, {
          clientId: 'idle',
          createdAt: NOW - 10 * day,
          lastUsedAt: NOW - 5 * day,
        });
        const old = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'old', createdAt: NOW - 100 * day, lastUsedAt: NOW });
        const fresh = refreshTokenData(user.uuid, tenant.uuid, {
          clientId: 'fresh',
          createdAt: NOW - 10 * day,
          lastUsedAt: NOW - day,
        });
        for (const rt of [idle, old, fresh]) await tokenStore.replaceRefreshToken(rt);
        const s = sessionData(tenant.uuid, user.uuid);
        await tokenStore.createSession(s);
        const fromIdle = tokenData(s, { refreshTokenUuid: idle.uuid });
        await tokenStore.insertToken(fromIdle);

        const expiry = { lastUsedBefore: NOW - 3 * day, createdBefore: NOW - 50 * day };
        expect(await tokenStore.deleteExpiredRefreshTokens({ lastUsedBefore: null, createdBefore: null }, 10)).toEqual([]);
        expect(await tokenStore.deleteExpiredRefreshTokens(expiry, 0)).toEqual([]);
        const first = await tokenStore.deleteExpiredRefreshTokens(expiry, 1);
        const second = await tokenStore.deleteExpiredRefreshTokens(expiry, 2);
        expect(first).toHaveLength(1);
        expect(second).toHaveLength(1);
        expect([...first, ...second].map((rt) => rt.clientId).sort()).toEqual(['idle', 'old']);
        expect(await tokenStore.deleteExpiredRefreshTokens(expiry, 2)).toEqual([]);
        expect(await tokenStore.findRefreshTokenByHash(fresh.hash)).toEqual(fresh);
        expect(await tokenStore.findTokenByHash(fromIdle.hash)).toEqual(fromIdle);
        // Each limit alone.
        expect(
          (await tokenStore.deleteExpiredRefreshTokens({ lastUsedBefore: null, createdBefore: NOW - 5 * day }, 10)).map(
            (rt) => rt.clientId,
          ),
        ).toEqual(['fresh']);
      });
    });
  });
});
