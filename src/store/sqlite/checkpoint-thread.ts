// WAL checkpoints of a SQLite database file, on a worker thread.
//
// SQLite checkpoints inside the commit that makes the WAL reach 1,000 pages:
// on the connection that committed, i.e. on the event loop's thread, and the
// checkpoint ends with an fsync of the database file. During the login
// benchmark those commits took up to 22 ms (against 0.2 ms for the others)
// and were the largest event-loop stalls. This thread, with a connection of
// its own, runs a PASSIVE checkpoint (it never waits for readers or writers)
// every `intervalMs`: SQLite restarts the WAL from the beginning once a
// checkpoint has copied it all, so the service's commits seldom find 1,000
// pages in it. That automatic checkpoint stays on as the backstop (with
// wal_autocheckpoint = 0 on the service's connection, the token purge
// thread's writes were refused with SQLITE_BUSY under a stream of the
// service's writes: test/http/sqlite-purge-thread.test.ts).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { askToEnd, BACKGROUND_THREAD_PRELUDE } from '../../threads/background.js';

const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
` + BACKGROUND_THREAD_PRELUDE + String.raw`
let db;
try {
  db = new Database(workerData.path, { fileMustExist: true, timeout: workerData.busyTimeoutMs });
  db.pragma('synchronous = NORMAL');
} catch {
  // The file went away (a store closed right after it opened): nothing to checkpoint.
  process.exit(0);
}
const checkpoint = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or locked: the next tick retries */ }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (msg) => {
  if (msg !== 'close') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

export interface CheckpointThreadOptions {
  /** Time between two checkpoints. Default 200 ms. */
  intervalMs?: number;
  busyTimeoutMs?: number;
  /** Nice value of the thread (Linux). Default 5. */
  niceness?: number;
}

export class SqliteCheckpointThread {
  private worker: Worker | null;

  constructor(path: string, options: CheckpointThreadOptions = {}) {
    const require = createRequire(import.meta.url);
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      name: 'xivo-auth sqlite checkpoint',
      workerData: {
        driver: require.resolve('better-sqlite3'),
        path,
        intervalMs: options.intervalMs ?? 200,
        busyTimeoutMs: options.busyTimeoutMs ?? 5000,
        threadName: 'wal-checkpoint',
        niceness: options.niceness ?? 5,
      },
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
    });
    // It must not keep the process alive. If it dies, the service's commits
    // checkpoint as SQLite does by default.
    this.worker.unref();
    this.worker.once('exit', () => { this.worker = null; });
    // Best effort: a thread that fails leaves the backstop (the commits' own checkpoint).
    this.worker.on('error', () => { this.worker = null; });
  }

  /** A last checkpoint, then the thread ends. */
  close(): void {
    const worker = this.worker;
    if (worker === null) return;
    this.worker = null;
    askToEnd(worker);
  }
}
