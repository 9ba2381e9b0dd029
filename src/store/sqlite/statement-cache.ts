// Kysely's SQLite driver prepares every query anew. Query shapes are few, so
// keeping the prepared statements saves the parse on each call (notably on
// the token lookup of every check).

import type Database from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

const DEFAULT_CAPACITY = 256;

export function withStatementCache(database: Database.Database, capacity = DEFAULT_CAPACITY): SqliteDatabase {
  // A Map keeps insertion order: re-inserting on use makes the first key the
  // least recently used one.
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => {
      statements.clear();
      database.close();
    },
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement !== undefined) {
        statements.delete(sql);
      } else {
        statement = database.prepare(sql);
        if (statements.size >= capacity) {
          const oldest = statements.keys().next().value;
          if (oldest !== undefined) statements.delete(oldest);
        }
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}
