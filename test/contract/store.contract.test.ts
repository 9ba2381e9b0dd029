// One contract for the Store, run against both engines, each test on a fresh
// database (SQLite: a new file; PostgreSQL: a new schema in a database made
// for this file). Engine-specific behaviour is tested after the contract.

import { randomBytes, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StoreConflictError, StoreError, StoreInvalidInputError, StoreUnavailableError } from '../../src/store/errors.js';
import { sqliteMigrations } from '../../src/store/migrations/sqlite.js';
import { openStore } from '../../src/store/open-store.js';
import type { Group, NewUser, Policy, RefreshToken, Session, Store, Tenant, TokenRecord } from '../../src/store/types.js';
import { createTestDatabase, createTestSchema } from '../helpers/pg.js';
import type { TestDatabase } from '../helpers/pg.js';
import { tempSqliteUri } from '../helpers/sqlite.js';

interface OpenedStore {
  store: Store;
  /** Runs raw SQL beside the store, to look at what it wrote. */
  query(text: string): Promise<Record<string, unknown>[]>;
  cleanup(): Promise<void>;
}

const NOW = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

// ---- test data

function tenantData(over: Partial<Tenant> = {}): Tenant {
  return {
    uuid: randomUUID(),
    name: 'tenant',
    slug: null,
    parentUuid: null,
    domainNames: [],
    // As read back when not given (migration 11).
    contactUuid: null,
    phone: null,
    defaultAuthenticationMethod: 'native',
    address: { line1: null, line2: null, city: null, state: null, country: null, zipCode: null },
    ...over,
  };
}

function userData(tenantUuid: string, over: Partial<NewUser> = {}): NewUser {
  const suffix = randomBytes(4).toString('hex');
  return {
    uuid: randomUUID(),
    tenantUuid,
    username: `user-${suffix}`,
    firstname: 'First',
    lastname: 'Last',
    emailAddress: `user-${suffix}@example.com`,
    emailConfirmed: true,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    purpose: 'user',
    enabled: true,
    createdAt: NOW,
    ...over,
  };
}

function sessionData(tenantUuid: string, userUuid: string | null, over: Partial<Session> = {}): Session {
  return { uuid: randomUUID(), tenantUuid, userUuid, mobile: false, createdAt: NOW, ...over };
}

function tokenData(session: Session, over: Partial<TokenRecord> = {}): TokenRecord {
  return {
    hash: randomBytes(32).toString('hex'),
    sessionUuid: session.uuid,
    authId: session.userUuid ?? 'some-auth-id',
    userUuid: session.userUuid,
    tenantUuid: session.tenantUuid,
    pbxUserUuid: null,
    xivoUuid: null,
    issuedAt: NOW,
    expiresAt: NOW + HOUR,
    acl: ['auth.#', 'confd.users.me.read'],
    metadata: { purpose: 'user', nested: { a: 1 } },
    remoteAddr: '127.0.0.1',
    userAgent: 'vitest',
    refreshTokenUuid: null,
    ...over,
  };
}

function refreshTokenData(userUuid: string, tenantUuid: string, over: Partial<RefreshToken> = {}): RefreshToken {
  return {
    uuid: randomUUID(),
    hash: randomBytes(32).toString('hex'),
    clientId: `client-${randomBytes(3).toString('hex')}`,
    userUuid,
    tenantUuid,
    backend: 'xivo_user',
    login: 'alice',
    mobile: false,
    createdAt: NOW,
    lastUsedAt: NOW,
    ...over,
  };
}

