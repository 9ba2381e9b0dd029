// Both engines for the migration tests: a fresh dialect per suite (SQLite
// file, PostgreSQL schema in one shared test database, dropped after the
// file's tests), and loggers that record what a migration said.
import { afterAll } from 'vitest';
import { openPostgresDialect } from '../../src/store/postgres/postgres-store-dialect.js';
import { openSqliteDialect } from '../../src/store/sqlite/sqlite-store-dialect.js';
import type { StoreDialect } from '../../src/store/store-dialect.js';
import { createTestDatabase, createTestSchema, type TestDatabase } from './pg.js';
import { tempSqliteUri } from './sqlite.js';

export interface Logged {
  level: 'warn' | 'info';
  o: Record<string, unknown>;
  msg?: string;
}

export const QUIET_LOGGER = { warn() {}, info() {} };

/** A logger pushing every warn and info line to `into`. */
export function recordingLogger(into: Logged[]) {
  return {
    warn: (o: object, msg?: string) => {
      into.push({ level: 'warn', o: o as Record<string, unknown>, msg });
    },
    info: (o: object, msg?: string) => {
      into.push({ level: 'info', o: o as Record<string, unknown>, msg });
    },
  };
}

export type OpenDialect = () => Promise<{ dialect: StoreDialect; cleanup(): Promise<void> }>;

/** `[engine name, open]` rows for describe.each; call once per test file. */
export function migrationEngines(): [string, OpenDialect][] {
  let database: TestDatabase | undefined;
  afterAll(async () => {
    await database?.drop();
  });
  return [
    [
      'sqlite',
      async () => {
        const temp = tempSqliteUri();
        return { dialect: openSqliteDialect(temp.path), cleanup: async () => temp.cleanup() };
      },
    ],
    [
      'postgresql',
      async () => {
        database ??= await createTestDatabase();
        const schema = await createTestSchema(database.uri);
        return { dialect: openPostgresDialect(schema.uri, { logger: QUIET_LOGGER }), cleanup: schema.drop };
      },
    ],
  ];
}
