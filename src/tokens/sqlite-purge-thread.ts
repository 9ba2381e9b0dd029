// The SQLite reaper's deletes, on a worker thread with its own connection.
//
// better-sqlite3 runs every statement on the calling thread: deleting a
// million expired tokens on the event loop's thread, however finely batched,
// stalls the checks served in between (and a WAL checkpoint inside a commit
// can take hundreds of milliseconds). Here a worker thread opens the same
// database file (WAL: the service's readers never wait for it) and deletes in
// short write transactions, pausing between them so that the service's own
// writes (logins) get the single write lock within a few milliseconds instead
// of timing out with SQLITE_BUSY. The main thread receives each batch's
// removal (token hashes, sessions left empty) and evicts them from the cache.
//
// The worker's source is plain JavaScript evaluated from a string, so that it
// runs the same from dist/ and from the TypeScript sources under the tests;
// its SQL is the SQLite form of `deleteExpired` in src/store/kysely-store.ts
// (the contract tests cover both).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { sqlitePath } from '../store/open-store.js';
import { askToEnd, BACKGROUND_THREAD_PRELUDE } from '../threads/background.js';
import { sessionFromRow } from '../store/row-mapping.js';
import type { Removal } from '../store/types.js';

export interface SqlitePurgeOptions {
  /** Longest write transaction of the worker, in ms (about the longest wait of a login's write). Default 4. */
  maxHoldMs?: number;
  /** busy_timeout of the worker's connection, in ms. Default 5000 (as the service's). */
  busyTimeoutMs?: number;
  /**
   * Run the worker thread at this nice value (Linux: per-thread priority;
   * ignored elsewhere). Housekeeping: the threads serving requests preempt it
   * as soon as they wake. At 5 the checks' p99 during a 1,000,000-row purge
   * was 2.7× idle (the purge took a core's slices from the loop and the load
   * generator); at 19, 1.4× with the purge 84 s instead of 60 s on the same
   * machine (docs/benchmarks.md). Under a saturating load it slows down
   * further but still outpaces token creation: a 1.5% share of a core is
   * ~500 rows/s. Default 19.
   */
  niceness?: number;
  /** The thread ends this long after a pass is over (the next pass starts another). Default 5000 ms. */
  idleMs?: number;
  /** amqp.enabled: write auth_session_deleted to the outbox with each session removed. */
  recordEvents?: boolean;
}

interface PurgeRequest { id: number; now: number; limit: number }
/** Session row as the worker returns it: uuid, tenant_uuid, user_uuid, mobile, created_at. */
type SessionRow = [string, string, string | null, number, number];
type PurgeReply =
  | { id: number; hashes: string; sessions: SessionRow[] }
  | { id: number; done: true }
  | { id: number; error: { message: string; code?: string } };

interface PendingPurge {
  worker: Worker;
  removal: Removal;
  resolve: (r: Removal) => void;
  reject: (e: Error) => void;
}

const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
` + BACKGROUND_THREAD_PRELUDE + String.raw`
const db = new Database(workerData.path, { fileMustExist: true, timeout: workerData.busyTimeoutMs });
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
db.pragma('foreign_keys = ON');
db.pragma('synchronous = NORMAL');

const deleteTokens = db.prepare(
  'DELETE FROM tokens WHERE hash IN ' +
  '(SELECT hash FROM tokens WHERE expires_at <= ? ORDER BY expires_at LIMIT ?) ' +
  'RETURNING hash, session_uuid');
const deleteEmptySessions = db.prepare(
  'DELETE FROM sessions WHERE uuid IN (SELECT value FROM json_each(?)) ' +
  'AND NOT EXISTS (SELECT 1 FROM tokens WHERE tokens.session_uuid = sessions.uuid) ' +
  'RETURNING uuid, tenant_uuid, user_uuid, mobile, created_at').raw(true);
// amqp.enabled: each session removed gets its auth_session_deleted in the
// same transaction, in the form of sessionDeleted() in src/events/catalog.ts
// (test/events/events.test.ts compares an expiry's event with a revocation's).
const insertEvent = workerData.recordEvents
  ? db.prepare('INSERT INTO outbox (name, routing_key, tenant_uuid, user_uuid, data, created_at) VALUES (?, ?, ?, ?, ?, ?)')
  : null;
const purgeChunk = db.transaction((now, limit) => {
  const tokens = deleteTokens.all(now, limit);
  const touched = [...new Set(tokens.map((t) => t.session_uuid))];
  const sessions = touched.length === 0 ? [] : deleteEmptySessions.all(JSON.stringify(touched));
  if (insertEvent !== null) {
    const at = Date.now();
    for (const [uuid, tenant_uuid, user_uuid] of sessions) {
      insertEvent.run('auth_session_deleted', 'auth.sessions.' + uuid + '.deleted', tenant_uuid, user_uuid,
        JSON.stringify({ uuid, tenant_uuid, user_uuid }), at);
    }
  }
  return { tokens, sessions };
});

const pause = new Int32Array(new SharedArrayBuffer(4));
const MIN_CHUNK = 10;
let chunk = 100;