function policyData(tenantUuid: string, over: Partial<Policy> = {}): Policy {
  return {
    uuid: randomUUID(),
    tenantUuid,
    name: 'Policy',
    slug: `policy_${randomBytes(3).toString('hex')}`,
    description: null,
    acl: ['auth.users.read'],
    shared: false,
    readOnly: false,
    ...over,
  };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

// ---- the contract

function defineStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store contract: ${name}`, () => {
    let opened: OpenedStore;
    let store: Store;
    let tenant: Tenant;

    beforeEach(async () => {
      opened = await open();
      store = opened.store;
      await store.migrate();
      tenant = await store.createTenant(tenantData({ name: 'master', slug: 'master' }));
    });

    afterEach(async () => {
      await store.close();
      await opened.cleanup();
    });

    describe('migrations', () => {
      it('migrates an empty database and records each migration once', async () => {
        const rows = await opened.query('select version, name, applied_at from schema_migrations order by version');
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.map((r) => Number(r.version))).toEqual([...new Set(rows.map((r) => Number(r.version)))]);
        expect(rows[0]).toMatchObject({ name: 'initial' });
        expect(Number(rows[0].applied_at)).toBeGreaterThan(0);
      });

      it('migrate() a second time changes nothing', async () => {
        const before = await opened.query('select version, applied_at from schema_migrations order by version');
        const user = await store.createUser(userData(tenant.uuid));
        await store.migrate();
        expect(await opened.query('select version, applied_at from schema_migrations order by version')).toEqual(before);
        expect(await store.getUser(user.uuid)).toEqual(user);
      });
    });

    it('ping() resolves', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    describe('tenants', () => {
      it('creates, reads and finds the top tenant', async () => {
        const child = await store.createTenant(tenantData({ name: 'child', slug: 'child', parentUuid: tenant.uuid }));
        expect(await store.getTenant(child.uuid)).toEqual(child);
        expect(await store.getTenant(tenant.uuid)).toEqual(tenant);
        expect(await store.getTopTenant()).toEqual(tenant);
        expect(await store.getTenant(randomUUID())).toBeNull();
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
        const dupUuid = await rejection(store.createTenant(tenantData({ uuid: tenant.uuid })));
        expect(dupUuid).toBeInstanceOf(StoreConflictError);
        expect((dupUuid as StoreConflictError).field).toBe('uuid');
        const dupSlug = await rejection(store.createTenant(tenantData({ slug: 'master' })));
        expect((dupSlug as StoreConflictError).field).toBe('slug');
        const orphan = await rejection(store.createTenant(tenantData({ parentUuid: randomUUID() })));
        expect(orphan).toBeInstanceOf(StoreConflictError);
      });
    });

    describe('users', () => {
      it('creates and reads a user with every field', async () => {
        const created = await store.createUser(
          userData(tenant.uuid, {
            firstname: 'Émile ✓',
            emailConfirmed: false,
            purpose: 'external_api',
            enabled: false,
            createdAt: NOW + 123,
          }),
        );
        const read = await store.getUser(created.uuid);
        expect(read).toEqual(created);
        expect(read?.emailConfirmed).toBe(false);
        expect(read?.enabled).toBe(false);
        expect(typeof read?.createdAt).toBe('number');
        expect(await store.getUser(randomUUID())).toBeNull();
      });

      it('allows many users without username, email or password', async () => {
        const a = await store.createUser(userData(tenant.uuid, { username: null, emailAddress: null, passwordHash: null }));
        const b = await store.createUser(userData(tenant.uuid, { username: null, emailAddress: null, passwordHash: null }));
        expect(await store.getUser(a.uuid)).toEqual(a);
        expect(await store.getUser(b.uuid)).toEqual(b);
      });

      it('refuses a username taken in any case', async () => {
        await store.createUser(userData(tenant.uuid, { username: 'Alice' }));
        const err = await rejection(store.createUser(userData(tenant.uuid, { username: 'aLICE' })));
        expect(err).toBeInstanceOf(StoreConflictError);
        expect((err as StoreConflictError).field).toBe('username');
      });

      it('refuses an email address taken in any case', async () => {
        await store.createUser(userData(tenant.uuid, { emailAddress: 'Alice@Example.com' }));
        const err = await rejection(store.createUser(userData(tenant.uuid, { emailAddress: 'alice@EXAMPLE.COM' })));
        expect(err).toBeInstanceOf(StoreConflictError);
        expect((err as StoreConflictError).field).toBe('email_address');
      });

      it('refuses a duplicate uuid and an unknown tenant', async () => {
        const user = await store.createUser(userData(tenant.uuid));
        const dup = await rejection(store.createUser(userData(tenant.uuid, { uuid: user.uuid })));
        expect(dup).toBeInstanceOf(StoreConflictError);
        expect((dup as StoreConflictError).field).toBe('uuid');
        const orphan = await rejection(store.createUser(userData(randomUUID())));
        expect(orphan).toBeInstanceOf(StoreConflictError);
      });

      describe('findUserByLogin', () => {
        it('matches the username in any case', async () => {
          const user = await store.createUser(userData(tenant.uuid, { username: 'Alice' }));
          expect(await store.findUserByLogin('alice')).toEqual(user);
          expect(await store.findUserByLogin('ALICE')).toEqual(user);
          expect(await store.findUserByLogin('Alice')).toEqual(user);
        });

        it('matches a confirmed email address in any case', async () => {
          const user = await store.createUser(userData(tenant.uuid, { emailAddress: 'Bob@Example.com', emailConfirmed: true }));
          expect(await store.findUserByLogin('bob@example.com')).toEqual(user);
          expect(await store.findUserByLogin('BOB@EXAMPLE.COM')).toEqual(user);
        });

        it('ignores an unconfirmed email address', async () => {
          await store.createUser(userData(tenant.uuid, { emailAddress: 'carol@example.com', emailConfirmed: false }));
          expect(await store.findUserByLogin('carol@example.com')).toBeNull();
        });

        it('answers null for an unknown login, and does not treat LIKE wildcards as such', async () => {
          await store.createUser(userData(tenant.uuid, { username: 'dave' }));
          expect(await store.findUserByLogin('nobody')).toBeNull();
          expect(await store.findUserByLogin('d%')).toBeNull();
          expect(await store.findUserByLogin('dav_')).toBeNull();
        });

        it("refuses a username equal to another user's email address, and the reverse (issue 16)", async () => {
          const byEmail = await store.createUser(userData(tenant.uuid, { username: 'x1', emailAddress: 'same@example.com' }));
          const other = await store.createTenant(tenantData({ parentUuid: tenant.uuid }));
          const byName = await rejection(
            store.createUser(userData(other.uuid, { username: 'Same@example.com', emailAddress: null })),
          );
          expect(byName).toBeInstanceOf(StoreConflictError);
          expect((byName as StoreConflictError).field).toBe('username');
          const named = await store.createUser(userData(other.uuid, { username: 'Named@example.com', emailAddress: null }));
          const byMail = await rejection(store.updateUser(byEmail.uuid, { emailAddress: 'named@EXAMPLE.com' }));
          expect((byMail as StoreConflictError).field).toBe('email_address');
          expect((await store.findUserByLogin('same@example.com'))?.uuid).toBe(byEmail.uuid);
          expect((await store.findUserByLogin('named@example.com'))?.uuid).toBe(named.uuid);
          expect((await store.findUserByLogin('x1'))?.uuid).toBe(byEmail.uuid);
        });
      });

      describe('listUsers', () => {
        let other: Tenant;
        beforeEach(async () => {
          other = await store.createTenant(tenantData({ parentUuid: tenant.uuid }));
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
          for (const r of rows) await store.createUser(userData(tenant.uuid, r));
          await store.createUser(userData(other.uuid, { username: 'erin', firstname: 'Alice' }));
        });

        const names = (r: { items: { username: string | null }[] }) => r.items.map((u) => u.username);

        it('lists the users of the given tenants, by username by default', async () => {
          const r = await store.listUsers([tenant.uuid], {});
          expect(r.total).toBe(5);
          expect(r.filtered).toBe(5);
          expect(names(r)).toEqual(['alice', 'Bob', 'carol_100%', 'carolyn', 'dave']);
          const both = await store.listUsers([tenant.uuid, other.uuid], {});
          expect(both.total).toBe(6);
          expect(await store.listUsers([], {})).toEqual({ total: 0, filtered: 0, items: [] });
          expect((await store.listUsers([randomUUID()], {})).total).toBe(0);
        });

        it('searches username, names and email case-insensitively', async () => {
          const byFirst = await store.listUsers([tenant.uuid], { search: 'ALICE' });
          expect(byFirst).toMatchObject({ total: 5, filtered: 1 });
          expect(names(byFirst)).toEqual(['alice']);
          expect(names(await store.listUsers([tenant.uuid], { search: 'young' }))).toEqual(['Bob']);
          expect(names(await store.listUsers([tenant.uuid], { search: 'EXAMPLE.ORG' }))).toEqual(['Bob']);
          expect(names(await store.listUsers([tenant.uuid], { search: 'carol' }))).toEqual(['carol_100%', 'carolyn']);
          expect(await store.listUsers([tenant.uuid], { search: 'nothing-like-it' })).toEqual({
            total: 5,
            filtered: 0,
            items: [],
          });
        });

        it('takes %, _ and \\ in the search literally', async () => {
          expect(names(await store.listUsers([tenant.uuid], { search: '%' }))).toEqual(['carol_100%']);
          expect(names(await store.listUsers([tenant.uuid], { search: '_' }))).toEqual(['carol_100%']);
          expect(names(await store.listUsers([tenant.uuid], { search: 'l_1' }))).toEqual(['carol_100%']);
          expect(names(await store.listUsers([tenant.uuid], { search: '\\' }))).toEqual(['dave']);
          expect(names(await store.listUsers([tenant.uuid], { search: 'k\\s' }))).toEqual(['dave']);
        });

        it('orders by each listed column, both directions', async () => {
          expect(names(await store.listUsers([tenant.uuid], { order: 'username', direction: 'desc' }))).toEqual([
            'dave',
            'carolyn',
            'carol_100%',
            'Bob',
            'alice',
          ]);
          expect(names(await store.listUsers([tenant.uuid], { order: 'firstname' }))).toEqual([
            'alice',
            'carol_100%',
            'carolyn',
            'Bob',
            'dave',
          ]);
          expect(names(await store.listUsers([tenant.uuid], { order: 'firstname', direction: 'desc' }))).toEqual([
            'dave',
            'Bob',
            'carolyn',
            'carol_100%',
            'alice',
          ]);
          expect(names(await store.listUsers([tenant.uuid], { order: 'lastname' }))).toEqual([
            'dave',
            'carolyn',
            'carol_100%',
            'Bob',
            'alice',
          ]);
          expect(names(await store.listUsers([tenant.uuid], { order: 'email_address' }))).toEqual([
            'alice',
            'Bob',
            'carolyn',
            'dave',
            'carol_100%',
          ]);
          expect(names(await store.listUsers([tenant.uuid], { order: 'purpose' })).slice(0, 2)).toEqual(['carol_100%', 'Bob']);
          const byEnabled = await store.listUsers([tenant.uuid], { order: 'enabled' });
          expect(byEnabled.items.map((u) => u.enabled)).toEqual([false, false, true, true, true]);
          const byUuid = await store.listUsers([tenant.uuid], { order: 'uuid' });
          expect(byUuid.items.map((u) => u.uuid)).toEqual(byUuid.items.map((u) => u.uuid).sort());
        });

        it('falls back to username for an order it does not know', async () => {
          expect(names(await store.listUsers([tenant.uuid], { order: 'password_hash; drop table users' }))).toEqual([
            'alice',
            'Bob',
            'carol_100%',
            'carolyn',
            'dave',
          ]);
        });

        it('pages with limit and offset, after filtering', async () => {
          expect(names(await store.listUsers([tenant.uuid], { limit: 2 }))).toEqual(['alice', 'Bob']);
          expect(names(await store.listUsers([tenant.uuid], { limit: 2, offset: 2 }))).toEqual(['carol_100%', 'carolyn']);
          expect(names(await store.listUsers([tenant.uuid], { offset: 3 }))).toEqual(['carolyn', 'dave']);
          expect(names(await store.listUsers([tenant.uuid], { limit: 2, offset: 10 }))).toEqual([]);
          const page = await store.listUsers([tenant.uuid], { search: 'example.com', limit: 1, offset: 1 });
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
          const user = await store.createUser(userData(tenant.uuid, { emails, purpose: 'internal' }));
          expect(user.emails).toEqual([emails[1], emails[0]]);
          expect(user).toMatchObject({ emailAddress: 'first@example.com', emailConfirmed: true, authenticationMethod: 'native' });
          expect(await store.getUser(user.uuid)).toEqual(user);
          const plain = await store.createUser(
            userData(tenant.uuid, { emailAddress: 'plain@example.com', emailConfirmed: false }),
          );
          expect(plain.emails).toEqual([
            { uuid: expect.any(String), address: 'plain@example.com', main: true, confirmed: false },
          ]);
          expect(plain.authenticationMethod).toBe('default');
          const explicit = await store.createUser(userData(tenant.uuid, { authenticationMethod: 'native' }));
          expect((await store.getUser(explicit.uuid))?.authenticationMethod).toBe('native');
          const twoMains = await rejection(
            store.createUser(userData(tenant.uuid, { emails: emails.map((e) => ({ ...e, uuid: randomUUID(), main: true })) })),
          );
          expect(twoMains).toBeInstanceOf(StoreInvalidInputError);
        });

        it('logs in by any confirmed address, not by an unconfirmed one', async () => {
          const user = await store.createUser(userData(tenant.uuid, { username: 'several' }));
          await store.replaceUserEmails(user.uuid, [
            { address: 'main@several.example', main: true, confirmed: false },
            { address: 'Other@Several.example', main: false, confirmed: true },
          ]);
          expect(await store.findUserByLogin('main@several.example')).toBeNull();
          expect((await store.findUserByLogin('other@several.EXAMPLE'))?.uuid).toBe(user.uuid);
          expect((await store.findUserByLogin('several'))?.emails.map((e) => e.address)).toEqual([
            'main@several.example',
            'Other@Several.example',
          ]);
        });

        it('replaces the addresses: kept ones keep uuid (and flag when null), one main, unique across users', async () => {
          const user = await store.createUser(userData(tenant.uuid, { emailAddress: 'keep@example.com', emailConfirmed: true }));
          const kept = user.emails[0];
          const replaced = await store.replaceUserEmails(user.uuid, [
            { address: 'new@example.com', main: true, confirmed: null },
            { address: 'KEEP@example.com', main: false, confirmed: null },
          ]);
          expect(replaced).toEqual([
            { uuid: expect.any(String), address: 'new@example.com', main: true, confirmed: false },
            { uuid: kept.uuid, address: 'KEEP@example.com', main: false, confirmed: true },
          ]);
          expect((await store.getUser(user.uuid))?.emails).toEqual(replaced);
          expect(await store.replaceUserEmails(randomUUID(), [])).toBeNull();

          const other = await store.createUser(userData(tenant.uuid));
          const taken = await rejection(
            store.replaceUserEmails(other.uuid, [{ address: 'keep@EXAMPLE.com', main: true, confirmed: true }]),
          );
          expect((taken as StoreConflictError).field).toBe('email_address');
          const named = await rejection(
            store.replaceUserEmails(other.uuid, [{ address: user.username!.toUpperCase(), main: true, confirmed: true }]),
          );
          expect((named as StoreConflictError).field).toBe('email_address');
          const noMain = await rejection(
            store.replaceUserEmails(other.uuid, [{ address: 'x@example.com', main: false, confirmed: true }]),
          );
          expect(noMain).toBeInstanceOf(StoreInvalidInputError);
          expect((await store.getUser(other.uuid))?.emails).toEqual(other.emails);

          expect(await store.replaceUserEmails(user.uuid, [])).toEqual([]);
          expect((await store.getUser(user.uuid))?.emailAddress).toBeNull();
          // Deleting a user frees its addresses.
          await store.replaceUserEmails(user.uuid, [{ address: 'freed@example.com', main: true, confirmed: true }]);
          await store.deleteUser(user.uuid);
          expect(
            await store.replaceUserEmails(other.uuid, [{ address: 'freed@example.com', main: true, confirmed: true }]),
          ).toHaveLength(1);
        });

        it('updateUser: emailAddress replaces the main address, promoting one the user has; null promotes the next', async () => {
          const user = await store.createUser(userData(tenant.uuid, { emailAddress: 'a@promote.example' }));
          await store.replaceUserEmails(user.uuid, [
            { address: 'a@promote.example', main: true, confirmed: null },
            { address: 'b@promote.example', main: false, confirmed: false },
            { address: 'c@promote.example', main: false, confirmed: true },
          ]);
          const b = (await store.getUser(user.uuid))!.emails.find((e) => e.address === 'b@promote.example')!;
          const promoted = await store.updateUser(user.uuid, { emailAddress: 'B@promote.example' });
          expect(promoted?.emails.map((e) => [e.address, e.main, e.confirmed])).toEqual([
            ['B@promote.example', true, false],
            ['c@promote.example', false, true],
          ]);
          expect(promoted?.emails[0].uuid).toBe(b.uuid);
          const confirmed = await store.updateUser(user.uuid, { emailConfirmed: true });
          expect(confirmed?.emailConfirmed).toBe(true);
          const next = await store.updateUser(user.uuid, { emailAddress: null });
          expect(next?.emails.map((e) => [e.address, e.main])).toEqual([['c@promote.example', true]]);
          expect(await store.getUser(user.uuid)).toEqual(next);
        });
      });

      describe('updateUser and setUserPassword', () => {
        it('changes only the given fields', async () => {
          const user = await store.createUser(userData(tenant.uuid));
          const updated = await store.updateUser(user.uuid, {
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
          expect(await store.getUser(user.uuid)).toEqual(updated);
          expect(await store.updateUser(user.uuid, {})).toEqual(updated);
        });

        it('answers null for an unknown user', async () => {
          expect(await store.updateUser(randomUUID(), { firstname: 'x' })).toBeNull();
          expect(await store.updateUser(randomUUID(), {})).toBeNull();
        });

        it('refuses a username or email taken by another user, in any case', async () => {
          await store.createUser(userData(tenant.uuid, { username: 'taken', emailAddress: 'taken@example.com' }));
          const user = await store.createUser(userData(tenant.uuid));
          const byName = await rejection(store.updateUser(user.uuid, { username: 'TAKEN' }));
          expect(byName).toBeInstanceOf(StoreConflictError);
          expect((byName as StoreConflictError).field).toBe('username');
          const byEmail = await rejection(store.updateUser(user.uuid, { emailAddress: 'Taken@Example.com' }));
          expect((byEmail as StoreConflictError).field).toBe('email_address');
          // Changing the case of one's own username is no conflict.
          const renamed = await store.updateUser(user.uuid, { username: user.username!.toUpperCase() });
          expect(renamed?.username).toBe(user.username!.toUpperCase());
        });

        it('sets and clears the password hash', async () => {
          const user = await store.createUser(userData(tenant.uuid));
          expect(await store.setUserPassword(user.uuid, '$argon2id$new')).toBe(true);
          expect((await store.getUser(user.uuid))?.passwordHash).toBe('$argon2id$new');
          expect(await store.setUserPassword(user.uuid, null)).toBe(true);
          expect((await store.getUser(user.uuid))?.passwordHash).toBeNull();
          expect(await store.setUserPassword(randomUUID(), 'x')).toBe(false);
        });
      });

      describe('deleteUser', () => {
        it('removes the user with its sessions, tokens, refresh tokens and policy links', async () => {
          const user = await store.createUser(userData(tenant.uuid));
          const keep = await store.createUser(userData(tenant.uuid));
          const policy = await store.upsertPolicy(policyData(tenant.uuid));
          await store.addUserPolicy(user.uuid, policy.uuid);
          await store.addUserPolicy(keep.uuid, policy.uuid);
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

          const removal = await store.deleteUser(user.uuid);
          expect(removal?.tokenHashes.sort()).toEqual([t1.hash, t2.hash, t3.hash].sort());
          expect(removal?.sessions.sort((a, b) => a.uuid.localeCompare(b.uuid))).toEqual(
            [s1, s2].sort((a, b) => a.uuid.localeCompare(b.uuid)),
          );
          expect(await store.getUser(user.uuid)).toBeNull();
          for (const t of [t1, t2, t3]) expect(await store.findTokenByHash(t.hash)).toBeNull();
          expect(await store.findRefreshTokenByHash(rt.hash)).toBeNull();
          expect(await store.listUserPolicies(user.uuid)).toEqual([]);

          expect(await store.getUser(keep.uuid)).toEqual(keep);
          expect(await store.findTokenByHash(tKeep.hash)).toEqual(tKeep);
          expect(await store.findRefreshTokenByHash(rtKeep.hash)).toEqual(rtKeep);
          expect(await store.listUserPolicies(keep.uuid)).toEqual([policy]);
          expect(await store.getPolicyBySlug(tenant.uuid, policy.slug)).toEqual(policy);
        });

        it('answers null for an unknown user', async () => {
          expect(await store.deleteUser(randomUUID())).toBeNull();
        });

        it('answers an empty removal for a user without sessions', async () => {
          const user = await store.createUser(userData(tenant.uuid));
          expect(await store.deleteUser(user.uuid)).toEqual({ tokenHashes: [], sessions: [] });
        });
      });
    });

    describe('policies', () => {
      it('inserts, then updates by (tenant, slug) keeping the uuid and the user links', async () => {
        const user = await store.createUser(userData(tenant.uuid));
        const first = await store.upsertPolicy(
          policyData(tenant.uuid, {
            slug: 'admin',
            name: 'Admin',
            description: 'all',
            acl: ['auth.#'],
            shared: true,
          }),
        );
        expect(await store.getPolicyBySlug(tenant.uuid, 'admin')).toEqual(first);
        await store.addUserPolicy(user.uuid, first.uuid);

        const second = await store.upsertPolicy(
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
        expect(await store.getPolicyBySlug(tenant.uuid, 'admin')).toEqual(second);
        expect(await store.listUserPolicies(user.uuid)).toEqual([second]);
      });

      it('keeps slugs apart per tenant', async () => {
        const other = await store.createTenant(tenantData({ parentUuid: tenant.uuid }));
        const a = await store.upsertPolicy(policyData(tenant.uuid, { slug: 'same', name: 'A' }));
        const b = await store.upsertPolicy(policyData(other.uuid, { slug: 'same', name: 'B' }));
        expect(a.uuid).not.toBe(b.uuid);
        expect((await store.getPolicyBySlug(tenant.uuid, 'same'))?.name).toBe('A');
        expect((await store.getPolicyBySlug(other.uuid, 'same'))?.name).toBe('B');
        expect(await store.getPolicyBySlug(tenant.uuid, 'unknown')).toBeNull();
      });

      it("lists a user's policies by name; linking twice is harmless", async () => {
        const user = await store.createUser(userData(tenant.uuid));
        const zed = await store.upsertPolicy(policyData(tenant.uuid, { name: 'Zed' }));
        const abc = await store.upsertPolicy(policyData(tenant.uuid, { name: 'Abc', acl: [] }));
        await store.upsertPolicy(policyData(tenant.uuid, { name: 'Unlinked' }));
        await store.addUserPolicy(user.uuid, zed.uuid);
        await store.addUserPolicy(user.uuid, abc.uuid);
        await store.addUserPolicy(user.uuid, abc.uuid);
        expect(await store.listUserPolicies(user.uuid)).toEqual([abc, zed]);
        expect(await store.listUserPolicies(randomUUID())).toEqual([]);
      });

      it('refuses a link to an unknown user or policy', async () => {
        const user = await store.createUser(userData(tenant.uuid));
        const policy = await store.upsertPolicy(policyData(tenant.uuid));
        await expect(store.addUserPolicy(user.uuid, randomUUID())).rejects.toBeInstanceOf(StoreConflictError);
        await expect(store.addUserPolicy(randomUUID(), policy.uuid)).rejects.toBeInstanceOf(StoreConflictError);
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
        const a = await store.createTenant(
          tenantData({ name: 'Alpha', slug: 'alpha', parentUuid: tenant.uuid, domainNames: ['alpha.example.com'] }),
        );
        const a1 = await store.createTenant(tenantData({ name: 'Alpha one', slug: 'alpha1', parentUuid: a.uuid }));
        const b = await store.createTenant(tenantData({ name: 'Beta', slug: 'beta', parentUuid: tenant.uuid }));
        expect(await store.getTenant(a.uuid)).toEqual(a);
        expect(new Set(await store.listTenantSubtree(tenant.uuid))).toEqual(new Set([tenant.uuid, a.uuid, a1.uuid, b.uuid]));
        expect((await store.listTenantSubtree(tenant.uuid))[0]).toBe(tenant.uuid);
        expect(new Set(await store.listTenantSubtree(a.uuid))).toEqual(new Set([a.uuid, a1.uuid]));
        expect(await store.listTenantSubtree(randomUUID())).toEqual([]);

        const listed = await store.listTenants([a.uuid, a1.uuid, b.uuid], { search: 'ALPHA', order: 'name', direction: 'desc' });
        expect(listed).toMatchObject({ total: 3, filtered: 2 });
        expect(listed.items.map((t) => t.slug)).toEqual(['alpha1', 'alpha']);
        expect(
          (await store.listTenants([a.uuid, b.uuid], { limit: 1, offset: 1, order: 'slug' })).items.map((t) => t.slug),
        ).toEqual(['beta']);
        expect(await store.listTenants([], {})).toEqual({ total: 0, filtered: 0, items: [] });

        expect(await store.updateTenant(b.uuid, { name: 'Bêta', domainNames: ['b.example.com'] })).toEqual({
          ...b,
          name: 'Bêta',
          domainNames: ['b.example.com'],
        });
        expect(await store.updateTenant(randomUUID(), { name: 'x' })).toBeNull();
        const dup = await rejection(store.updateTenant(b.uuid, { slug: 'alpha' }));
        expect((dup as StoreConflictError).field).toBe('slug');

        expect(await store.hasChildTenants(a.uuid)).toBe(true);
        expect(await store.hasChildTenants(b.uuid)).toBe(false);
        await expect(store.deleteTenant(a.uuid)).rejects.toBeInstanceOf(StoreConflictError);
        expect(await store.deleteTenant(randomUUID())).toBeNull();
      });

      it('moves a tenant under another, never into a cycle, even for concurrent moves (issue 18)', async () => {
        const a = await store.createTenant(tenantData({ parentUuid: tenant.uuid }));
        const b = await store.createTenant(tenantData({ parentUuid: tenant.uuid }));
        const a1 = await store.createTenant(tenantData({ parentUuid: a.uuid }));
        const moved = await store.moveTenant(a1.uuid, b.uuid);
        expect(moved).toMatchObject({ outcome: 'moved', tenant: { uuid: a1.uuid, parentUuid: b.uuid } });
        expect(await store.getTenant(a1.uuid)).toMatchObject({ parentUuid: b.uuid });
        expect(new Set(await store.listTenantSubtree(b.uuid))).toEqual(new Set([b.uuid, a1.uuid]));
        expect(await store.moveTenant(b.uuid, a1.uuid)).toEqual({ outcome: 'cycle' });
        expect(await store.moveTenant(b.uuid, b.uuid)).toEqual({ outcome: 'cycle' });
        expect(await store.moveTenant(randomUUID(), b.uuid)).toEqual({ outcome: 'unknown' });
        expect(await store.moveTenant(b.uuid, randomUUID())).toEqual({ outcome: 'unknown' });

        // Two moves, each fine alone, together a cycle: one of them is refused.
        for (let round = 0; round < 5; round++) {
          const x = await store.createTenant(tenantData({ parentUuid: tenant.uuid }));
          const y = await store.createTenant(tenantData({ parentUuid: tenant.uuid }));
          const outcomes = (await Promise.all([store.moveTenant(x.uuid, y.uuid), store.moveTenant(y.uuid, x.uuid)])).map(
            (m) => m.outcome,
          );
          expect(outcomes.sort()).toEqual(['cycle', 'moved']);
          const parents = [(await store.getTenant(x.uuid))?.parentUuid, (await store.getTenant(y.uuid))?.parentUuid];
          expect(parents.filter((p) => p === tenant.uuid)).toHaveLength(1);
        }
      });

      it('refuses to move a tenant whose subtree is linked to policies of tenants it would leave', async () => {
        const a = await store.createTenant(tenantData({ parentUuid: tenant.uuid }));
        const b = await store.createTenant(tenantData({ parentUuid: tenant.uuid }));
        const x = await store.createTenant(tenantData({ parentUuid: a.uuid }));
        const x1 = await store.createTenant(tenantData({ parentUuid: x.uuid }));
        const ofA = await store.createPolicy(policyData(a.uuid, { shared: true }));
        const ofTop = await store.createPolicy(policyData(tenant.uuid, { shared: true }));
        const user = await store.createUser(userData(x1.uuid));
        await store.addUserPolicy(user.uuid, ofA.uuid);
        await store.addUserPolicy(user.uuid, ofTop.uuid);
        expect(await store.moveTenant(x.uuid, b.uuid)).toEqual({
          outcome: 'linked',
          policyUuids: [ofA.uuid],
          links: { users: [{ uuid: user.uuid, tenantUuid: x1.uuid }], groups: [] },
        });
        expect((await store.getTenant(x.uuid))?.parentUuid).toBe(a.uuid);
        await store.removeUserPolicy(user.uuid, ofA.uuid);
        expect((await store.moveTenant(x.uuid, b.uuid)).outcome).toBe('moved');
      });

      it('deletes a tenant with its users, groups, policies, sessions and tokens', async () => {
        const doomed = await store.createTenant(tenantData({ parentUuid: tenant.uuid }));
        const user = await store.createUser(userData(doomed.uuid));
        const keep = await store.createUser(userData(tenant.uuid));
        const policy = await store.createPolicy(policyData(doomed.uuid));
        const group = await store.createGroup(groupData(doomed.uuid));
        await store.addGroupUser(group.uuid, user.uuid);
        await store.addGroupPolicy(group.uuid, policy.uuid);
        await store.addUserPolicy(user.uuid, policy.uuid);
        const s = sessionData(doomed.uuid, user.uuid);
        const sKeep = sessionData(tenant.uuid, keep.uuid);
        await store.createSession(s);
        await store.createSession(sKeep);
        const t = tokenData(s);
        const tKeep = tokenData(sKeep);
        await store.insertToken(t);
        await store.insertToken(tKeep);

        const removal = await store.deleteTenant(doomed.uuid);
        expect(removal?.tokenHashes).toEqual([t.hash]);
        expect(removal?.sessions).toEqual([s]);
        expect(await store.getTenant(doomed.uuid)).toBeNull();
        expect(await store.getUser(user.uuid)).toBeNull();
        expect(await store.getPolicy(policy.uuid)).toBeNull();
        expect(await store.getGroup(group.uuid)).toBeNull();
        expect(await store.findTokenByHash(t.hash)).toBeNull();
        expect(await store.findTokenByHash(tKeep.hash)).toEqual(tKeep);
        expect(await store.getUser(keep.uuid)).toEqual(keep);
      });

      it('creates, reads, lists, updates and deletes policies; lists shared ones of ancestors', async () => {
        const child = await store.createTenant(tenantData({ parentUuid: tenant.uuid }));
        const own = await store.createPolicy(policyData(child.uuid, { name: 'Own', description: 'mine' }));
        const shared = await store.createPolicy(policyData(tenant.uuid, { name: 'Shared', shared: true }));
        await store.createPolicy(policyData(tenant.uuid, { name: 'Private' }));
        expect(await store.getPolicy(own.uuid)).toEqual(own);
        expect(await store.getPolicy(randomUUID())).toBeNull();
        const dup = await rejection(store.createPolicy(policyData(child.uuid, { slug: own.slug })));
        expect((dup as StoreConflictError).field).toBe('slug');

        const visible = await store.listPolicies({ tenantUuids: [child.uuid], sharedTenantUuids: [tenant.uuid] }, {});
        expect(visible.items.map((p) => p.name)).toEqual(['Own', 'Shared']);
        expect(visible).toMatchObject({ total: 2, filtered: 2 });
        expect(
          (await store.listPolicies({ tenantUuids: [child.uuid], sharedTenantUuids: [tenant.uuid] }, { search: 'MINE' })).items,
        ).toEqual([own]);
        expect(
          (await store.listPolicies({ tenantUuids: [tenant.uuid] }, { order: 'name', direction: 'desc' })).items.map(
            (p) => p.name,
          ),
        ).toEqual(['Shared', 'Private']);

        const updated = await store.updatePolicy(own.uuid, { acl: ['a.b', '!a.b.c'], shared: true, description: null });
        expect(updated).toEqual({ ...own, acl: ['a.b', '!a.b.c'], shared: true, description: null });
        expect(await store.updatePolicy(randomUUID(), { name: 'x' })).toBeNull();

        const user = await store.createUser(userData(child.uuid));
        await store.addUserPolicy(user.uuid, own.uuid);
        expect(
          (await store.listPolicies({ tenantUuids: [child.uuid], sharedTenantUuids: [tenant.uuid], userUuid: user.uuid }, {}))
            .items,
        ).toEqual([updated]);
        expect(await store.removeUserPolicy(user.uuid, own.uuid)).toBe(true);
        expect(await store.removeUserPolicy(user.uuid, own.uuid)).toBe(false);
        await store.addUserPolicy(user.uuid, own.uuid);
        expect(await store.deletePolicy(own.uuid)).toBe(true);
        expect(await store.deletePolicy(own.uuid)).toBe(false);
        expect(await store.listUserPolicies(user.uuid)).toEqual([]);
        expect(shared.shared).toBe(true);
      });

      it('manages groups, members and group policies', async () => {
        const g = await store.createGroup(groupData(tenant.uuid, { name: 'Ops' }));
        expect(await store.getGroup(g.uuid)).toEqual(g);
        expect(await store.getGroup(randomUUID())).toBeNull();
        const dup = await rejection(store.createGroup(groupData(tenant.uuid, { slug: g.slug })));
        expect((dup as StoreConflictError).field).toBe('slug');
        const user = await store.createUser(userData(tenant.uuid));
        const other = await store.createUser(userData(tenant.uuid));
        await store.addGroupUser(g.uuid, user.uuid);
        await store.addGroupUser(g.uuid, user.uuid);
        await expect(store.addGroupUser(g.uuid, randomUUID())).rejects.toBeInstanceOf(StoreConflictError);
        await expect(store.addGroupUser(randomUUID(), user.uuid)).rejects.toBeInstanceOf(StoreConflictError);
        expect((await store.listUsers([tenant.uuid], {}, { groupUuid: g.uuid })).items.map((u) => u.uuid)).toEqual([user.uuid]);
        expect((await store.listGroups({ tenantUuids: [tenant.uuid], userUuid: user.uuid }, {})).items).toEqual([g]);
        expect((await store.listGroups({ tenantUuids: [tenant.uuid], userUuid: other.uuid }, {})).items).toEqual([]);

        const p = await store.createPolicy(policyData(tenant.uuid, { name: 'P', acl: ['x.y'] }));
        await store.addGroupPolicy(g.uuid, p.uuid);
        await store.addGroupPolicy(g.uuid, p.uuid);
        await expect(store.addGroupPolicy(g.uuid, randomUUID())).rejects.toBeInstanceOf(StoreConflictError);
        expect((await store.listPolicies({ tenantUuids: [tenant.uuid], groupUuid: g.uuid }, {})).items).toEqual([p]);

        expect(await store.updateGroup(g.uuid, { name: 'Operations' })).toEqual({ ...g, name: 'Operations' });
        expect(await store.updateGroup(randomUUID(), { name: 'x' })).toBeNull();
        expect(await store.removeGroupPolicy(g.uuid, p.uuid)).toBe(true);
        expect(await store.removeGroupPolicy(g.uuid, p.uuid)).toBe(false);
        expect(await store.removeGroupUser(g.uuid, user.uuid)).toBe(true);
        expect(await store.removeGroupUser(g.uuid, user.uuid)).toBe(false);
        await store.addGroupUser(g.uuid, user.uuid);
        expect(await store.deleteGroup(g.uuid)).toBe(true);
        expect(await store.deleteGroup(g.uuid)).toBe(false);
        expect(await store.getUser(user.uuid)).not.toBeNull();
      });

      it("grants a user its own policies and its groups' policies, in one list", async () => {
        const user = await store.createUser(userData(tenant.uuid));
        const direct = await store.createPolicy(policyData(tenant.uuid, { name: 'A direct', acl: ['d.1'] }));
        const viaGroup = await store.createPolicy(policyData(tenant.uuid, { name: 'B group', acl: ['g.1'] }));
        const both = await store.createPolicy(policyData(tenant.uuid, { name: 'C both', acl: ['b.1'] }));
        await store.createPolicy(policyData(tenant.uuid, { name: 'D none' }));
        const g = await store.createGroup(groupData(tenant.uuid));
        await store.addGroupUser(g.uuid, user.uuid);
        for (const p of [viaGroup, both]) await store.addGroupPolicy(g.uuid, p.uuid);
        for (const p of [direct, both]) await store.addUserPolicy(user.uuid, p.uuid);
        expect(await store.listGrantedPolicies(user.uuid)).toEqual([direct, viaGroup, both]);
        expect(await store.listGrantedPolicies(randomUUID())).toEqual([]);
      });

      it('gives every tenant one "all users" group holding all its users, old and new', async () => {
        const child = await store.createTenant(tenantData({ parentUuid: tenant.uuid }));
        const before = await store.createUser(userData(tenant.uuid));
        let n = 0;
        const created = await store.ensureAllUsersGroups(
          () => `00000000-0000-4000-8000-00000000000${n++}`,
          (t) => `all-${t}`,
        );
        expect(created.map((g) => g.tenantUuid).sort()).toEqual([tenant.uuid, child.uuid].sort());
        expect(await store.ensureAllUsersGroups(randomUUID, (t) => t)).toEqual([]);
        const all = await store.getAllUsersGroup(tenant.uuid);
        expect(all).toMatchObject({
          tenantUuid: tenant.uuid,
          name: `all-${tenant.uuid}`,
          slug: 'all-users',
          systemManaged: true,
        });
        const after = await store.createUser(userData(tenant.uuid));
        const inChild = await store.createUser(userData(child.uuid));
        const members = await store.listUsers([tenant.uuid, child.uuid], {}, { groupUuid: all!.uuid });
        expect(members.items.map((u) => u.uuid).sort()).toEqual([before.uuid, after.uuid].sort());
        expect(
          (await store.listGroups({ tenantUuids: [child.uuid], userUuid: inChild.uuid }, {})).items.map((g) => g.systemManaged),
        ).toEqual([true]);
        const second = await rejection(store.createGroup(groupData(tenant.uuid, { systemManaged: true })));
        expect(second).toBeInstanceOf(StoreConflictError);
        expect(await store.getAllUsersGroup(randomUUID())).toBeNull();
      });

      it('lists, reads and deletes sessions by tenant and user', async () => {
        const child = await store.createTenant(tenantData({ parentUuid: tenant.uuid }));
        const user = await store.createUser(userData(tenant.uuid));
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
        expect(await store.listTenantSubtree(tenant.uuid)).toEqual([tenant.uuid]);
      });
    });

    describe('sessions and tokens', () => {
      it('stores and finds a token by hash, every field intact', async () => {
        const session = sessionData(tenant.uuid, randomUUID(), { mobile: true });
        await store.createSession(session);
        const token = tokenData(session, {
          pbxUserUuid: randomUUID(),
          xivoUuid: randomUUID(),
          refreshTokenUuid: randomUUID(),
          acl: ['a.b.c', 'émoji.✓'],
          metadata: { list: [1, 'two', null], flag: true, text: 'é' },
          expiresAt: NOW + 10 * 365 * 24 * HOUR,
        });
        await store.insertToken(token);
        const found = await store.findTokenByHash(token.hash);
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
        await store.insertToken(bare);
        expect(await store.findTokenByHash(bare.hash)).toEqual(bare);
        expect(await store.findTokenByHash('0'.repeat(64))).toBeNull();
      });

      it('refuses a token for an unknown session and a duplicate hash', async () => {
        const session = sessionData(tenant.uuid, null);
        await store.createSession(session);
        const token = tokenData(session);
        await store.insertToken(token);
        const dup = await rejection(store.insertToken(token));
        expect(dup).toBeInstanceOf(StoreConflictError);
        expect((dup as StoreConflictError).field).toBe('hash');
        const orphan = await rejection(store.insertToken(tokenData(sessionData(tenant.uuid, null))));
        expect(orphan).toBeInstanceOf(StoreConflictError);
        const dupSession = await rejection(store.createSession(session));
        expect((dupSession as StoreConflictError).field).toBe('uuid');
      });

      it('deleteToken removes the session only with its last token', async () => {
        const session = sessionData(tenant.uuid, randomUUID());
        await store.createSession(session);
        const a = tokenData(session);
        const b = tokenData(session);
        await store.insertToken(a);
        await store.insertToken(b);

        expect(await store.deleteToken(a.hash)).toEqual({ tokenHashes: [a.hash], sessions: [] });
        expect(await store.findTokenByHash(a.hash)).toBeNull();
        expect(await store.findTokenByHash(b.hash)).toEqual(b);

        expect(await store.deleteToken(b.hash)).toEqual({ tokenHashes: [b.hash], sessions: [session] });
        expect(await store.deleteToken(b.hash)).toBeNull();
        // The session is gone: its uuid is free again.
        await expect(store.createSession(session)).resolves.toBeUndefined();
      });

      it('deleteUserSessions removes every session and token of the user, only those', async () => {
        const userUuid = randomUUID();
        const otherUuid = randomUUID();
        const s1 = sessionData(tenant.uuid, userUuid);
        const s2 = sessionData(tenant.uuid, userUuid);
        const empty = sessionData(tenant.uuid, userUuid);
        const sOther = sessionData(tenant.uuid, otherUuid);
        for (const s of [s1, s2, empty, sOther]) await store.createSession(s);
        const tokens = [tokenData(s1), tokenData(s1), tokenData(s2, { expiresAt: NOW - HOUR })];
        for (const t of tokens) await store.insertToken(t);
        const tOther = tokenData(sOther);
        await store.insertToken(tOther);

        const removal = await store.deleteUserSessions(userUuid);
        expect(removal.tokenHashes.sort()).toEqual(tokens.map((t) => t.hash).sort());
        expect(removal.sessions.map((s) => s.uuid).sort()).toEqual([s1.uuid, s2.uuid, empty.uuid].sort());
        expect(removal.sessions.find((s) => s.uuid === s1.uuid)).toEqual(s1);
        for (const t of tokens) expect(await store.findTokenByHash(t.hash)).toBeNull();
        expect(await store.findTokenByHash(tOther.hash)).toEqual(tOther);
        expect(await store.countLiveSessions(otherUuid, NOW)).toBe(1);

        expect(await store.deleteUserSessions(userUuid)).toEqual({ tokenHashes: [], sessions: [], refreshTokens: [] });
      });

      it("deleteUserSessions with refreshTokens also removes the user's refresh tokens, only those", async () => {
        const user = await store.createUser(userData(tenant.uuid));
        const other = await store.createUser(userData(tenant.uuid));
        const rt1 = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'one' });
        const rt2 = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'two' });
        const rtOther = refreshTokenData(other.uuid, tenant.uuid);
        for (const rt of [rt1, rt2, rtOther]) await store.replaceRefreshToken(rt);

        expect((await store.deleteUserSessions(user.uuid)).refreshTokens).toEqual([]);
        expect(await store.findRefreshTokenByHash(rt1.hash)).toEqual(rt1);
        const removal = await store.deleteUserSessions(user.uuid, { refreshTokens: true });
        expect(removal.refreshTokens.map((rt) => rt.clientId).sort()).toEqual(['one', 'two']);
        for (const rt of [rt1, rt2]) expect(await store.findRefreshTokenByHash(rt.hash)).toBeNull();
        expect(await store.findRefreshTokenByHash(rtOther.hash)).toEqual(rtOther);
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
        for (const s of [live, mixed, expired, elsewhere]) await store.createSession(s);
        await store.insertToken(tokenData(live));
        await store.insertToken(tokenData(live));
        await store.insertToken(tokenData(mixed, { expiresAt: NOW - 1 }));
        await store.insertToken(tokenData(mixed, { expiresAt: NOW + 1 }));
        await store.insertToken(tokenData(expired, { expiresAt: NOW - HOUR }));
        await store.insertToken(tokenData(expired, { expiresAt: NOW }));
        await store.insertToken(tokenData(elsewhere));

        expect(await store.countLiveSessions(userUuid, NOW)).toBe(2);
        expect(await store.countLiveSessions(userUuid, NOW + 1)).toBe(1);
        expect(await store.countLiveSessions(userUuid, NOW + 2 * HOUR)).toBe(0);
        expect(await store.countLiveSessions(randomUUID(), NOW)).toBe(0);
        // Bounded by the cap it is asked about.
        expect(await store.countLiveSessions(userUuid, NOW, 1)).toBe(1);
        expect(await store.countLiveSessions(userUuid, NOW, 5)).toBe(2);
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
          for (const s of [...expiredSessions, mixed, live]) await store.createSession(s);
          for (const t of [...expiredTokens, mixedExpired, mixedLive, liveToken]) await store.insertToken(t);

          const first = await store.deleteExpired(NOW, 2);
          expect(first.tokenHashes.sort()).toEqual([expiredTokens[0].hash, expiredTokens[1].hash].sort());
          expect(first.sessions.map((s) => s.uuid).sort()).toEqual([expiredSessions[0].uuid, expiredSessions[1].uuid].sort());
          expect(first.sessions.find((s) => s.uuid === expiredSessions[0].uuid)).toEqual(expiredSessions[0]);

          const second = await store.deleteExpired(NOW, 10);
          expect(second.tokenHashes.sort()).toEqual([...expiredTokens.slice(2).map((t) => t.hash), mixedExpired.hash].sort());
          expect(second.sessions.map((s) => s.uuid).sort()).toEqual(
            expiredSessions
              .slice(2)
              .map((s) => s.uuid)
              .sort(),
          );

          expect(await store.deleteExpired(NOW, 10)).toEqual({ tokenHashes: [], sessions: [] });
          expect(await store.findTokenByHash(mixedLive.hash)).toEqual(mixedLive);
          expect(await store.findTokenByHash(liveToken.hash)).toEqual(liveToken);
          expect(await store.countLiveSessions(userUuid, NOW)).toBe(2);
        });

        it('reports the last expiry deleted, and resumes from a given expiry', async () => {
          const sessions = Array.from({ length: 5 }, () => sessionData(tenant.uuid, null));
          // Expired at NOW-5h … NOW-1h.
          const tokens = sessions.map((s, i) => tokenData(s, { expiresAt: NOW - (5 - i) * HOUR }));
          for (const s of sessions) await store.createSession(s);
          for (const t of tokens) await store.insertToken(t);

          const first = await store.deleteExpired(NOW, 2);
          expect(first.tokenHashes.sort()).toEqual([tokens[0].hash, tokens[1].hash].sort());
          expect(first.lastExpiresAt).toBe(NOW - 4 * HOUR);
          // From NOW-2h: the token of NOW-3h is left for a later pass.
          const resumed = await store.deleteExpired(NOW, 10, NOW - 2 * HOUR);
          expect(resumed.tokenHashes.sort()).toEqual([tokens[3].hash, tokens[4].hash].sort());
          expect(resumed.lastExpiresAt).toBe(NOW - HOUR);
          expect(await store.findTokenByHash(tokens[2].hash)).toEqual(tokens[2]);
          // A pass starts from the lowest expiry.
          expect((await store.deleteExpired(NOW, 10)).tokenHashes).toEqual([tokens[2].hash]);
          const none = await store.deleteExpired(NOW, 10);
          expect(none.tokenHashes).toEqual([]);
          expect(none.lastExpiresAt).toBeUndefined();
        });

        it('does nothing with a limit of 0', async () => {
          const s = sessionData(tenant.uuid, null);
          await store.createSession(s);
          const t = tokenData(s, { expiresAt: NOW - HOUR });
          await store.insertToken(t);
          expect(await store.deleteExpired(NOW, 0)).toEqual({ tokenHashes: [], sessions: [] });
          expect(await store.findTokenByHash(t.hash)).toEqual(t);
        });

        it('handles a batch larger than one IN list', async () => {
          const sessions = Array.from({ length: 1200 }, () => sessionData(tenant.uuid, null));
          await store.transaction(async (tx) => {
            for (const s of sessions) {
              await tx.createSession(s);
              await tx.insertToken(tokenData(s, { expiresAt: NOW - HOUR }));
            }
          });
          const removal = await store.deleteExpired(NOW, 1100);
          expect(removal.tokenHashes).toHaveLength(1100);
          expect(removal.sessions).toHaveLength(1100);
          expect((await store.deleteExpired(NOW, 1100)).sessions).toHaveLength(100);
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
        expect(await store.replaceRefreshToken(first)).toBeNull();
        expect(await store.findRefreshTokenByHash(first.hash)).toEqual(first);

        const second = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'phone', createdAt: NOW + 1 });
        expect(await store.replaceRefreshToken(second)).toEqual(first);
        expect(await store.findRefreshTokenByHash(first.hash)).toBeNull();
        expect(await store.findRefreshTokenByHash(second.hash)).toEqual(second);
        expect(await store.findRefreshTokenByHash('f'.repeat(64))).toBeNull();
      });

      it('refuses a duplicate hash, and a user that does not exist', async () => {
        const first = refreshTokenData(user.uuid, tenant.uuid);
        await store.replaceRefreshToken(first);
        const dup = await rejection(store.replaceRefreshToken(refreshTokenData(user.uuid, tenant.uuid, { hash: first.hash })));
        expect(dup).toBeInstanceOf(StoreConflictError);
        expect((dup as StoreConflictError).field).toBe('hash');
        // The failed replace left the first token in place.
        expect(await store.findRefreshTokenByHash(first.hash)).toEqual(first);
        await expect(store.replaceRefreshToken(refreshTokenData(randomUUID(), tenant.uuid))).rejects.toBeInstanceOf(
          StoreConflictError,
        );
      });

      it('deletes by (user, client_id)', async () => {
        const rt = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'web' });
        await store.replaceRefreshToken(rt);
        expect(await store.deleteRefreshToken(user.uuid, 'other')).toBeNull();
        expect(await store.deleteRefreshToken(user.uuid, 'web')).toEqual(rt);
        expect(await store.deleteRefreshToken(user.uuid, 'web')).toBeNull();
        expect(await store.findRefreshTokenByHash(rt.hash)).toBeNull();
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
        for (const rt of [...mine, theirs]) await store.replaceRefreshToken(rt);
        const ids = (r: { items: RefreshToken[] }) => r.items.map((t) => t.clientId);

        const byUser = await store.listRefreshTokens({ userUuid: user.uuid });
        expect(byUser).toMatchObject({ total: 3, filtered: 3 });
        expect(ids(byUser)).toEqual(['alpha_1', 'alphax', 'Beta']);
        expect(byUser.items[0]).toEqual(mine[1]);

        expect(ids(await store.listRefreshTokens({}))).toEqual(['gamma', 'alpha_1', 'alphax', 'Beta']);
        expect(ids(await store.listRefreshTokens({ tenantUuids: [sub.uuid] }))).toEqual(['gamma']);
        expect(ids(await store.listRefreshTokens({ tenantUuids: [tenant.uuid, sub.uuid] }))).toHaveLength(4);
        expect(await store.listRefreshTokens({ tenantUuids: [] })).toEqual({ total: 0, filtered: 0, items: [] });
        expect((await store.listRefreshTokens({ userUuid: user.uuid, tenantUuids: [sub.uuid] })).total).toBe(0);

        const search = await store.listRefreshTokens({ userUuid: user.uuid, search: 'A_' });
        expect(search).toMatchObject({ total: 3, filtered: 1 });
        expect(ids(search)).toEqual(['alpha_1']);
        expect(ids(await store.listRefreshTokens({ userUuid: user.uuid, search: 'ALPHA' }))).toEqual(['alpha_1', 'alphax']);

        expect(ids(await store.listRefreshTokens({ userUuid: user.uuid, order: 'client_id' }))).toEqual([
          'alpha_1',
          'alphax',
          'Beta',
        ]);
        expect(ids(await store.listRefreshTokens({ userUuid: user.uuid, order: 'client_id', direction: 'desc' }))).toEqual([
          'Beta',
          'alphax',
          'alpha_1',
        ]);
        expect(ids(await store.listRefreshTokens({ userUuid: user.uuid, order: 'mobile', direction: 'desc' }))[0]).toBe(
          'alpha_1',
        );
        expect(ids(await store.listRefreshTokens({ userUuid: user.uuid, order: 'created_at', direction: 'desc' }))).toEqual([
          'Beta',
          'alphax',
          'alpha_1',
        ]);
        expect(ids(await store.listRefreshTokens({ userUuid: user.uuid, order: 'bogus' }))).toEqual([
          'alpha_1',
          'alphax',
          'Beta',
        ]);
        expect(ids(await store.listRefreshTokens({ userUuid: user.uuid, limit: 1, offset: 1 }))).toEqual(['alphax']);
        expect(ids(await store.listRefreshTokens({ userUuid: user.uuid, offset: 2 }))).toEqual(['Beta']);

        // Exact filters narrow `filtered`, not `total`.
        expect(await store.listRefreshTokens({ userUuid: user.uuid, clientId: 'alphax' })).toMatchObject({
          total: 3,
          filtered: 1,
          items: [mine[2]],
        });
        expect((await store.listRefreshTokens({ userUuid: user.uuid, clientId: 'alpha' })).filtered).toBe(0);
        expect(ids(await store.listRefreshTokens({ userUuid: user.uuid, mobile: true }))).toEqual(['alpha_1']);
        expect(await store.listRefreshTokens({ userUuid: user.uuid, mobile: false })).toMatchObject({ total: 3, filtered: 2 });
        expect(ids(await store.listRefreshTokens({ userUuid: user.uuid, mobile: false, search: 'ALPHA' }))).toEqual(['alphax']);
      });

      it("deleteMobileRefreshTokens removes the user's mobile refresh tokens, their tokens and emptied sessions, only those", async () => {
        const other = await store.createUser(userData(tenant.uuid));
        const phone = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'phone', mobile: true });
        const tablet = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'tablet', mobile: true });
        const desktop = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'desktop' });
        const othersPhone = refreshTokenData(other.uuid, tenant.uuid, { clientId: 'phone', mobile: true });
        for (const rt of [phone, tablet, desktop, othersPhone]) await store.replaceRefreshToken(rt);
        const issued = async (userUuid: string, rt: RefreshToken | null) => {
          const s = sessionData(tenant.uuid, userUuid, { mobile: rt?.mobile ?? false });
          await store.createSession(s);
          const tok = tokenData(s, { refreshTokenUuid: rt?.uuid ?? null });
          await store.insertToken(tok);
          return { session: s, token: tok };
        };
        const fromPhone = [await issued(user.uuid, phone), await issued(user.uuid, phone)];
        const fromTablet = await issued(user.uuid, tablet);
        const kept = [await issued(user.uuid, desktop), await issued(user.uuid, null), await issued(other.uuid, othersPhone)];

        const removal = await store.deleteMobileRefreshTokens(user.uuid);
        expect(removal.refreshTokens.map((rt) => rt.clientId).sort()).toEqual(['phone', 'tablet']);
        const gone = [...fromPhone, fromTablet];
        expect([...removal.tokenHashes].sort()).toEqual(gone.map((g) => g.token.hash).sort());
        expect(removal.sessions.map((s) => s.uuid).sort()).toEqual(gone.map((g) => g.session.uuid).sort());
        for (const g of gone) expect(await store.findTokenByHash(g.token.hash)).toBeNull();
        for (const k of kept) expect(await store.findTokenByHash(k.token.hash)).not.toBeNull();
        expect(await store.findRefreshTokenByHash(phone.hash)).toBeNull();
        expect(await store.findRefreshTokenByHash(desktop.hash)).toEqual(desktop);
        expect(await store.findRefreshTokenByHash(othersPhone.hash)).toEqual(othersPhone);
        expect(await store.deleteMobileRefreshTokens(user.uuid)).toEqual({ tokenHashes: [], sessions: [], refreshTokens: [] });
      });

      describe('lifecycle (issue 19, migration 12)', () => {
        const newHash = () => randomBytes(32).toString('hex');

        it("useRefreshToken records the last use, only while the hash presented is the token's", async () => {
          const rt = refreshTokenData(user.uuid, tenant.uuid);
          await store.replaceRefreshToken(rt);
          expect(await store.useRefreshToken({ uuid: rt.uuid, hash: rt.hash, at: NOW + HOUR })).toBe(true);
          expect(await store.findRefreshTokenByHash(rt.hash)).toEqual({ ...rt, lastUsedAt: NOW + HOUR });
          // Another hash, or another uuid: nothing changes.
          expect(await store.useRefreshToken({ uuid: rt.uuid, hash: newHash(), at: NOW + 2 * HOUR })).toBe(false);
          expect(await store.useRefreshToken({ uuid: randomUUID(), hash: rt.hash, at: NOW + 2 * HOUR })).toBe(false);
          expect((await store.findRefreshTokenByHash(rt.hash))?.lastUsedAt).toBe(NOW + HOUR);
          expect(await store.findRetiredRefreshToken(rt.hash)).toBeNull();
        });

        it('rotation gives the token a new hash (same uuid, created_at) and retires the old one; the old hash no longer rotates', async () => {
          const rt = refreshTokenData(user.uuid, tenant.uuid);
          await store.replaceRefreshToken(rt);
          const next = newHash();
          expect(
            await store.useRefreshToken({
              uuid: rt.uuid,
              hash: rt.hash,
              at: NOW + HOUR,
              rotateTo: { hash: next, keepRetired: 10 },
            }),
          ).toBe(true);
          expect(await store.findRefreshTokenByHash(rt.hash)).toBeNull();
          expect(await store.findRefreshTokenByHash(next)).toEqual({ ...rt, hash: next, lastUsedAt: NOW + HOUR });
          expect(await store.findRetiredRefreshToken(rt.hash)).toEqual({
            hash: rt.hash,
            familyUuid: rt.uuid,
            retiredAt: NOW + HOUR,
          });
          expect(await store.findRetiredRefreshToken(next)).toBeNull();
          expect(
            await store.useRefreshToken({
              uuid: rt.uuid,
              hash: rt.hash,
              at: NOW + 2 * HOUR,
              rotateTo: { hash: newHash(), keepRetired: 10 },
            }),
          ).toBe(false);
          expect(await store.findRefreshTokenByHash(next)).not.toBeNull();
          // Listed as before: one refresh token of (user, client_id).
          expect((await store.listRefreshTokens({ userUuid: user.uuid })).items).toEqual([
            { ...rt, hash: next, lastUsedAt: NOW + HOUR },
          ]);
        });

        it('of two concurrent rotations of one token, exactly one applies', async () => {
          const rt = refreshTokenData(user.uuid, tenant.uuid);
          await store.replaceRefreshToken(rt);
          const [a, b] = [newHash(), newHash()];
          const rotate = (to: string) =>
            store.transaction((tx) =>
              tx.useRefreshToken({ uuid: rt.uuid, hash: rt.hash, at: NOW + 1, rotateTo: { hash: to, keepRetired: 10 } }),
            );
          const results = await Promise.all([rotate(a), rotate(b)]);
          expect(results.filter(Boolean)).toHaveLength(1);
          const winner = results[0] ? a : b;
          expect((await store.findRefreshTokenByHash(winner))?.uuid).toBe(rt.uuid);
          expect(await store.findRefreshTokenByHash(winner === a ? b : a)).toBeNull();
          expect(await opened.query(`select hash from refresh_token_retired where family_uuid = '${rt.uuid}'`)).toEqual([
            { hash: rt.hash },
          ]);
        });

        it('keeps the newest `keepRetired` retired hashes of a family', async () => {
          const rt = refreshTokenData(user.uuid, tenant.uuid);
          await store.replaceRefreshToken(rt);
          const hashes = [rt.hash];
          for (let i = 1; i <= 5; i++) {
            hashes.push(newHash());
            expect(
              await store.useRefreshToken({
                uuid: rt.uuid,
                hash: hashes[i - 1],
                at: NOW + i,
                rotateTo: { hash: hashes[i], keepRetired: 3 },
              }),
            ).toBe(true);
          }
          for (const h of hashes.slice(0, 2)) expect(await store.findRetiredRefreshToken(h)).toBeNull();
          for (const [i, h] of hashes.slice(2, 5).entries()) {
            expect(await store.findRetiredRefreshToken(h)).toEqual({ hash: h, familyUuid: rt.uuid, retiredAt: NOW + i + 3 });
          }
        });

        it('retired hashes go with their family, whatever deletes it', async () => {
          const rotated = async (clientId: string) => {
            const rt = refreshTokenData(user.uuid, tenant.uuid, { clientId });
            await store.replaceRefreshToken(rt);
            await store.useRefreshToken({
              uuid: rt.uuid,
              hash: rt.hash,
              at: NOW + 1,
              rotateTo: { hash: newHash(), keepRetired: 10 },
            });
            expect(await store.findRetiredRefreshToken(rt.hash)).not.toBeNull();
            return rt;
          };
          const deleted = await rotated('deleted');
          await store.deleteRefreshToken(user.uuid, 'deleted');
          expect(await store.findRetiredRefreshToken(deleted.hash)).toBeNull();
          const replaced = await rotated('replaced');
          await store.replaceRefreshToken(refreshTokenData(user.uuid, tenant.uuid, { clientId: 'replaced' }));
          expect(await store.findRetiredRefreshToken(replaced.hash)).toBeNull();
          const ofUser = await rotated('user');
          await store.deleteUser(user.uuid);
          expect(await store.findRetiredRefreshToken(ofUser.hash)).toBeNull();
        });

        it('revokeRefreshTokenFamily deletes the refresh token, its retired hashes, every token issued from it and the sessions left empty, only those', async () => {
          const family = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'phone' });
          const other = refreshTokenData(user.uuid, tenant.uuid, { clientId: 'desktop' });
          for (const rt of [family, other]) await store.replaceRefreshToken(rt);
          const next = newHash();
          await store.useRefreshToken({
            uuid: family.uuid,
            hash: family.hash,
            at: NOW + 1,
            rotateTo: { hash: next, keepRetired: 10 },
          });
          const issued = async (rt: RefreshToken | null) => {
            const s = sessionData(tenant.uuid, user.uuid);
            await store.createSession(s);
            const tok = tokenData(s, { refreshTokenUuid: rt?.uuid ?? null });
            await store.insertToken(tok);
            return { session: s, token: tok };
          };
          // Before and after the rotation: all name the family's uuid.
          const fromFamily = [await issued(family), await issued(family)];
          const kept = [await issued(other), await issued(null)];

          const removal = await store.revokeRefreshTokenFamily(family.uuid);
          expect(removal.refreshTokens).toEqual([{ ...family, hash: next, lastUsedAt: NOW + 1 }]);
          expect([...removal.tokenHashes].sort()).toEqual(fromFamily.map((g) => g.token.hash).sort());
          expect(removal.sessions.map((x) => x.uuid).sort()).toEqual(fromFamily.map((g) => g.session.uuid).sort());
          expect(await store.findRefreshTokenByHash(next)).toBeNull();
          expect(await store.findRetiredRefreshToken(family.hash)).toBeNull();
          for (const g of fromFamily) expect(await store.findTokenByHash(g.token.hash)).toBeNull();
          for (const k of kept) expect(await store.findTokenByHash(k.token.hash)).not.toBeNull();
          expect(await store.findRefreshTokenByHash(other.hash)).toEqual(other);
          expect(await store.revokeRefreshTokenFamily(family.uuid)).toEqual({ tokenHashes: [], sessions: [], refreshTokens: [] });
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
          for (const rt of [idle, old, fresh]) await store.replaceRefreshToken(rt);
          const s = sessionData(tenant.uuid, user.uuid);
          await store.createSession(s);
          const fromIdle = tokenData(s, { refreshTokenUuid: idle.uuid });
          await store.insertToken(fromIdle);

          const expiry = { lastUsedBefore: NOW - 3 * day, createdBefore: NOW - 50 * day };
          expect(await store.deleteExpiredRefreshTokens({ lastUsedBefore: null, createdBefore: null }, 10)).toEqual([]);
          expect(await store.deleteExpiredRefreshTokens(expiry, 0)).toEqual([]);
          const first = await store.deleteExpiredRefreshTokens(expiry, 1);
          const second = await store.deleteExpiredRefreshTokens(expiry, 2);
          expect(first).toHaveLength(1);
          expect(second).toHaveLength(1);
          expect([...first, ...second].map((rt) => rt.clientId).sort()).toEqual(['idle', 'old']);
          expect(await store.deleteExpiredRefreshTokens(expiry, 2)).toEqual([]);
          expect(await store.findRefreshTokenByHash(fresh.hash)).toEqual(fresh);
          expect(await store.findTokenByHash(fromIdle.hash)).toEqual(fromIdle);
          // Each limit alone.
          expect(
            (await store.deleteExpiredRefreshTokens({ lastUsedBefore: null, createdBefore: NOW - 5 * day }, 10)).map(
              (rt) => rt.clientId,
            ),
          ).toEqual(['fresh']);
        });
      });
    });

    describe('transaction', () => {
      it('commits what fn did and returns its result', async () => {
        const t = tenantData({ parentUuid: tenant.uuid });
        const result = await store.transaction(async (tx) => {
          await tx.createTenant(t);
          const user = await tx.createUser(userData(t.uuid));
          // Reads inside the transaction see its writes.
          expect(await tx.getUser(user.uuid)).toEqual(user);
          return user;
        });
        expect(await store.getTenant(t.uuid)).toEqual(t);
        expect(await store.getUser(result.uuid)).toEqual(result);
      });

      it('rolls everything back when fn throws, and rethrows its error', async () => {
        const t = tenantData({ parentUuid: tenant.uuid });
        const session = sessionData(tenant.uuid, null);
        const boom = new Error('boom');
        const err = await rejection(
          store.transaction(async (tx) => {
            await tx.createTenant(t);
            await tx.createSession(session);
            await tx.insertToken(tokenData(session));
            // Multi-statement verbs join the transaction instead of opening their own.
            await tx.deleteExpired(NOW + 10 * HOUR, 10);
            throw boom;
          }),
        );
        expect(err).toBe(boom);
        expect(await store.getTenant(t.uuid)).toBeNull();
        // The session was never committed: creating it again works.
        await expect(store.createSession(session)).resolves.toBeUndefined();
      });

      it('maps errors inside fn and rolls back', async () => {
        const user = await store.createUser(userData(tenant.uuid, { username: 'dup' }));
        const t = tenantData({ parentUuid: tenant.uuid });
        const err = await rejection(
          store.transaction(async (tx) => {
            await tx.createTenant(t);
            await tx.createUser(userData(tenant.uuid, { username: 'DUP' }));
          }),
        );
        expect(err).toBeInstanceOf(StoreConflictError);
        expect((err as StoreConflictError).field).toBe('username');
        expect(await store.getTenant(t.uuid)).toBeNull();
        expect(await store.getUser(user.uuid)).toEqual(user);
      });
    });
  });
}

// ---- SQLite

async function openSqlite(): Promise<OpenedStore> {
  const temp = tempSqliteUri();
  const store = await openStore(temp.uri, {});
  return {
    store,
    async query(text) {
      const db = new Database(temp.path, { readonly: true });
      try {
        return db.prepare(text).all() as Record<string, unknown>[];
      } finally {
        db.close();
      }
    },
    async cleanup() {
      temp.cleanup();
    },
  };
}

defineStoreContract('sqlite', openSqlite);

describe('SQLite specifics', () => {
  it('creates the directory of the database file, uses WAL and enforces foreign keys', async () => {
    const temp = tempSqliteUri();
    const store = await openStore(temp.uri, {});
    try {
      await store.migrate();
      expect(existsSync(temp.path)).toBe(true);
      const db = new Database(temp.path, { readonly: true });
      try {
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      } finally {
        db.close();
      }
      // foreign_keys is per connection: seen through the store.
      await expect(store.createUser(userData(randomUUID()))).rejects.toBeInstanceOf(StoreConflictError);
    } finally {
      await store.close();
      temp.cleanup();
    }
  });

  it('works in memory, and with the sqlite:/// form', async () => {
    const memory = await openStore('sqlite::memory:', {});
    await memory.migrate();
    expect((await memory.createTenant(tenantData())).name).toBe('tenant');
    await memory.close();

    const temp = tempSqliteUri();
    const store = await openStore(`sqlite://${temp.path}`, {});
    await store.migrate();
    await store.close();
    expect(existsSync(temp.path)).toBe(true);
    temp.cleanup();
  });

  it("waits for another process's write lock instead of failing", async () => {
    // One process holds the write lock for a while (as `xivo-auth migrate`
    // or a second instance would); our migration waits for it (busy_timeout,
    // BEGIN IMMEDIATE) and then applies.
    // (Two stores on one file in the same process cannot wait for each other:
    // SQLite's busy wait blocks the thread.)
    const temp = tempSqliteUri();
    mkdirSync(dirname(temp.path), { recursive: true });
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `
      const Database = require('better-sqlite3');
      const db = new Database(process.env.DB_PATH);
      db.pragma('journal_mode = WAL');
      db.exec('BEGIN IMMEDIATE');
      process.stdout.write('locked\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 700);
      db.exec('COMMIT');
      db.close();
    `,
      ],
      { env: { ...process.env, DB_PATH: temp.path }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = once(holder, 'exit');
    try {
      await once(holder.stdout, 'data');
      const store = await openStore(temp.uri, {});
      const started = Date.now();
      await store.migrate();
      expect(Date.now() - started).toBeGreaterThan(300);
      await store.migrate();
      await store.close();
      const db = new Database(temp.path, { readonly: true });
      expect(db.prepare('select count(*) as n from schema_migrations').get()).toEqual({ n: sqliteMigrations.length });
      db.close();
      expect((await exited)[0]).toBe(0);
    } finally {
      holder.kill();
      temp.cleanup();
    }
  });

  it('reports a file it cannot open as unavailable', async () => {
    const temp = tempSqliteUri();
    // A directory where the file should be.
    mkdirSync(temp.path, { recursive: true });
    await expect(openStore(temp.uri, {})).rejects.toBeInstanceOf(StoreUnavailableError);
    temp.cleanup();
  });

  it('reports a closed store as unavailable', async () => {
    const store = await openStore('sqlite::memory:', {});
    await store.migrate();
    await store.close();
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

// ---- PostgreSQL

describe('on PostgreSQL', () => {
  let database: TestDatabase;
  const opened: Store[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });

  async function openPostgres(): Promise<OpenedStore> {
    const schema = await createTestSchema(database.uri);
    const store = await openStore(schema.uri, {});
    return {
      store,
      async query(text) {
        const client = new pg.Client({ connectionString: schema.uri });
        await client.connect();
        try {
          return (await client.query(text)).rows as Record<string, unknown>[];
        } finally {
          await client.end();
        }
      },
      // Every schema goes with the database after the file.
      cleanup: async () => {},
    };
  }

  defineStoreContract('postgresql', openPostgres);

  describe('PostgreSQL specifics', () => {
    it('migrates a fresh database from 3 instances at once, each migration exactly once', async () => {
      const fresh = await createTestDatabase();
      try {
        const stores = await Promise.all([1, 2, 3].map(() => openStore(fresh.uri, {})));
        opened.push(...stores);
        await Promise.all(stores.map((s) => s.migrate()));
        await Promise.all(stores.map((s) => s.migrate()));
        const client = new pg.Client({ connectionString: fresh.uri });
        await client.connect();
        const { rows } = await client.query('select version, count(*)::int as n from schema_migrations group by version');
        await client.end();
        expect(rows.length).toBeGreaterThan(0);
        for (const row of rows) expect(row.n).toBe(1);
        for (const s of stores) await expect(s.getTopTenant()).resolves.toBeNull();
      } finally {
        for (const s of opened.splice(0)) await s.close();
        await fresh.drop();
      }
    });

    it('answers StoreInvalidInputError for a NUL byte in text', async () => {
      const { store, cleanup } = await openPostgres();
      opened.push(store);
      try {
        await store.migrate();
        const t = await store.createTenant(tenantData());
        const err = await rejection(store.createUser(userData(t.uuid, { firstname: 'nul\u0000byte' })));
        expect(err).toBeInstanceOf(StoreInvalidInputError);
        expect(err).toBeInstanceOf(StoreError);
        expect(await store.findUserByLogin('a\u0000b').catch((e: unknown) => e)).toBeInstanceOf(StoreInvalidInputError);
      } finally {
        await store.close();
        opened.splice(0);
        await cleanup();
      }
    });

    it('answers StoreUnavailableError quickly when nothing listens', async () => {
      const store = await openStore('postgresql://postgres@127.0.0.1:1/x', {});
      opened.push(store);
      const started = Date.now();
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.getUser(randomUUID())).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.migrate()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.transaction(async (tx) => tx.getTopTenant())).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('recovers by itself after its connections are killed', async () => {
      const warnings: unknown[] = [];
      const schema = await createTestSchema(database.uri);
      const store = await openStore(schema.uri, {
        logger: { warn: (o) => warnings.push(o), info: () => {} },
      });
      opened.push(store);
      try {
        await store.migrate();
        await Promise.all([store.ping(), store.ping(), store.ping()]);
        const admin = new pg.Client({ connectionString: database.uri });
        await admin.connect();
        await admin.query(
          `select pg_terminate_backend(pid) from pg_stat_activity
           where application_name = 'xivo-auth' and datname = current_database() and pid <> pg_backend_pid()`,
        );
        await admin.end();
        // Idle clients learn of it asynchronously; either way no crash, and
        // at worst a StoreUnavailableError before the pool has replaced them.
        let failures = 0;
        for (;;) {
          try {
            await store.ping();
            break;
          } catch (err) {
            expect(err).toBeInstanceOf(StoreUnavailableError);
            if (++failures > 5) throw err;
          }
        }
        await expect(store.getTopTenant()).resolves.toBeNull();
        // The kill was noticed: as a failed request or as a logged pool error.
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(failures + warnings.length).toBeGreaterThan(0);
      } finally {
        await store.close();
        opened.splice(0);
        await schema.drop();
      }
    });

    it('removes a session whose last two tokens are revoked at once from two instances', async () => {
      const schema = await createTestSchema(database.uri);
      const first = await openStore(schema.uri, {});
      const second = await openStore(schema.uri, {});
      opened.push(first, second);
      try {
        await first.migrate();
        const t = await first.createTenant(tenantData());
        for (let round = 0; round < 20; round++) {
          const session = sessionData(t.uuid, null);
          await first.createSession(session);
          const a = tokenData(session);
          const b = tokenData(session);
          await first.insertToken(a);
          await first.insertToken(b);
          const [ra, rb] = await Promise.all([first.deleteToken(a.hash), second.deleteToken(b.hash)]);
          expect([...ra!.sessions, ...rb!.sessions]).toEqual([session]);
        }
      } finally {
        for (const s of opened.splice(0)) await s.close();
        await schema.drop();
      }
    });

    it('gives two concurrent reapers disjoint batches', async () => {
      const schema = await createTestSchema(database.uri);
      const first = await openStore(schema.uri, {});
      const second = await openStore(schema.uri, {});
      opened.push(first, second);
      try {
        await first.migrate();
        const t = await first.createTenant(tenantData());
        const hashes: string[] = [];
        await first.transaction(async (tx) => {
          for (let i = 0; i < 200; i++) {
            const s = sessionData(t.uuid, null);
            await tx.createSession(s);
            const token = tokenData(s, { expiresAt: NOW - i });
            await tx.insertToken(token);
            hashes.push(token.hash);
          }
        });
        const removals = await Promise.all([first, second, first, second].map((s) => s.deleteExpired(NOW, 60)));
        const reaped = removals.flatMap((r) => r.tokenHashes);
        expect(new Set(reaped).size).toBe(reaped.length);
        expect(removals.flatMap((r) => r.sessions)).toHaveLength(reaped.length);
        const rest = await first.deleteExpired(NOW, 1000);
        expect([...reaped, ...rest.tokenHashes].sort()).toEqual(hashes.sort());
      } finally {
        for (const s of opened.splice(0)) await s.close();
        await schema.drop();
      }
    });
  });
});

it('refuses a db_uri with an unknown scheme', async () => {
  await expect(openStore('mysql://root:secret@localhost/auth', {})).rejects.toThrow(/unsupported db_uri scheme "mysql"/);
  const err = await rejection(openStore('mysql://root:secret@localhost/auth', {}));
  expect((err as Error).message).not.toContain('secret');
  await expect(openStore('sqlite:', {})).rejects.toThrow(/needs a path/);
});

// ---- LDAP configuration (issue 6), on both engines

describe.each(['sqlite', 'postgresql'] as const)('Store contract, LDAP configuration: %s', (engine) => {
  let store: Store;
  let done: () => Promise<void>;
  let pgDatabase: TestDatabase | null = null;

  beforeAll(async () => {
    if (engine === 'postgresql') pgDatabase = await createTestDatabase();
  });
  afterAll(async () => {
    await pgDatabase?.drop();
  });
  beforeEach(async () => {
    if (engine === 'sqlite') {
      const opened = await openSqlite();
      store = opened.store;
      done = opened.cleanup;
    } else {
      const schema = await createTestSchema((pgDatabase as TestDatabase).uri);
      store = await openStore(schema.uri, {});
      done = async () => {};
    }
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    await done();
  });

  const ldap = (tenantUuid: string) => ({
    tenantUuid,
    host: 'ldap.example.com',
    port: 636,
    protocolVersion: 3,
    protocolSecurity: 'ldaps' as const,
    bindDn: 'cn=svc,dc=example,dc=com',
    bindPassword: 'pw ✓',
    userBaseDn: 'ou=people,dc=example,dc=com',
    userLoginAttribute: 'uid',
    userEmailAttribute: 'mail',
    searchFilters: '(&(objectClass=person)({user_login_attribute}={username}))',
  });

  it("puts, replaces, reads and deletes a tenant's configuration", async () => {
    const t = await store.createTenant(tenantData());
    expect(await store.getLdapConfig(t.uuid)).toBeNull();
    expect(await store.putLdapConfig(ldap(t.uuid))).toEqual(ldap(t.uuid));
    expect(await store.getLdapConfig(t.uuid)).toEqual(ldap(t.uuid));
    const plain = { ...ldap(t.uuid), port: 389, protocolSecurity: null, bindDn: null, bindPassword: null, searchFilters: null };
    expect(await store.putLdapConfig(plain)).toEqual(plain);
    expect(await store.getLdapConfig(t.uuid)).toEqual(plain);
    expect(await store.deleteLdapConfig(t.uuid)).toBe(true);
    expect(await store.deleteLdapConfig(t.uuid)).toBe(false);
    expect(await store.getLdapConfig(t.uuid)).toBeNull();
  });

  it('refuses a configuration for an unknown tenant; it goes with its tenant', async () => {
    expect(await rejection(store.putLdapConfig(ldap(randomUUID())))).toBeInstanceOf(StoreConflictError);
    const t = await store.createTenant(tenantData());
    await store.putLdapConfig(ldap(t.uuid));
    await store.deleteTenant(t.uuid);
    expect(await store.getLdapConfig(t.uuid)).toBeNull();
  });

  it('finds a tenant by domain name (case-insensitive) or slug', async () => {
    const a = await store.createTenant(tenantData({ slug: 'acme', domainNames: ['acme.example.com', 'Acme.Org'] }));
    await store.createTenant(tenantData({ slug: 'other', domainNames: ['other-acme.example.com', 'xacme.org'] }));
    expect((await store.findTenantByDomainName('ACME.example.com'))?.uuid).toBe(a.uuid);
    expect((await store.findTenantByDomainName('acme.org'))?.uuid).toBe(a.uuid);
    for (const miss of ['example.com', 'acme', '%', 'acme.example.co_', '"acme.org"']) {
      expect(await store.findTenantByDomainName(miss), miss).toBeNull();
    }
    expect((await store.findTenantBySlug('acme'))?.uuid).toBe(a.uuid);
    expect(await store.findTenantBySlug('nope')).toBeNull();
  });

  it('finds a user of one tenant by email (confirmed or not), else by username', async () => {
    const t = await store.createTenant(tenantData());
    const other = await store.createTenant(tenantData());
    const byMail = await store.createUser(
      userData(t.uuid, { username: 'local-alice', emailAddress: 'Alice@Example.com', emailConfirmed: false }),
    );
    const byName = await store.createUser(userData(t.uuid, { username: 'Carol', emailAddress: null }));
    await store.createUser(userData(other.uuid, { username: 'bob', emailAddress: 'bob@example.com' }));
    expect((await store.findTenantUser(t.uuid, { email: 'alice@example.COM', username: 'carol' }))?.uuid).toBe(byMail.uuid);
    expect((await store.findTenantUser(t.uuid, { email: 'unknown@example.com', username: 'CAROL' }))?.uuid).toBe(byName.uuid);
    expect((await store.findTenantUser(t.uuid, { email: null, username: 'carol' }))?.uuid).toBe(byName.uuid);
    expect(await store.findTenantUser(t.uuid, { email: 'bob@example.com', username: 'bob' })).toBeNull();
    expect(await store.findTenantUser(t.uuid, { email: '', username: null })).toBeNull();
  });
});

// ---- security (issue 7): login-throttle counters, audit records, re-hashing

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
      let cleanup: () => Promise<void>;
      let tenant: Tenant;

      beforeAll(async () => {
        ({ store, cleanup } = await open());
        await store.migrate();
        tenant = await store.createTenant(tenantData({ name: 'master', slug: 'master' }));
      });
      afterAll(async () => {
        await cleanup();
      });

      it('counts attempts, then refuses them until the delay has passed, doubling up to the cap', async () => {
        const results = [];
        for (let i = 0; i < 4; i++) results.push(await store.reserveLoginAttempt('k1', NOW, rule()));
        expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
        expect(results[2]).toEqual({ allowed: true, failures: 3, attempts: 3, nextAttemptAt: NOW + 1000 });
        expect(results[3]).toEqual({ allowed: false, failures: 3, attempts: 4, nextAttemptAt: NOW + 1000 });
        const after = await store.reserveLoginAttempt('k1', NOW + 1000, rule());
        expect(after).toEqual({ allowed: true, failures: 4, attempts: 5, nextAttemptAt: NOW + 3000 });
        let at = NOW + 3000;
        const next = [];
        for (let i = 0; i < 3; i++) {
          const r = await store.reserveLoginAttempt('k1', at, rule());
          next.push(r.nextAttemptAt - at);
          at = r.nextAttemptAt;
        }
        expect(next).toEqual([4000, 4000, 4000]);
        expect(await store.getLoginAttempts('k1')).toMatchObject({ failures: 7 });
      });

      it('counts 50 concurrent attempts exactly, letting no more than the threshold through', async () => {
        const results = await Promise.all(
          Array.from({ length: 50 }, () => store.reserveLoginAttempt('race', NOW, rule({ threshold: 5 }))),
        );
        expect(results.filter((r) => r.allowed)).toHaveLength(5);
        expect(new Set(results.map((r) => r.attempts)).size).toBe(50);
        expect(await store.getLoginAttempts('race')).toEqual({
          allowed: false,
          failures: 5,
          attempts: 50,
          nextAttemptAt: NOW + 1000,
        });
      });

      it('starts a stale counter again, gives a failure back, clears counters', async () => {
        for (let i = 0; i < 3; i++) await store.reserveLoginAttempt('k2', NOW, rule());
        const fresh = await store.reserveLoginAttempt('k2', NOW + 48 * HOUR, rule({ staleBefore: NOW + 24 * HOUR }));
        expect(fresh).toEqual({ allowed: true, failures: 1, attempts: 1, nextAttemptAt: 0 });
        await store.reserveLoginAttempt('k3', NOW, rule());
        await store.reserveLoginAttempt('k3', NOW, rule());
        await store.releaseLoginAttempt('k3');
        expect(await store.getLoginAttempts('k3')).toMatchObject({ failures: 1, attempts: 2 });
        await store.clearLoginFailures(['k2', 'k3', 'unknown']);
        expect(await store.getLoginAttempts('k2')).toBeNull();
        expect(await store.getLoginAttempts('k3')).toBeNull();
      });

      it('keeps dated marks and purges by prefix and age', async () => {
        await store.touchLoginMark('t:mark', NOW);
        expect(await store.hasLoginMark('t:mark', NOW - HOUR)).toBe(true);
        expect(await store.hasLoginMark('t:mark', NOW + 1)).toBe(false);
        expect(await store.hasLoginMark('t:none', 0)).toBe(false);
        await store.reserveLoginAttempt('p:old', NOW - 10 * HOUR, rule());
        await store.reserveLoginAttempt('p:new', NOW, rule());
        expect(await store.purgeLoginThrottle('p:', NOW - HOUR)).toBe(1);
        expect(await store.getLoginAttempts('p:old')).toBeNull();
        expect(await store.getLoginAttempts('p:new')).not.toBeNull();
        expect(await store.purgeLoginThrottle('t:', NOW + 1)).toBe(1);
        expect(await store.hasLoginMark('t:mark', 0)).toBe(false);
      });

      it('lists the counters backing off and deletes one (issue 25)', async () => {
        for (let i = 0; i < 3; i++) await store.reserveLoginAttempt('p:blocked', NOW, rule({ threshold: 1 }));
        await store.reserveLoginAttempt('a:blocked', NOW, rule({ threshold: 1, delaysMs: [60_000] }));
        await store.reserveLoginAttempt('p:free', NOW, rule());
        await store.touchLoginMark('t:mark', NOW);
        const blocked = await store.listBlockedLogins(NOW, 10);
        expect(blocked.map((b) => b.key)).toEqual(['a:blocked', 'p:blocked']);
        expect(blocked[1]).toMatchObject({ failures: 1, attempts: 3, updatedAt: NOW });
        expect(blocked[0].nextAttemptAt).toBe(NOW + 60_000);
        expect(await store.listBlockedLogins(NOW + 60_000, 10)).toEqual([]);
        expect((await store.listBlockedLogins(NOW, 1)).length).toBe(1);
        expect(await store.deleteLoginThrottle('p:blocked')).toBe(true);
        expect(await store.deleteLoginThrottle('p:blocked')).toBe(false);
        expect(await store.getLoginAttempts('p:blocked')).toBeNull();
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
        for (let i = 0; i < 6; i++) await store.insertAuditRecord(record(i, tenant.uuid));
        await store.insertAuditRecord(record(10, other.uuid, 'login'));
        await store.insertAuditRecord(record(11, null, 'login'));
        const own = await store.listAuditRecords({ tenantUuids: [tenant.uuid], includeUntenanted: false }, {});
        expect(own.total).toBe(6);
        expect(own.items.map((r) => r.at)).toEqual([5, 4, 3, 2, 1, 0].map((i) => NOW + i * 1000));
        expect(own.items[0]).toMatchObject({ tenantUuid: tenant.uuid, details: { i: 5, nested: { ok: true } }, statusCode: 200 });
        const page = await store.listAuditRecords(
          { tenantUuids: [tenant.uuid], includeUntenanted: false },
          { limit: 2, offset: 2 },
        );
        expect(page.items.map((r) => r.targetId)).toEqual(['t-3', 't-2']);
        const asc = await store.listAuditRecords(
          { tenantUuids: [tenant.uuid], includeUntenanted: false },
          { order: 'at', direction: 'asc', limit: 1 },
        );
        expect(asc.items[0].targetId).toBe('t-0');
        const all = await store.listAuditRecords(
          { tenantUuids: [tenant.uuid, other.uuid], includeUntenanted: true },
          { search: 'LOGIN' },
        );
        expect(all.total).toBe(8);
        expect(all.filtered).toBe(2 + 3);
        expect(
          (await store.listAuditRecords({ tenantUuids: [], includeUntenanted: true }, {})).items.map((r) => r.tenantUuid),
        ).toEqual([null]);
        expect((await store.listAuditRecords({ tenantUuids: [], includeUntenanted: false }, {})).total).toBe(0);
        expect(await store.purgeAuditRecords(NOW + 3000, 2)).toBe(2);
        expect(await store.purgeAuditRecords(NOW + 3000, 100)).toBe(1);
        expect((await store.listAuditRecords({ tenantUuids: [tenant.uuid], includeUntenanted: false }, {})).total).toBe(3);
      });

      it('replaces a password hash only if it is still the expected one', async () => {
        const user = await store.createUser(userData(tenant.uuid));
        expect(await store.replacePasswordHash(user.uuid, 'not-the-hash', 'new')).toBe(false);
        expect((await store.getUser(user.uuid))!.passwordHash).toBe(user.passwordHash);
        expect(await store.replacePasswordHash(user.uuid, user.passwordHash!, '$argon2id$new')).toBe(true);
        expect((await store.getUser(user.uuid))!.passwordHash).toBe('$argon2id$new');
      });
    });
  }
});
