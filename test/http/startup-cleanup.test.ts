// Issue 19, item 4: a start-up that fails half-way closes everything it had
// opened: hashing threads, the SQLite purge and checkpoint threads and file,
// the PostgreSQL pool and revocation listener, the HTTP app, not just the
// store. Checked from the outside: the process's threads and file
// descriptors (Linux /proc) are back to what they were, and PostgreSQL holds
// no connection of the service's any more.
import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService } from '../../src/main.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js';
import { testConfig } from '../helpers/service.js';
import { tempSqliteUri } from '../helpers/sqlite.js';
import { until } from '../helpers/until.js';

const silent = pino({ level: 'silent' });
const threads = () => readdirSync('/proc/self/task').length;
const fds = () => readdirSync('/proc/self/fd').length;

async function connectionsTo(database: string): Promise<number> {
  const admin = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where datname = $1 and application_name like 'xivo-auth%'`,
      [database],
    );
    return rows[0].n;
  } finally {
    await admin.end();
  }
}

/** Waits for threads and descriptors to come back to the baseline (threads end asynchronously). */
async function expectBackTo(baseline: { threads: number; fds: number }): Promise<void> {
  await until(() => threads() <= baseline.threads && fds() <= baseline.fds, 'threads and descriptors released', 10_000).catch(
    () => undefined,
  );
  expect({ threads: threads(), fds: fds() }).toEqual(baseline);
}

describe('a start-up that fails half-way leaves nothing open', () => {
  let database: TestDatabase;
  let taken: Server;
  let takenPort: number;
  let baseline: { threads: number; fds: number };

  beforeAll(async () => {
    database = await createTestDatabase();
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    takenPort = (taken.address() as { port: number }).port;
    // Warm up what the process keeps once used (libuv's thread pool, V8's
    // threads, the pg and better-sqlite3 modules): one full start and stop
    // on each engine.
    for (const uri of [tempSqliteUri(), null]) {
      const service = await createService(
        testConfig(uri?.uri ?? database.uri, { password_hashing: { max_concurrent: 2 } }),
        silent,
      );
      await service.listen();
      await service.close();
      uri?.cleanup();
    }
    await until(() => connectionsTo(new URL(database.uri).pathname.slice(1)).then((n) => n === 0), 'warm-up connections closed');
    await new Promise((r) => setTimeout(r, 200));
    baseline = { threads: threads(), fds: fds() };
  });

  afterAll(async () => {
    await new Promise((resolve) => taken?.close(resolve));
    await database?.drop();
  });

  it('SQLite: a missing TLS certificate fails createService after the threads are up; they are all closed', async () => {
    const sqlite = tempSqliteUri();
    try {
      const config = testConfig(sqlite.uri, {
        password_hashing: { max_concurrent: 2 },
        rest_api: { certificate: '/nonexistent/cert.pem', private_key: '/nonexistent/key.pem' },
      });
      await expect(createService(config, silent)).rejects.toThrow(/ENOENT/);
      await expectBackTo(baseline);
    } finally {
      sqlite.cleanup();
    }
  });

  it('PostgreSQL: a taken port fails listen(); the pool, the listener and the threads are all closed', async () => {
    const service = await createService(
      testConfig(database.uri, {
        password_hashing: { max_concurrent: 2 },
        rest_api: { listen: '127.0.0.1', port: takenPort },
      }),
      silent,
    );
    const name = new URL(database.uri).pathname.slice(1);
    await until(() => connectionsTo(name).then((n) => n > 0), 'the service connected');
    await expect(service.listen()).rejects.toThrow(/EADDRINUSE/);
    await until(() => connectionsTo(name).then((n) => n === 0), 'no connection left', 10_000);
    await expectBackTo(baseline);
  });

  it('SQLite: a taken port fails listen(); the purge and checkpoint threads and the file are closed', async () => {
    const sqlite = tempSqliteUri();
    try {
      const service = await createService(
        testConfig(sqlite.uri, {
          password_hashing: { max_concurrent: 2 },
          rest_api: { listen: '127.0.0.1', port: takenPort },
        }),
        silent,
      );
      expect(threads()).toBeGreaterThan(baseline.threads);
      await expect(service.listen()).rejects.toThrow(/EADDRINUSE/);
      await expectBackTo(baseline);
    } finally {
      sqlite.cleanup();
    }
  });
});
