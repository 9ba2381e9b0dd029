// PostgreSQL: the store's queries run as named prepared statements
// (src/store/postgres/prepared-statements.ts), a bounded set per connection,
// and a statement gone stale after another instance's migration costs one
// 503, not a broken connection.

import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/store/errors.js';
import { createKyselyStore } from '../../src/store/kysely-store.js';
import { openPostgresDialect } from '../../src/store/postgres/postgres-store-dialect.js';
import { StatementNames } from '../../src/store/postgres/prepared-statements.js';
import type { StoreDialect } from '../../src/store/store-dialect.js';
import type { Store } from '../../src/store/types.js';
import { createTestDatabase, createTestSchema } from '../helpers/pg.js';
import type { TestDatabase } from '../helpers/pg.js';

const quiet = { warn: () => undefined, info: () => undefined };

describe('StatementNames', () => {
  it('gives each parameterised text one name, up to its capacity', () => {
    const names = new StatementNames(3);
    const a = names.nameOf('select $1', 1);
    expect(a).not.toBeNull();
    expect(names.nameOf('select $1', 1)).toBe(a);
    const b = names.nameOf('select $1, $2', 2);
    const c = names.nameOf('select $1, $2, $3', 3);
    expect(new Set([a, b, c]).size).toBe(3);
    // Full: new texts run unnamed; known ones keep their names.
    expect(names.nameOf('select $1 + 1', 1)).toBeNull();
    expect(names.nameOf('select $1, $2', 2)).toBe(b);
    expect(names.size).toBe(3);
  });

  it('leaves texts without parameters, and long IN lists, unnamed', () => {
    const names = new StatementNames();
    // pg sends a query without parameters with the simple protocol (scripts, BEGIN/COMMIT).
    expect(names.nameOf('begin', 0)).toBeNull();
    const list = Array.from({ length: 65 }, (_, i) => `$${i + 1}`).join(', ');
    expect(names.nameOf(`select 1 where 1 in (${list})`, 65)).toBeNull();
    expect(names.size).toBe(0);
  });
});

describe('PostgreSQL store: prepared statements', () => {
  let database: TestDatabase;
  let schema: TestDatabase;
  let store: Store;
  let dialect: StoreDialect;
  let admin: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    schema = await createTestSchema(database.uri);
    // One connection: every query below runs on the same server session.
    dialect = openPostgresDialect(schema.uri, { logger: quiet, poolMax: 1 });
    store = createKyselyStore(dialect, quiet);
    await store.migrate();
    admin = new pg.Client({ connectionString: schema.uri });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await store?.close();
    await schema?.drop();
    await database?.drop();
  });

  const preparedOnServer = async (): Promise<string[]> => {
    // Read on the store's own connection: prepared statements are per session.
    const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(dialect.db);
    return rows.map((r) => r.statement);
  };

  it('runs a repeated query as one named statement on the connection', async () => {
    const uuid = randomUUID();
    await store.createTenant({ uuid, name: 'prepared', slug: null, parentUuid: null, domainNames: [] });
    for (let i = 0; i < 3; i++) expect((await store.getTenant(uuid))?.name).toBe('prepared');
    const statements = await preparedOnServer();
    const tenantLookups = statements.filter((s) => /from "tenants"/.test(s) && /"uuid" = \$1/.test(s));
    expect(tenantLookups.length).toBe(1);
  });

  it('answers 503 once when a migration changed a table under a statement, then recovers', async () => {
    const uuid = randomUUID();
    await store.createTenant({ uuid, name: 'before', slug: null, parentUuid: null, domainNames: [] });
    expect((await store.getTenant(uuid))?.name).toBe('before');
    // Another instance's migration: SELECT * now returns one more column.
    await admin.query('ALTER TABLE tenants ADD COLUMN extra_for_test text');
    await expect(store.getTenant(uuid)).rejects.toBeInstanceOf(StoreUnavailableError);
    // The connection holding the stale statement was dropped: a fresh one prepares anew.
    expect((await store.getTenant(uuid))?.name).toBe('before');
    expect((await store.getTenant(uuid))?.name).toBe('before');
  });
});
