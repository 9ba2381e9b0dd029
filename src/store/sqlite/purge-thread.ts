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
// The thread's module (./purge-worker.ts) runs the store's own
// statements (src/store/expiry.ts) and event catalogue: nothing is written
// twice.
import { Worker } from 'node:worker_threads';
import { sqlitePath } from '../open-store.js';
import type { Removal, Session } from '../../tokens/types.js';
import { askToEnd, type BackgroundThreadData } from '../../threads/background.js';
import { workerModule } from '../../threads/worker-module.js';

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

/** What the thread's module is started with. */
export interface PurgeWorkerData extends BackgroundThreadData {
  path: string;
  maxHoldMs: number;
  busyTimeoutMs: number;
  recordEvents: boolean;
}

export interface PurgeRequest {
  id: number;
  now: number;
  limit: number;
}
/** A committed chunk (hashes joined by newlines), the end of a request, or its failure. */
export type PurgeReply =
  | { id: number; hashes: string; sessions: Session[] }
  | { id: number; done: true }
  | { id: number; error: { message: string; code?: string } };

interface PendingPurge {
  worker: Worker;
  removal: Removal;
  resolve: (r: Removal) => void;
  reject: (e: Error) => void;
}

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

  constructor(
    private readonly path: string,
    private readonly options: SqlitePurgeOptions = {},
  ) {}

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
    const worker = new Worker(workerModule(import.meta.url, './purge-worker.js'), {
      name: 'xivo-auth token purge',
      workerData: {
        path: this.path,
        maxHoldMs: this.options.maxHoldMs ?? 4,
        busyTimeoutMs: this.options.busyTimeoutMs ?? 5000,
        threadName: 'token-purge',
        niceness: this.options.niceness ?? 19,
        recordEvents: this.options.recordEvents ?? false,
      } satisfies PurgeWorkerData,
    });
    worker.on('message', (reply: PurgeReply) => {
      const request = this.pending.get(reply.id);
      if (request === undefined) return;
      if ('hashes' in reply) {
        const { tokenHashes, sessions } = request.removal;
        for (const hash of reply.hashes.split('\n')) tokenHashes.push(hash);
        for (const session of reply.sessions) sessions.push(session);
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
    worker.on('error', (err) => {
      this.failPending(worker, err);
    });
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