// Each chunk is posted as soon as it is committed, in a compact form (one
// string of hashes, session rows as arrays): the main thread decodes small
// messages, never one large one that would stall its event loop.
function purge(id, now, limit) {
  let deleted = 0;
  while (deleted < limit) {
    const want = Math.min(chunk, limit - deleted);
    const started = performance.now();
    const r = purgeChunk.immediate(now, want);
    const held = performance.now() - started;
    deleted += r.tokens.length;
    if (r.tokens.length > 0) {
      parentPort.postMessage({ id, hashes: r.tokens.map((t) => t.hash).join('\n'), sessions: r.sessions });
    }
    if (r.tokens.length < want) break;
    // Aim at half the budget: chunks vary, the budget is a ceiling.
    const next = Math.floor(chunk * (workerData.maxHoldMs / 2) / Math.max(held, 0.01));
    chunk = Math.max(MIN_CHUNK, Math.min(next, chunk * 2));
    // Leave the write lock free as long as it was held (at least 1 ms, at
    // most the budget): a writer of the service sleeping in its busy handler
    // retries within that.
    Atomics.wait(pause, 0, 0, Math.min(workerData.maxHoldMs, Math.max(1, held)));
  }
}

parentPort.on('message', (msg) => {
  if (msg === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    purge(msg.id, msg.now, msg.limit);
    parentPort.postMessage({ id: msg.id, done: true });
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: { message: String(err && err.message || err), code: err && err.code } });
  }
});
`;

/**
 * `deleteExpired` of the store, run on a worker thread over the same SQLite
 * file. The thread starts on the first call, ends `idleMs` after a pass is
 * over (a short batch), and `close()` stops it.
 */
export class SqlitePurgeThread {
  private worker: Worker | null = null;
  /** Every thread not yet exited (a retiring one may still finish its last request). */
  private readonly exits = new Set<Promise<void>>();
  private idleTimer: NodeJS.Timeout | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, PendingPurge>();
  private closed = false;

  constructor(private readonly path: string, private readonly options: SqlitePurgeOptions = {}) {}

  /** Deletes up to `limit` tokens expired at `now`, and the sessions they leave empty. */
  deleteExpired(now: number, limit: number): Promise<Removal> {
    if (limit <= 0) return Promise.resolve({ tokenHashes: [], sessions: [] });
    if (this.closed) return Promise.reject(new Error('token purge thread closed'));
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const worker = this.worker ?? this.spawn();
    const id = this.nextId++;
    return new Promise<Removal>((resolve, reject) => {
      this.pending.set(id, { worker, removal: { tokenHashes: [], sessions: [] }, resolve, reject });
      worker.postMessage({ id, now, limit } satisfies PurgeRequest);
    }).then((removal) => {
      // A short batch ends the reaper's pass: the thread is not needed until
      // the next one, so it ends after a while rather than idling all along.
      if (removal.tokenHashes.length < limit) this.retireWhenIdle();
      return removal;
    });
  }

  /** Whether a worker thread is running (for tests and diagnostics). */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Lets requests in flight finish, then closes the worker's connection and ends the thread. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.retire();
    await Promise.all(this.exits);
  }

  private retireWhenIdle(): void {
    if (this.closed || this.idleTimer !== null) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (![...this.pending.values()].some((p) => p.worker === this.worker)) this.retire();
    }, this.options.idleMs ?? 5000);
    this.idleTimer.unref();
  }

  /** Ends the current thread after the requests it already has (it reads its messages in order). */
  private retire(): void {
    const worker = this.worker;
    if (worker === null) return;
    this.worker = null;
    askToEnd(worker);
  }

  private spawn(): Worker {
    const require = createRequire(import.meta.url);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      name: 'xivo-auth token purge',
      workerData: {
        driver: require.resolve('better-sqlite3'),
        path: this.path,
        maxHoldMs: this.options.maxHoldMs ?? 4,
        busyTimeoutMs: this.options.busyTimeoutMs ?? 5000,
        threadName: 'token-purge',
        niceness: this.options.niceness ?? 19,
        recordEvents: this.options.recordEvents ?? false,
      },
    });
    worker.on('message', (reply: PurgeReply) => {
      const request = this.pending.get(reply.id);
      if (request === undefined) return;
      if ('hashes' in reply) {
        const { tokenHashes, sessions } = request.removal;
        for (const hash of reply.hashes.split('\n')) tokenHashes.push(hash);
        // The one mapping of a session row lives in the store's row-mapping.
        for (const [uuid, tenant_uuid, user_uuid, mobile, created_at] of reply.sessions) {
          sessions.push(sessionFromRow({ uuid, tenant_uuid, user_uuid, mobile, created_at }));
        }
        return;
      }
      this.pending.delete(reply.id);
      if ('error' in reply) {
        request.reject(Object.assign(new Error(`token purge: ${reply.error.message}`), { code: reply.error.code }));
      } else {
        request.resolve(request.removal);
      }
    });
    const exited = new Promise<void>((resolve) => {
      worker.once('exit', () => {
        if (this.worker === worker) this.worker = null;
        this.failPending(worker, new Error('token purge thread exited'));
        this.exits.delete(exited);
        resolve();
      });
    });
    this.exits.add(exited);
    // An error ends the thread ('exit' follows); the next call starts another.
    worker.on('error', (err) => { this.failPending(worker, err); });
    this.worker = worker;
    return worker;
  }

  private failPending(worker: Worker, err: Error): void {
    for (const [id, request] of this.pending) {
      if (request.worker !== worker) continue;
      this.pending.delete(id);
      request.reject(err);
    }
  }
}

/**
 * The purge thread for a `sqlite:<file>` db_uri; null for other engines and
 * for an in-memory database (no file to share: the reaper then deletes on the
 * event loop's thread in short batches).
 */
export function sqlitePurgeThreadFor(dbUri: string, options?: SqlitePurgeOptions): SqlitePurgeThread | null {
  if (!dbUri.startsWith('sqlite:')) return null;
  const file = sqlitePath(dbUri);
  return file === ':memory:' ? null : new SqlitePurgeThread(file, options);
}
