// The contract of the Store as a whole (src/store/types.ts Store): its
// migrations, ping and transactions, run against both engines
// (./fixtures.ts defineContract), each test on a fresh database; then what is
// particular to each engine, and the db_uri schemes. The domains' interfaces
// have their own contracts: identity-store, token-store, ldap-config-store
// and security-store (*.contract.test.ts here).

import { randomUUID } from 'node:crypto';
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
import type { Store, Tenant } from '../../src/store/types.js';
import { createTestDatabase, createTestSchema } from '../helpers/pg.js';
import type { TestDatabase } from '../helpers/pg.js';
import { tempSqliteUri } from '../helpers/sqlite.js';
import type { OpenedStore } from './fixtures.js';
import {
  HOUR,
  NOW,
  defineContract,
  openPostgresSchema,
  rejection,
  sessionData,
  tenantData,
  tokenData,
  userData,
} from './fixtures.js';

// ---- the contract

defineContract('Store contract', (ctx) => {
  let opened: OpenedStore;
  let store: Store;
  let tenant: Tenant;

  beforeEach(() => {
    ({ opened, store, tenant } = ctx);
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

// ---- SQLite

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

  const openPostgres = (): Promise<OpenedStore> => openPostgresSchema(database.uri);

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
