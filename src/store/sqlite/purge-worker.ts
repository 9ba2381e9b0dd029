// The module of the SQLite purge thread (./purge-thread.ts): the
// store's own expiry statements (../store/expiry.ts) and event
// (sessionDeleted, ../events/catalog.ts) over a connection of its own, in
// short write transactions with pauses between them.
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { parentPort, workerData } from 'node:worker_threads';
import { sessionDeleted } from '../../events/catalog.js';
import type { DatabaseSchema } from '../database-schema.js';
import { deleteExpiredTokens, insertOutbox } from '../expiry.js';
import type { ExpiredRemoval } from '../../tokens/types.js';
import { enterBackground } from '../../threads/background.js';
import type { PurgeReply, PurgeRequest, PurgeWorkerData } from './purge-thread.js';

const setup = workerData as PurgeWorkerData;
enterBackground(setup);

const sqlite = new Database(setup.path, { fileMustExist: true, timeout: setup.busyTimeoutMs });
sqlite.pragma(`busy_timeout = ${setup.busyTimeoutMs}`);
sqlite.pragma('foreign_keys = ON');
sqlite.pragma('synchronous = NORMAL');
const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: sqlite }) });

/**
 * One write transaction: BEGIN IMMEDIATE takes the write lock first (a
 * deferred BEGIN could fail to upgrade its read lock under the service's
 * writes). Events are stamped with the reaper's clock (`now`).
 */
function purgeChunk(now: number, limit: number): Promise<ExpiredRemoval> {
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const removal = await deleteExpiredTokens(conn, false, now, limit);
      if (setup.recordEvents) await insertOutbox(conn, removal.sessions.map(sessionDeleted), now);
      await sql`commit`.execute(conn);
      return removal;
    } catch (err) {
      if (sqlite.inTransaction) await sql`rollback`.execute(conn);
      throw err;
    }
  });
}

const pause = new Int32Array(new SharedArrayBuffer(4));
const MIN_CHUNK = 10;
let chunk = 100;
const port = parentPort!;

// Each chunk is posted as soon as it is committed, its hashes as one
// string: the main thread decodes small messages, never one large one that
// would stall its event loop.
async function purge(id: number, now: number, limit: number): Promise<void> {
  let deleted = 0;
  while (deleted < limit) {
    const want = Math.min(chunk, limit - deleted);
    const started = performance.now();
    const removal = await purgeChunk(now, want);
    const held = performance.now() - started;
    deleted += removal.tokenHashes.length;
    if (removal.tokenHashes.length > 0) {
      port.postMessage({ id, hashes: removal.tokenHashes.join('\n'), sessions: removal.sessions } satisfies PurgeReply);
    }
    if (removal.tokenHashes.length < want) break;
    // Aim at half the budget: chunks vary, the budget is a ceiling.
    const next = Math.floor((chunk * (setup.maxHoldMs / 2)) / Math.max(held, 0.01));
    chunk = Math.max(MIN_CHUNK, Math.min(next, chunk * 2));
    // Leave the write lock free as long as it was held (at least 1 ms, at
    // most the budget): a writer of the service sleeping in its busy handler
    // retries within that.
    Atomics.wait(pause, 0, 0, Math.min(setup.maxHoldMs, Math.max(1, held)));
  }
}

// Requests are served one after the other, in order ('close' after them).
let queue = Promise.resolve();
port.on('message', (msg: PurgeRequest | 'close') => {
  queue = queue.then(async () => {
    if (msg === 'close') {
      await db.destroy();
      port.close();
      return;
    }
    try {
      await purge(msg.id, msg.now, msg.limit);
      port.postMessage({ id: msg.id, done: true } satisfies PurgeReply);
    } catch (err) {
      const e = err as { message?: string; code?: string };
      port.postMessage({ id: msg.id, error: { message: String(e?.message ?? err), code: e?.code } } satisfies PurgeReply);
    }
  });
});
