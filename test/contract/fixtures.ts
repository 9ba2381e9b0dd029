// The shared part of the Store contract suites (test/contract/*.contract.test.ts):
// the test data builders, the engine openers, and defineContract, which runs a
// contract on both engines, each test on a fresh database (SQLite: a new file;
// PostgreSQL: a new schema in a database made for the suite), migrated and
// holding a master tenant.

import { randomBytes, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import type { NewUser, Policy, RefreshToken, Session, Store, Tenant, TokenRecord } from '../../src/store/types.js';
import { createTestDatabase, createTestSchema } from '../helpers/pg.js';
import type { TestDatabase } from '../helpers/pg.js';
import { tempSqliteUri } from '../helpers/sqlite.js';

export interface OpenedStore {
  store: Store;
  /** Runs raw SQL beside the store, to look at what it wrote. */
  query(text: string): Promise<Record<string, unknown>[]>;
  cleanup(): Promise<void>;
}

export const NOW = Date.UTC(2026, 0, 1);
export const HOUR = 3_600_000;

// ---- test data

export function tenantData(over: Partial<Tenant> = {}): Tenant {
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

export function userData(tenantUuid: string, over: Partial<NewUser> = {}): NewUser {
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

export function sessionData(tenantUuid: string, userUuid: string | null, over: Partial<Session> = {}): Session {
  return { uuid: randomUUID(), tenantUuid, userUuid, mobile: false, createdAt: NOW, ...over };
}

export function tokenData(session: Session, over: Partial<TokenRecord> = {}): TokenRecord {
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

export function refreshTokenData(userUuid: string, tenantUuid: string, over: Partial<RefreshToken> = {}): RefreshToken {
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

export function policyData(tenantUuid: string, over: Partial<Policy> = {}): Policy {
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

export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

// ---- the engines

export type Engine = 'sqlite' | 'postgresql';

export const ENGINES: readonly Engine[] = ['sqlite', 'postgresql'];

export async function openSqlite(): Promise<OpenedStore> {
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

/** A new schema in the PostgreSQL database at `databaseUri` (dropped with that database). */
export async function openPostgresSchema(databaseUri: string): Promise<OpenedStore> {
  const schema = await createTestSchema(databaseUri);
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
    // Every schema goes with the database after the suite.
    cleanup: async () => {},
  };
}

// ---- running a contract on both engines

/** What a contract's tests reach: read `opened`, `store` and `tenant` in a beforeEach or a test, not when defining. */
export interface ContractContext {
  readonly engine: Engine;
  /** Opens another fresh store on the engine, not migrated; the caller closes and cleans it up. */
  open(): Promise<OpenedStore>;
  /** This test's store, migrated. */
  readonly opened: OpenedStore;
  readonly store: Store;
  /** The master tenant, created before each test. */
  readonly tenant: Tenant;
}

/**
 * Defines `${title}: sqlite` and `${title}: postgresql`, running `body` in
 * each: before each test a fresh store is opened, migrated and given a master
 * tenant; after it the store is closed and its database cleaned up.
 */
export function defineContract(title: string, body: (ctx: ContractContext) => void): void {
  for (const engine of ENGINES) {
    describe(`${title}: ${engine}`, () => {
      let database: TestDatabase | null = null;
      let opened: OpenedStore;
      let tenant: Tenant;

      if (engine === 'postgresql') {
        beforeAll(async () => {
          database = await createTestDatabase();
        });
        afterAll(async () => {
          await database?.drop();
        });
      }

      const open = engine === 'sqlite' ? openSqlite : () => openPostgresSchema((database as TestDatabase).uri);

      beforeEach(async () => {
        opened = await open();
        await opened.store.migrate();
        tenant = await opened.store.createTenant(tenantData({ name: 'master', slug: 'master' }));
      });

      afterEach(async () => {
        await opened.store.close();
        await opened.cleanup();
      });

      body({
        engine,
        open,
        get opened() {
          return opened;
        },
        get store() {
          return opened.store;
        },
        get tenant() {
          return tenant;
        },
      });
    });
  }
}
