// The contract of IdentityStoreTx (src/identity/store.ts): tenants, users,
// groups and policies, as the identity domain reaches them. Run against both
// engines (./fixtures.ts defineContract), each test on a fresh database; the
// verbs under test are called through that interface (`identity`), the full
// Store serving for setup and for the verbs of other domains.

import { randomBytes, randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { IdentityStoreTx } from '../../src/identity/store.js';
import { StoreConflictError, StoreInvalidInputError } from '../../src/store/errors.js';
import type { Group, NewUser, Store, Tenant } from '../../src/store/types.js';
import {
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

defineContract('Identity store contract', (ctx) => {
  const { open } = ctx;
  let store: Store;
  let identity: IdentityStoreTx;
  let tenant: Tenant;

  beforeEach(() => {
    ({ store, tenant } = ctx);
    identity = store;
  });

  describe('tenants', () => {
    it('creates, reads and finds the top tenant', async () => {
      const child = await identity.createTenant(tenantData({ name: 'child', slug: 'child', parentUuid: tenant.uuid }));
      expect(await identity.getTenant(child.uuid)).toEqual(child);
      expect(await identity.getTenant(tenant.uuid)).toEqual(tenant);
      expect(await identity.getTopTenant()).toEqual(tenant);
      expect(await identity.getTenant(randomUUID())).toBeNull();
    });

    it('has no top tenant before the first one is created', async () => {
      const fresh = await open();
      try {
        await fresh.store.migrate();
        expect(await fresh.store.getTopTenant()).toBeNull();
      } finally {
        await fresh.store.close();
        await fresh.cleanup();
      }
    });

    it('refuses a duplicate uuid or slug, and an unknown parent', async () => {
      const dupUuid = await rejection(identity.createTenant(tenantData({ uuid: tenant.uuid })));
      expect(dupUuid).toBeInstanceOf(StoreConflictError);
      expect((dupUuid as StoreConflictError).field).toBe('uuid');
      const dupSlug = await rejection(identity.createTenant(tenantData({ slug: 'master' })));
      expect((dupSlug as StoreConflictError).field).toBe('slug');
      const orphan = await rejection(identity.createTenant(tenantData({ parentUuid: randomUUID() })));
      expect(orphan).toBeInstanceOf(StoreConflictError);
    });
  });

  describe('users', () => {
    it('creates and reads a user with every field', async () => {
      const created = await identity.createUser(
        userData(tenant.uuid, {
          firstname: 'Émile ✓',
          emailConfirmed: false,
          purpose: 'external_api',
          enabled: false,
          createdAt: NOW + 123,
        }),
      );
      const read = await identity.getUser(created.uuid);
      expect(read).toEqual(created);
      expect(read?.emailConfirmed).toBe(false);
      expect(read?.enabled).toBe(false);
      expect(typeof read?.createdAt).toBe('number');
      expect(await identity.getUser(randomUUID())).toBeNull();
    });

    it('allows many users without username, email or password', async () => {
      const a = await identity.createUser(userData(tenant.uuid, { username: null, emailAddress: null, passwordHash: null }));
      const b = await identity.createUser(userData(tenant.uuid, { username: null, emailAddress: null, passwordHash: null }));
      expect(await identity.getUser(a.uuid)).toEqual(a);
      expect(await identity.getUser(b.uuid)).toEqual(b);
    });

    it('refuses a username taken in any case', async () => {
      await identity.createUser(userData(tenant.uuid, { username: 'Alice' }));
      const err = await rejection(identity.createUser(userData(tenant.uuid, { username: 'aLICE' })));
      expect(err).toBeInstanceOf(StoreConflictError);
      expect((err as StoreConflictError).field).toBe('username');
    });

    it('refuses an email address taken in any case', async () => {
      await identity.createUser(userData(tenant.uuid, { emailAddress: 'Alice@Example.com' }));
      const err = await rejection(identity.createUser(userData(tenant.uuid, { emailAddress: 'alice@EXAMPLE.COM' })));
      expect(err).toBeInstanceOf(StoreConflictError);
      expect((err as StoreConflictError).field).toBe('email_address');
    });

    it('refuses a duplicate uuid and an unknown tenant', async () => {
      const user = await identity.createUser(userData(tenant.uuid));
      const dup = await rejection(identity.createUser(userData(tenant.uuid, { uuid: user.uuid })));
      expect(dup).toBeInstanceOf(StoreConflictError);
      expect((dup as StoreConflictError).field).toBe('uuid');
      const orphan = await rejection(identity.createUser(userData(randomUUID())));
      expect(orphan).toBeInstanceOf(StoreConflictError);
    });

    describe('findUserByLogin', () => {
      it('matches the username in any case', async () => {
        const user = await identity.createUser(userData(tenant.uuid, { username: 'Alice' }));
        expect(await identity.findUserByLogin('alice')).toEqual(user);
        expect(await identity.findUserByLogin('ALICE')).toEqual(user);
        expect(await identity.findUserByLogin('Alice')).toEqual(user);
      });

      it('matches a confirmed email address in any case', async () => {
        const user = await identity.createUser(userData(tenant.uuid, { emailAddress: 'Bob@Example.com', emailConfirmed: true }));
        expect(await identity.findUserByLogin('bob@example.com')).toEqual(user);
        expect(await identity.findUserByLogin('BOB@EXAMPLE.COM')).toEqual(user);
      });

      it('ignores an unconfirmed email address', async () => {
        await identity.createUser(userData(tenant.uuid, { emailAddress: 'carol@example.com', emailConfirmed: false }));
        expect(await identity.findUserByLogin('carol@example.com')).toBeNull();
      });

      it('answers null for an unknown login, and does not treat LIKE wildcards as such', async () => {
        await identity.createUser(userData(tenant.uuid, { username: 'dave' }));
        expect(await identity.findUserByLogin('nobody')).toBeNull();
        expect(await identity.findUserByLogin('d%')).toBeNull();
        expect(await identity.findUserByLogin('dav_')).toBeNull();
      });

      it("refuses a username equal to another user's email address, and the reverse (issue 16)", async () => {
        const byEmail = await identity.createUser(userData(tenant.uuid, { username: 'x1', emailAddress: 'same@example.com' }));
        const other = await identity.createTenant(tenantData({ parentUuid: tenant.uuid }));
        const byName = await rejection(
          identity.createUser(userData(other.uuid, { username: 'Same@example.com', emailAddress: null })),
        );
        expect(byName).toBeInstanceOf(StoreConflictError);
        expect((byName as StoreConflictError).field).toBe('username');
        const named = await identity.createUser(userData(other.uuid, { username: 'Named@example.com', emailAddress: null }));
        const byMail = await rejection(identity.updateUser(byEmail.uuid, { emailAddress: 'named@EXAMPLE.com' }));
        expect((byMail as StoreConflictError).field).toBe('email_address');
        expect((await identity.findUserByLogin('same@example.com'))?.uuid).toBe(byEmail.uuid);
        expect((await identity.findUserByLogin('named@example.com'))?.uuid).toBe(named.uuid);
        expect((await identity.findUserByLogin('x1'))?.uuid).toBe(byEmail.uuid);
      });
    });

    describe('listUsers', () => {
      let other: Tenant;
      beforeEach(async () => {
        other = await identity.createTenant(tenantData({ parentUuid: tenant.uuid }));
        const rows: Partial<NewUser>[] = [
          {
            username: 'alice',
            firstname: 'Alice',
            lastname: 'Zeta',
            emailAddress: 'alice@example.com',
            purpose: 'user',
            enabled: true,
          },
          {
            username: 'Bob',
            firstname: 'Robert',
            lastname: 'Young',
            emailAddress: 'bob@example.org',
            purpose: 'internal',
            enabled: false,
          },
          {
            username: 'carol_100%',
            firstname: 'Carol',
            lastname: 'Xavier',
            emailAddress: null,
            purpose: 'external_api',
            enabled: true,
          },
          {
            username: 'dave',
            firstname: null,
            lastname: 'back\\slash',
            emailAddress: 'dave@example.com',
            purpose: 'user',
            enabled: true,
          },
          {
            username: 'carolyn',
            firstname: 'Carolyn',
            lastname: 'Wolf1',
            emailAddress: 'c@example.net',
            purpose: 'user',
            enabled: false,
          },
        ];
        for (const r of rows) await identity.createUser(userData(tenant.uuid, r));
        await identity.createUser(userData(other.uuid, { username: 'erin', firstname: 'Alice' }));
      });

      const names = (r: { items: { username: string | null }[] }) => r.items.map((u) => u.username);

      it('lists the users of the given tenants, by username by default', async () => {
        const r = await identity.listUsers([tenant.uuid], {});
        expect(r.total).toBe(5);
        expect(r.filtered).toBe(5);
        expect(names(r)).toEqual(['alice', 'Bob', 'carol_100%', 'carolyn', 'dave']);
        const both = await identity.listUsers([tenant.uuid, other.uuid], {});
        expect(both.total).toBe(6);
        expect(await identity.listUsers([], {})).toEqual({ total: 0, filtered: 0, items: [] });
        expect((await identity.listUsers([randomUUID()], {})).total).toBe(0);
      });

      it('searches username, names and email case-insensitively', async () => {
        const byFirst = await identity.listUsers([tenant.uuid], { search: 'ALICE' });
        expect(byFirst).toMatchObject({ total: 5, filtered: 1 });
        expect(names(byFirst)).toEqual(['alice']);
        expect(names(await identity.listUsers([tenant.uuid], { search: 'young' }))).toEqual(['Bob']);
        expect(names(await identity.listUsers([tenant.uuid], { search: 'EXAMPLE.ORG' }))).toEqual(['Bob']);
        expect(names(await identity.listUsers([tenant.uuid], { search: 'carol' }))).toEqual(['carol_100%', 'carolyn']);
        expect(await identity.listUsers([tenant.uuid], { search: 'nothing-like-it' })).toEqual({
          total: 5,
          filtered: 0,
          items: [],
        });
      });

      it('takes %, _ and \\ in the search literally', async () => {
        expect(names(await identity.listUsers([tenant.uuid], { search: '%' }))).toEqual(['carol_100%']);
        expect(names(await identity.listUsers([tenant.uuid], { search: '_' }))).toEqual(['carol_100%']);
        expect(names(await identity.listUsers([tenant.uuid], { search: 'l_1' }))).toEqual(['carol_100%']);
        expect(names(await identity.listUsers([tenant.uuid], { search: '\\' }))).toEqual(['dave']);
        expect(names(await identity.listUsers([tenant.uuid], { search: 'k\\s' }))).toEqual(['dave']);
      });

      it('orders by each listed column, both directions', async () => {
        expect(names(await identity.listUsers([tenant.uuid], { order: 'username', direction: 'desc' }))).toEqual([
          'dave',
          'carolyn',
          'carol_100%',
          'Bob',
          'alice',
        ]);
        expect(names(await identity.listUsers([tenant.uuid], { order: 'firstname' }))).toEqual([
          'alice',
          'carol_100%',
          'carolyn',
          'Bob',
          'dave',
        ]);
        expect(names(await identity.listUsers([tenant.uuid], { order: 'firstname', direction: 'desc' }))).toEqual([
          'dave',
          'Bob',
          'carolyn',
          'carol_100%',
          'alice',
        ]);
        expect(names(await identity.listUsers([tenant.uuid], { order: 'lastname' }))).toEqual([
          'dave',
          'carolyn',
          'carol_100%',
          'Bob',
          'alice',
        ]);
        expect(names(await identity.listUsers([tenant.uuid], { order: 'email_address' }))).toEqual([
          'alice',
          'Bob',
          'carolyn',
          'dave',
          'carol_100%',
        ]);
        expect(names(await identity.listUsers([tenant.uuid], { order: 'purpose' })).slice(0, 2)).toEqual(['carol_100%', 'Bob']);
        const byEnabled = await identity.listUsers([tenant.uuid], { order: 'enabled' });
        expect(byEnabled.items.map((u) => u.enabled)).toEqual([false, false, true, true, true]);
        const byUuid = await identity.listUsers([tenant.uuid], { order: 'uuid' });
        expect(byUuid.items.map((u) => u.uuid)).toEqual(byUuid.items.map((u) => u.uuid).sort());
      });

      it('falls back to username for an order it does not know', async () => {
        expect(names(await identity.listUsers([tenant.uuid], { order: 'password_hash; drop table users' }))).toEqual([
          'alice',
          'Bob',
          'carol_100%',
          'carolyn',
          'dave',
        ]);
      });

      it('pages with limit and offset, after filtering', async () => {
        expect(names(await identity.listUsers([tenant.uuid], { limit: 2 }))).toEqual(['alice', 'Bob']);
        expect(names(await identity.listUsers([tenant.uuid], { limit: 2, offset: 2 }))).toEqual(['carol_100%', 'carolyn']);
        expect(names(await identity.listUsers([tenant.uuid], { offset: 3 }))).toEqual(['carolyn', 'dave']);
        expect(names(await identity.listUsers([tenant.uuid], { limit: 2, offset: 10 }))).toEqual([]);
        const page = await identity.listUsers([tenant.uuid], { search: 'example.com', limit: 1, offset: 1 });
        expect(page.total).toBe(5);
        expect(page.filtered).toBe(2);
        expect(names(page)).toEqual(['dave']);
      });
    });

    describe('email addresses (issue 18)', () => {
      it('creates a user with its addresses and uuids as given, or its emailAddress as main; defaults the authentication method by purpose', async () => {
        const emails = [
          { uuid: randomUUID(), address: 'Second@Example.com', main: false, confirmed: false },
          { uuid: randomUUID(), address: 'first@example.com', main: true, confirmed: true },
        ];
        const user = await identity.createUser(userData(tenant.uuid, { emails, purpose: 'internal' }));
        expect(user.emails).toEqual([emails[1], emails[0]]);
        expect(user).toMatchObject({ emailAddress: 'first@example.com', emailConfirmed: true, authenticationMethod: 'native' });
        expect(await identity.getUser(user.uuid)).toEqual(user);
        const plain = await identity.createUser(
          userData(tenant.uuid, { emailAddress: 'plain@example.com', emailConfirmed: false }),
        );
        expect(plain.emails).toEqual([{ uuid: expect.any(String), address: 'plain@example.com', main: true, confirmed: false }]);
        expect(plain.authenticationMethod).toBe('default');
        const explicit = await identity.createUser(userData(tenant.uuid, { authenticationMethod: 'native' }));
        expect((await identity.getUser(explicit.uuid))?.authenticationMethod).toBe('native');
        const twoMains = await rejection(
          identity.createUser(userData(tenant.uuid, { emails: emails.map((e) => ({ ...e, uuid: randomUUID(), main: true })) })),
        );
        expect(twoMains).toBeInstanceOf(StoreInvalidInputError);
      });

      it('logs in by any confirmed address, not by an unconfirmed one', async () => {
        const user = await identity.createUser(userData(tenant.uuid, { username: 'several' }));
        await identity.replaceUserEmails(user.uuid, [
          { address: 'main@several.example', main: true, confirmed: false },
          { address: 'Other@Several.example', main: false, confirmed: true },
        ]);
        expect(await identity.findUserByLogin('main@several.example')).toBeNull();
        expect((await identity.findUserByLogin('other@several.EXAMPLE'))?.uuid).toBe(user.uuid);
        expect((await identity.findUserByLogin('several'))?.emails.map((e) => e.address)).toEqual([
          'main@several.example',
          'Other@Several.example',
        ]);
      });

      it('replaces the addresses: kept ones keep uuid (and flag when null), one main, unique across users', async () => {
        const user = await identity.createUser(userData(tenant.uuid, { emailAddress: 'keep@example.com', emailConfirmed: true }));
        const kept = user.emails[0];
        const replaced = await identity.replaceUserEmails(user.uuid, [
          { address: 'new@example.com', main: true, confirmed: null },
          { address: 'KEEP@example.com', main: false, confirmed: null },
        ]);
        expect(replaced).toEqual([
          { uuid: expect.any(String), address: 'new@example.com', main: true, confirmed: false },
          { uuid: kept.uuid, address: 'KEEP@example.com', main: false, confirmed: true },
        ]);
        expect((await identity.getUser(user.uuid))?.emails).toEqual(replaced);
        expect(await identity.replaceUserEmails(randomUUID(), [])).toBeNull();

        const other = await identity.createUser(userData(tenant.uuid));
        const taken = await rejection(
          identity.replaceUserEmails(other.uuid, [{ address: 'keep@EXAMPLE.com', main: true, confirmed: true }]),
        );
        expect((taken as StoreConflictError).field).toBe('email_address');
        const named = await rejection(
          identity.replaceUserEmails(other.uuid, [{ address: user.username!.toUpperCase(), main: true, confirmed: true }]),
        );
        expect((named as StoreConflictError).field).toBe('email_address');
        const noMain = await rejection(
          identity.replaceUserEmails(other.uuid, [{ address: 'x@example.com', main: false, confirmed: true }]),
        );
        expect(noMain).toBeInstanceOf(StoreInvalidInputError);
        expect((await identity.getUser(other.uuid))?.emails).toEqual(other.emails);

        expect(await identity.replaceUserEmails(user.uuid, [])).toEqual([]);
        expect((await identity.getUser(user.uuid))?.emailAddress).toBeNull();
        // Deleting a user frees its addresses.
        await identity.replaceUserEmails(user.uuid, [{ address: 'freed@example.com', main: true, confirmed: true }]);
        await identity.deleteUser(user.uuid);
        expect(
          await identity.replaceUserEmails(other.uuid, [{ address: 'freed@example.com', main: true, confirmed: true }]),
        ).toHaveLength(1);
      });

      it('updateUser: emailAddress replaces the main address, promoting one the user has; null promotes the next', async () => {
        const user = await identity.createUser(userData(tenant.uuid, { emailAddress: 'a@promote.example' }));
        await identity.replaceUserEmails(user.uuid, [
          { address: 'a@promote.example', main: true, confirmed: null },
          { address: 'b@promote.example', main: false, confirmed: false },
          { address: 'c@promote.example', main: false, confirmed: true },
        ]);
        const b = (await identity.getUser(user.uuid))!.emails.find((e) => e.address === 'b@promote.example')!;
        const promoted = await identity.updateUser(user.uuid, { emailAddress: 'B@promote.example' });
        expect(promoted?.emails.map((e) => [e.address, e.main, e.confirmed])).toEqual([
          ['B@promote.example', true, false],
          ['c@promote.example', false, true],
        ]);
        expect(promoted?.emails[0].uuid).toBe(b.uuid);
        const confirmed = await identity.updateUser(user.uuid, { emailConfirmed: true });
        expect(confirmed?.emailConfirmed).toBe(true);
        const next = await identity.updateUser(user.uuid, { emailAddress: null });
        expect(next?.emails.map((e) => [e.address, e.main])).toEqual([['c@promote.example', true]]);
        expect(await identity.getUser(user.uuid)).toEqual(next);
      });
    });

    describe('updateUser and setUserPassword', () => {
      it('changes only the given fields', async () => {
        const user = await identity.createUser(userData(tenant.uuid));
        const updated = await identity.updateUser(user.uuid, {
          firstname: 'New',
          lastname: null,
          enabled: false,
          emailConfirmed: false,
          purpose: 'internal',
        });
        expect(updated).toEqual({
          ...user,
          firstname: 'New',
          lastname: null,
          enabled: false,
          emailConfirmed: false,
          purpose: 'internal',
          emails: [{ ...user.emails[0], confirmed: false }],
        });
        expect(await identity.getUser(user.uuid)).toEqual(updated);
        expect(await identity.updateUser(user.uuid, {})).toEqual(updated);
      });

      it('answers null for an unknown user', async () => {
        expect(await identity.updateUser(randomUUID(), { firstname: 'x' })).toBeNull();
        expect(await identity.updateUser(randomUUID(), {})).toBeNull();
      });

      it('refuses a username or email taken by another user, in any case', async () => {
        await identity.createUser(userData(tenant.uuid, { username: 'taken', emailAddress: 'taken@example.com' }));
        const user = await identity.createUser(userData(tenant.uuid));
        const byName = await rejection(identity.updateUser(user.uuid, { username: 'TAKEN' }));
        expect(byName).toBeInstanceOf(StoreConflictError);
        expect((byName as StoreConflictError).field).toBe('username');
        const byEmail = await rejection(identity.updateUser(user.uuid, { emailAddress: 'Taken@Example.com' }));
        expect((byEmail as StoreConflictError).field).toBe('email_address');
        // Changing the case of one's own username is no conflict.
        const renamed = await identity.updateUser(user.uuid, { username: user.username!.toUpperCase() });
        expect(renamed?.username).toBe(user.username!.toUpperCase());
      });

      it('sets and clears the password hash', async () => {
        const user = await identity.createUser(userData(tenant.uuid));
        expect(await identity.setUserPassword(user.uuid, '$argon2id$new')).toBe(true);
        expect((await identity.getUser(user.uuid))?.passwordHash).toBe('$argon2id$new');
        expect(await identity.setUserPassword(user.uuid, null)).toBe(true);
        expect((await identity.getUser(user.uuid))?.passwordHash).toBeNull();
        expect(await identity.setUserPassword(randomUUID(), 'x')).toBe(false);
      });
    });

    describe('deleteUser', () => {
      it('removes the user with its sessions, tokens, refresh tokens and policy links', async () => {
        const user = await identity.createUser(userData(tenant.uuid));
        const keep = await identity.createUser(userData(tenant.uuid));
        const policy = await identity.upsertPolicy(policyData(tenant.uuid));
        await identity.addUserPolicy(user.uuid, policy.uuid);
        await identity.addUserPolicy(keep.uuid, policy.uuid);
        const s1 = sessionData(tenant.uuid, user.uuid);
        const s2 = sessionData(tenant.uuid, user.uuid, { mobile: true });
        const sKeep = sessionData(tenant.uuid, keep.uuid);
        for (const s of [s1, s2, sKeep]) await store.createSession(s);
        const t1 = tokenData(s1);
        const t2 = tokenData(s1);
        const t3 = tokenData(s2);
        const tKeep = tokenData(sKeep);
        for (const t of [t1, t2, t3, tKeep]) await store.insertToken(t);
        const rt = refreshTokenData(user.uuid, tenant.uuid);
        const rtKeep = refreshTokenData(keep.uuid, tenant.uuid);
        await store.replaceRefreshToken(rt);
        await store.replaceRefreshToken(rtKeep);

        const removal = await identity.deleteUser(user.uuid);
        expect(removal?.tokenHashes.sort()).toEqual([t1.hash, t2.hash, t3.hash].sort());
        expect(removal?.sessions.sort((a, b) => a.uuid.localeCompare(b.uuid))).toEqual(
          [s1, s2].sort((a, b) => a.uuid.localeCompare(b.uuid)),
        );
        expect(await identity.getUser(user.uuid)).toBeNull();
        for (const t of [t1, t2, t3]) expect(await store.findTokenByHash(t.hash)).toBeNull();
        expect(await store.findRefreshTokenByHash(rt.hash)).toBeNull();
        expect(await identity.listUserPolicies(user.uuid)).toEqual([]);

        expect(await identity.getUser(keep.uuid)).toEqual(keep);
        expect(await store.findTokenByHash(tKeep.hash)).toEqual(tKeep);
        expect(await store.findRefreshTokenByHash(rtKeep.hash)).toEqual(rtKeep);
        expect(await identity.listUserPolicies(keep.uuid)).toEqual([policy]);
        expect(await identity.getPolicyBySlug(tenant.uuid, policy.slug)).toEqual(policy);
      });

      it('answers null for an unknown user', async () => {
        expect(await identity.deleteUser(randomUUID())).toBeNull();
      });

      it('answers an empty removal for a user without sessions', async () => {
        const user = await identity.createUser(userData(tenant.uuid));
        expect(await identity.deleteUser(user.uuid)).toEqual({ tokenHashes: [], sessions: [] });
      });
    });
  });

  describe('policies', () => {
    it('inserts, then updates by (tenant, slug) keeping the uuid and the user links', async () => {
      const user = await identity.createUser(userData(tenant.uuid));
      const first = await identity.upsertPolicy(
        policyData(tenant.uuid, {
          slug: 'admin',
          name: 'Admin',
          description: 'all',
          acl: ['auth.#'],
          shared: true,
        }),
      );
      expect(await identity.getPolicyBySlug(tenant.uuid, 'admin')).toEqual(first);
      await identity.addUserPolicy(user.uuid, first.uuid);

      const second = await identity.upsertPolicy(
        policyData(tenant.uuid, {
          uuid: randomUUID(),
          slug: 'admin',
          name: 'Administrator',
          description: null,
          acl: ['auth.#', '!auth.users.*.delete'],
          shared: false,
          readOnly: true,
        }),
      );
      expect(second).toEqual({
        uuid: first.uuid,
        tenantUuid: tenant.uuid,
        slug: 'admin',
        name: 'Administrator',
        description: null,
        acl: ['auth.#', '!auth.users.*.delete'],
        shared: false,
        readOnly: true,
      });
      expect(await identity.getPolicyBySlug(tenant.uuid, 'admin')).toEqual(second);
      expect(await identity.listUserPolicies(user.uuid)).toEqual([second]);
    });

    it('keeps slugs apart per tenant', async () => {
      const other = await identity.createTenant(tenantData({ parentUuid: tenant.uuid }));
      const a = await identity.upsertPolicy(policyData(tenant.uuid, { slug: 'same', name: 'A' }));
      const b = await identity.upsertPolicy(policyData(other.uuid, { slug: 'same', name: 'B' }));
      expect(a.uuid).not.toBe(b.uuid);
      expect((await identity.getPolicyBySlug(tenant.uuid, 'same'))?.name).toBe('A');
      expect((await identity.getPolicyBySlug(other.uuid, 'same'))?.name).toBe('B');
      expect(await identity.getPolicyBySlug(tenant.uuid, 'unknown')).toBeNull();
    });

    it("lists a user's policies by name; linking twice is harmless", async () => {
      const user = await identity.createUser(userData(tenant.uuid));
      const zed = await identity.upsertPolicy(policyData(tenant.uuid, { name: 'Zed' }));
      const abc = await identity.upsertPolicy(policyData(tenant.uuid, { name: 'Abc', acl: [] }));
      await identity.upsertPolicy(policyData(tenant.uuid, { name: 'Unlinked' }));
      await identity.addUserPolicy(user.uuid, zed.uuid);
      await identity.addUserPolicy(user.uuid, abc.uuid);
      await identity.addUserPolicy(user.uuid, abc.uuid);
      expect(await identity.listUserPolicies(user.uuid)).toEqual([abc, zed]);
      expect(await identity.listUserPolicies(randomUUID())).toEqual([]);
    });

    it('refuses a link to an unknown user or policy', async () => {
      const user = await identity.createUser(userData(tenant.uuid));
      const policy = await identity.upsertPolicy(policyData(tenant.uuid));
      await expect(identity.addUserPolicy(user.uuid, randomUUID())).rejects.toBeInstanceOf(StoreConflictError);
      await expect(identity.addUserPolicy(randomUUID(), policy.uuid)).rejects.toBeInstanceOf(StoreConflictError);
    });
  });

  describe('identity and access management (version 2)', () => {
    function groupData(tenantUuid: string, over: Partial<Group> = {}): Group {
      return {
        uuid: randomUUID(),
        tenantUuid,
        name: 'Group',
        slug: `g_${randomBytes(3).toString('hex')}`,
        systemManaged: false,
        ...over,
      };
    }

    it('walks the tenant tree and lists, updates and deletes tenants', async () => {
      const a = await identity.createTenant(
        tenantData({ name: 'Alpha', slug: 'alpha', parentUuid: tenant.uuid, domainNames: ['alpha.example.com'] }),
      );
      const a1 = await identity.createTenant(tenantData({ name: 'Alpha one', slug: 'alpha1', parentUuid: a.uuid }));
      const b = await identity.createTenant(tenantData({ name: 'Beta', slug: 'beta', parentUuid: tenant.uuid }));
      expect(await identity.getTenant(a.uuid)).toEqual(a);
      expect(new Set(await identity.listTenantSubtree(tenant.uuid))).toEqual(new Set([tenant.uuid, a.uuid, a1.uuid, b.uuid]));
      expect((await identity.listTenantSubtree(tenant.uuid))[0]).toBe(tenant.uuid);
      expect(new Set(await identity.listTenantSubtree(a.uuid))).toEqual(new Set([a.uuid, a1.uuid]));
      expect(await identity.listTenantSubtree(randomUUID())).toEqual([]);

      const listed = await identity.listTenants([a.uuid, a1.uuid, b.uuid], { search: 'ALPHA', order: 'name', direction: 'desc' });
      expect(listed).toMatchObject({ total: 3, filtered: 2 });
      expect(listed.items.map((t) => t.slug)).toEqual(['alpha1', 'alpha']);
      expect(
        (await identity.listTenants([a.uuid, b.uuid], { limit: 1, offset: 1, order: 'slug' })).items.map((t) => t.slug),
      ).toEqual(['beta']);
      expect(await identity.listTenants([], {})).toEqual({ total: 0, filtered: 0, items: [] });

      expect(await identity.updateTenant(b.uuid, { name: 'Bêta', domainNames: ['b.example.com'] })).toEqual({
        ...b,
        name: 'Bêta',
        domainNames: ['b.example.com'],
      });
      expect(await identity.updateTenant(randomUUID(), { name: 'x' })).toBeNull();
      const dup = await rejection(identity.updateTenant(b.uuid, { slug: 'alpha' }));
      expect((dup as StoreConflictError).field).toBe('slug');

      expect(await identity.hasChildTenants(a.uuid)).toBe(true);
      expect(await identity.hasChildTenants(b.uuid)).toBe(false);
      await expect(identity.deleteTenant(a.uuid)).rejects.toBeInstanceOf(StoreConflictError);
      expect(await identity.deleteTenant(randomUUID())).toBeNull();
    });

    it('moves a tenant under another, never into a cycle, even for concurrent moves (issue 18)', async () => {
      const a = await identity.createTenant(tenantData({ parentUuid: tenant.uuid }));
      const b = await identity.createTenant(tenantData({ parentUuid: tenant.uuid }));
      const a1 = await identity.createTenant(tenantData({ parentUuid: a.uuid }));
      const moved = await identity.moveTenant(a1.uuid, b.uuid);
      expect(moved).toMatchObject({ outcome: 'moved', tenant: { uuid: a1.uuid, parentUuid: b.uuid } });
      expect(await identity.getTenant(a1.uuid)).toMatchObject({ parentUuid: b.uuid });
      expect(new Set(await identity.listTenantSubtree(b.uuid))).toEqual(new Set([b.uuid, a1.uuid]));
      expect(await identity.moveTenant(b.uuid, a1.uuid)).toEqual({ outcome: 'cycle' });
      expect(await identity.moveTenant(b.uuid, b.uuid)).toEqual({ outcome: 'cycle' });
      expect(await identity.moveTenant(randomUUID(), b.uuid)).toEqual({ outcome: 'unknown' });
      expect(await identity.moveTenant(b.uuid, randomUUID())).toEqual({ outcome: 'unknown' });

      // Two moves, each fine alone, together a cycle: one of them is refused.
      for (let round = 0; round < 5; round++) {
        const x = await identity.createTenant(tenantData({ parentUuid: tenant.uuid }));
        const y = await identity.createTenant(tenantData({ parentUuid: tenant.uuid }));
        const outcomes = (await Promise.all([identity.moveTenant(x.uuid, y.uuid), identity.moveTenant(y.uuid, x.uuid)])).map(
          (m) => m.outcome,
        );
        expect(outcomes.sort()).toEqual(['cycle', 'moved']);
        const parents = [(await identity.getTenant(x.uuid))?.parentUuid, (await identity.getTenant(y.uuid))?.parentUuid];
        expect(parents.filter((p) => p === tenant.uuid)).toHaveLength(1);
      }
    });

    it('refuses to move a tenant whose subtree is linked to policies of tenants it would leave', async () => {
      const a = await identity.createTenant(tenantData({ parentUuid: tenant.uuid }));
      const b = await identity.createTenant(tenantData({ parentUuid: tenant.uuid }));
      const x = await identity.createTenant(tenantData({ parentUuid: a.uuid }));
      const x1 = await identity.createTenant(tenantData({ parentUuid: x.uuid }));
      const ofA = await identity.createPolicy(policyData(a.uuid, { shared: true }));
      const ofTop = await identity.createPolicy(policyData(tenant.uuid, { shared: true }));
      const user = await identity.createUser(userData(x1.uuid));
      await identity.addUserPolicy(user.uuid, ofA.uuid);
      await identity.addUserPolicy(user.uuid, ofTop.uuid);
      expect(await identity.moveTenant(x.uuid, b.uuid)).toEqual({
        outcome: 'linked',
        policyUuids: [ofA.uuid],
        links: { users: [{ uuid: user.uuid, tenantUuid: x1.uuid }], groups: [] },
      });
      expect((await identity.getTenant(x.uuid))?.parentUuid).toBe(a.uuid);
      await identity.removeUserPolicy(user.uuid, ofA.uuid);
      expect((await identity.moveTenant(x.uuid, b.uuid)).outcome).toBe('moved');
    });

    it('deletes a tenant with its users, groups, policies, sessions and tokens', async () => {
      const doomed = await identity.createTenant(tenantData({ parentUuid: tenant.uuid }));
      const user = await identity.createUser(userData(doomed.uuid));
      const keep = await identity.createUser(userData(tenant.uuid));
      const policy = await identity.createPolicy(policyData(doomed.uuid));
      const group = await identity.createGroup(groupData(doomed.uuid));
      await identity.addGroupUser(group.uuid, user.uuid);
      await identity.addGroupPolicy(group.uuid, policy.uuid);
      await identity.addUserPolicy(user.uuid, policy.uuid);
      const s = sessionData(doomed.uuid, user.uuid);
      const sKeep = sessionData(tenant.uuid, keep.uuid);
      await store.createSession(s);
      await store.createSession(sKeep);
      const t = tokenData(s);
      const tKeep = tokenData(sKeep);
      await store.insertToken(t);
      await store.insertToken(tKeep);

      const removal = await identity.deleteTenant(doomed.uuid);
      expect(removal?.tokenHashes).toEqual([t.hash]);
      expect(removal?.sessions).toEqual([s]);
      expect(await identity.getTenant(doomed.uuid)).toBeNull();
      expect(await identity.getUser(user.uuid)).toBeNull();
      expect(await identity.getPolicy(policy.uuid)).toBeNull();
      expect(await identity.getGroup(group.uuid)).toBeNull();
      expect(await store.findTokenByHash(t.hash)).toBeNull();
      expect(await store.findTokenByHash(tKeep.hash)).toEqual(tKeep);
      expect(await identity.getUser(keep.uuid)).toEqual(keep);
    });

    it('creates, reads, lists, updates and deletes policies; lists shared ones of ancestors', async () => {
      const child = await identity.createTenant(tenantData({ parentUuid: tenant.uuid }));
      const own = await identity.createPolicy(policyData(child.uuid, { name: 'Own', description: 'mine' }));
      const shared = await identity.createPolicy(policyData(tenant.uuid, { name: 'Shared', shared: true }));
      await identity.createPolicy(policyData(tenant.uuid, { name: 'Private' }));
      expect(await identity.getPolicy(own.uuid)).toEqual(own);
      expect(await identity.getPolicy(randomUUID())).toBeNull();
      const dup = await rejection(identity.createPolicy(policyData(child.uuid, { slug: own.slug })));
      expect((dup as StoreConflictError).field).toBe('slug');

      const visible = await identity.listPolicies({ tenantUuids: [child.uuid], sharedTenantUuids: [tenant.uuid] }, {});
      expect(visible.items.map((p) => p.name)).toEqual(['Own', 'Shared']);
      expect(visible).toMatchObject({ total: 2, filtered: 2 });
      expect(
        (await identity.listPolicies({ tenantUuids: [child.uuid], sharedTenantUuids: [tenant.uuid] }, { search: 'MINE' })).items,
      ).toEqual([own]);
      expect(
        (await identity.listPolicies({ tenantUuids: [tenant.uuid] }, { order: 'name', direction: 'desc' })).items.map(
          (p) => p.name,
        ),
      ).toEqual(['Shared', 'Private']);

      const updated = await identity.updatePolicy(own.uuid, { acl: ['a.b', '!a.b.c'], shared: true, description: null });
      expect(updated).toEqual({ ...own, acl: ['a.b', '!a.b.c'], shared: true, description: null });
      expect(await identity.updatePolicy(randomUUID(), { name: 'x' })).toBeNull();

      const user = await identity.createUser(userData(child.uuid));
      await identity.addUserPolicy(user.uuid, own.uuid);
      expect(
        (await identity.listPolicies({ tenantUuids: [child.uuid], sharedTenantUuids: [tenant.uuid], userUuid: user.uuid }, {}))
          .items,
      ).toEqual([updated]);
      expect(await identity.removeUserPolicy(user.uuid, own.uuid)).toBe(true);
      expect(await identity.removeUserPolicy(user.uuid, own.uuid)).toBe(false);
      await identity.addUserPolicy(user.uuid, own.uuid);
      expect(await identity.deletePolicy(own.uuid)).toBe(true);
      expect(await identity.deletePolicy(own.uuid)).toBe(false);
      expect(await identity.listUserPolicies(user.uuid)).toEqual([]);
      expect(shared.shared).toBe(true);
    });

    it('manages groups, members and group policies', async () => {
      const g = await identity.createGroup(groupData(tenant.uuid, { name: 'Ops' }));
      expect(await identity.getGroup(g.uuid)).toEqual(g);
      expect(await identity.getGroup(randomUUID())).toBeNull();
      const dup = await rejection(identity.createGroup(groupData(tenant.uuid, { slug: g.slug })));
      expect((dup as StoreConflictError).field).toBe('slug');
      const user = await identity.createUser(userData(tenant.uuid));
      const other = await identity.createUser(userData(tenant.uuid));
      await identity.addGroupUser(g.uuid, user.uuid);
      await identity.addGroupUser(g.uuid, user.uuid);
      await expect(identity.addGroupUser(g.uuid, randomUUID())).rejects.toBeInstanceOf(StoreConflictError);
      await expect(identity.addGroupUser(randomUUID(), user.uuid)).rejects.toBeInstanceOf(StoreConflictError);
      expect((await identity.listUsers([tenant.uuid], {}, { groupUuid: g.uuid })).items.map((u) => u.uuid)).toEqual([user.uuid]);
      expect((await identity.listGroups({ tenantUuids: [tenant.uuid], userUuid: user.uuid }, {})).items).toEqual([g]);
      expect((await identity.listGroups({ tenantUuids: [tenant.uuid], userUuid: other.uuid }, {})).items).toEqual([]);

      const p = await identity.createPolicy(policyData(tenant.uuid, { name: 'P', acl: ['x.y'] }));
      await identity.addGroupPolicy(g.uuid, p.uuid);
      await identity.addGroupPolicy(g.uuid, p.uuid);
      await expect(identity.addGroupPolicy(g.uuid, randomUUID())).rejects.toBeInstanceOf(StoreConflictError);
      expect((await identity.listPolicies({ tenantUuids: [tenant.uuid], groupUuid: g.uuid }, {})).items).toEqual([p]);

      expect(await identity.updateGroup(g.uuid, { name: 'Operations' })).toEqual({ ...g, name: 'Operations' });
      expect(await identity.updateGroup(randomUUID(), { name: 'x' })).toBeNull();
      expect(await identity.removeGroupPolicy(g.uuid, p.uuid)).toBe(true);
      expect(await identity.removeGroupPolicy(g.uuid, p.uuid)).toBe(false);
      expect(await identity.removeGroupUser(g.uuid, user.uuid)).toBe(true);
      expect(await identity.removeGroupUser(g.uuid, user.uuid)).toBe(false);
      await identity.addGroupUser(g.uuid, user.uuid);
      expect(await identity.deleteGroup(g.uuid)).toBe(true);
      expect(await identity.deleteGroup(g.uuid)).toBe(false);
      expect(await identity.getUser(user.uuid)).not.toBeNull();
    });

    it("grants a user its own policies and its groups' policies, in one list", async () => {
      const user = await identity.createUser(userData(tenant.uuid));
      const direct = await identity.createPolicy(policyData(tenant.uuid, { name: 'A direct', acl: ['d.1'] }));
      const viaGroup = await identity.createPolicy(policyData(tenant.uuid, { name: 'B group', acl: ['g.1'] }));
      const both = await identity.createPolicy(policyData(tenant.uuid, { name: 'C both', acl: ['b.1'] }));
      await identity.createPolicy(policyData(tenant.uuid, { name: 'D none' }));
      const g = await identity.createGroup(groupData(tenant.uuid));
      await identity.addGroupUser(g.uuid, user.uuid);
      for (const p of [viaGroup, both]) await identity.addGroupPolicy(g.uuid, p.uuid);
      for (const p of [direct, both]) await identity.addUserPolicy(user.uuid, p.uuid);
      expect(await identity.listGrantedPolicies(user.uuid)).toEqual([direct, viaGroup, both]);
      expect(await identity.listGrantedPolicies(randomUUID())).toEqual([]);
    });

    it('gives every tenant one "all users" group holding all its users, old and new', async () => {
      const child = await identity.createTenant(tenantData({ parentUuid: tenant.uuid }));
      const before = await identity.createUser(userData(tenant.uuid));
      let n = 0;
      const created = await identity.ensureAllUsersGroups(
        () => `00000000-0000-4000-8000-00000000000${n++}`,
        (t) => `all-${t}`,
      );
      expect(created.map((g) => g.tenantUuid).sort()).toEqual([tenant.uuid, child.uuid].sort());
      expect(await identity.ensureAllUsersGroups(randomUUID, (t) => t)).toEqual([]);
      const all = await identity.getAllUsersGroup(tenant.uuid);
      expect(all).toMatchObject({
        tenantUuid: tenant.uuid,
        name: `all-${tenant.uuid}`,
        slug: 'all-users',
        systemManaged: true,
      });
      const after = await identity.createUser(userData(tenant.uuid));
      const inChild = await identity.createUser(userData(child.uuid));
      const members = await identity.listUsers([tenant.uuid, child.uuid], {}, { groupUuid: all!.uuid });
      expect(members.items.map((u) => u.uuid).sort()).toEqual([before.uuid, after.uuid].sort());
      expect(
        (await identity.listGroups({ tenantUuids: [child.uuid], userUuid: inChild.uuid }, {})).items.map((g) => g.systemManaged),
      ).toEqual([true]);
      const second = await rejection(identity.createGroup(groupData(tenant.uuid, { systemManaged: true })));
      expect(second).toBeInstanceOf(StoreConflictError);
      expect(await identity.getAllUsersGroup(randomUUID())).toBeNull();
    });

    it('lists, reads and deletes sessions by tenant and user', async () => {
      const child = await identity.createTenant(tenantData({ parentUuid: tenant.uuid }));
      const user = await identity.createUser(userData(tenant.uuid));
      const s1 = sessionData(tenant.uuid, user.uuid, { mobile: true });
      const s2 = sessionData(tenant.uuid, null);
      const s3 = sessionData(child.uuid, null);
      for (const s of [s1, s2, s3]) await store.createSession(s);
      const t1 = tokenData(s1);
      const t2 = tokenData(s1);
      await store.insertToken(t1);
      await store.insertToken(t2);
      expect(await store.getSession(s1.uuid)).toEqual(s1);
      expect(await store.getSession(randomUUID())).toBeNull();
      expect((await store.listSessions({ tenantUuids: [tenant.uuid] }, {})).total).toBe(2);
      expect((await store.listSessions({ tenantUuids: [tenant.uuid, child.uuid] }, {})).total).toBe(3);
      expect((await store.listSessions({ tenantUuids: [tenant.uuid], userUuid: user.uuid }, {})).items).toEqual([s1]);
      expect(
        (await store.listSessions({ tenantUuids: [tenant.uuid] }, { order: 'mobile', direction: 'desc', limit: 1 })).items,
      ).toEqual([s1]);
      expect(await store.listSessions({ tenantUuids: [] }, {})).toEqual({ total: 0, filtered: 0, items: [] });

      const removal = await store.deleteSession(s1.uuid);
      expect(removal?.tokenHashes.sort()).toEqual([t1.hash, t2.hash].sort());
      expect(removal?.sessions).toEqual([s1]);
      expect(await store.findTokenByHash(t1.hash)).toBeNull();
      expect(await store.getSession(s1.uuid)).toBeNull();
      expect(await store.deleteSession(s1.uuid)).toBeNull();
    });

    it('works inside a transaction', async () => {
      await expect(
        store.transaction(async (tx) => {
          const t = await tx.createTenant(tenantData({ parentUuid: tenant.uuid }));
          await tx.createGroup(groupData(t.uuid));
          throw new Error('rollback');
        }),
      ).rejects.toThrow('rollback');
      expect(await identity.listTenantSubtree(tenant.uuid)).toEqual([tenant.uuid]);
    });
  });
});
