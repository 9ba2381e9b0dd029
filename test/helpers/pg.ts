// A throw-away PostgreSQL database per test run (or per test that needs one).
// PostgreSQL is required: when it cannot be reached, this throws, never skips.

import { randomBytes } from 'node:crypto';
import pg from 'pg';

const adminUri = process.env.XIVO_AUTH_TEST_PG_ADMIN_URI ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** postgresql:// URI of the new, empty database. */
  uri: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `xivo_auth_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUri);
  url.pathname = `/${name}`;
  return {
    uri: url.toString(),
    async drop() {
      await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/**
 * `uri` with its search_path set to a new schema: a fresh, empty namespace in
 * an existing database, much cheaper than a new database.
 */
export async function createTestSchema(uri: string): Promise<TestDatabase> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  await withClient(uri, (client) => client.query(`CREATE SCHEMA "${name}"`));
  const url = new URL(uri);
  // Tests need no durability: not waiting for the WAL flush makes commits,
  // and so the migration of every fresh schema, much cheaper.
  url.searchParams.set('options', `-c search_path=${name} -c synchronous_commit=off`);
  return {
    uri: url.toString(),
    async drop() {
      await withClient(uri, (client) => client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`));
    },
  };
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withClient(adminUri, fn);
}

async function withClient<T>(uri: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: uri, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is required for the tests: cannot connect to ${redact(uri)} ` +
        `(${(err as Error).message || String(err)}). Start it, or point XIVO_AUTH_TEST_PG_ADMIN_URI at one.`,
      { cause: err },
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function redact(uri: string): string {
  const url = new URL(uri);
  if (url.password) url.password = '***';
  return url.toString();
}
