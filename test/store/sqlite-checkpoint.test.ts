// WAL checkpoints run on a thread of their own, not in the service's commits
// (src/store/sqlite/checkpoint-thread.ts).
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteDialect } from '../../src/store/sqlite/sqlite-store-dialect.js';
import { sql } from 'kysely';
import { tempSqliteUri, type TempSqlite } from '../helpers/sqlite.js';
import { ownThreads } from '../helpers/threads.js';
import { until } from '../helpers/until.js';

describe('SQLite WAL checkpoints', () => {
  let temp: TempSqlite | null = null;
  afterEach(() => {
    temp?.cleanup();
    temp = null;
  });

  it("are taken by a niced thread, so the service's commits do not find 1,000 pages in the WAL", async () => {
    temp = tempSqliteUri();
    const dialect = openSqliteDialect(temp.path);
    try {
      // The service's connection never gets to its automatic checkpoint (the backstop).
      await sql`PRAGMA wal_autocheckpoint = 0`.execute(dialect.db);
      await until(() => ownThreads().some((t) => t.name === 'wal-checkpoint'), 'the checkpoint thread');
      const thread = ownThreads().find((t) => t.name === 'wal-checkpoint');
      expect(thread?.nice).toBe(5);

      // ~4 MiB written: with no checkpoint at all it would all stay in the WAL.
      await sql`CREATE TABLE filler (v TEXT NOT NULL)`.execute(dialect.db);
      const row = 'x'.repeat(4000);
      for (let i = 0; i < 1000; i++) await sql`INSERT INTO filler (v) VALUES (${row})`.execute(dialect.db);
      await until(() => statSync(temp!.path).size > 4_000_000, 'the pages copied into the database file', 5000);
    } finally {
      await dialect.db.destroy();
    }
    // The thread ends with the store.
    await until(() => !ownThreads().some((t) => t.name === 'wal-checkpoint'), 'the checkpoint thread to end');
    const check = new Database(temp.path, { readonly: true });
    try {
      expect(check.prepare('SELECT count(*) AS n FROM filler').get()).toEqual({ n: 1000 });
    } finally {
      check.close();
    }
  });

  it('have ended when the store is closed: nothing touches the files afterwards (they can be removed at once)', async () => {
    temp = tempSqliteUri();
    const dialect = openSqliteDialect(temp.path);
    await sql`CREATE TABLE filler (v TEXT NOT NULL)`.execute(dialect.db);
    for (let i = 0; i < 50; i++) await sql`INSERT INTO filler (v) VALUES (${'x'.repeat(1000)})`.execute(dialect.db);
    await until(() => ownThreads().some((t) => t.name === 'wal-checkpoint'), 'the checkpoint thread');
    await dialect.db.destroy();
    // The last connection to close (the thread's) removes the WAL and its index.
    expect(ownThreads().some((t) => t.name === 'wal-checkpoint')).toBe(false);
    expect(readdirSync(path.dirname(temp.path)).filter((f) => f.startsWith(path.basename(temp!.path)))).toEqual([
      path.basename(temp.path),
    ]);
  });
});
