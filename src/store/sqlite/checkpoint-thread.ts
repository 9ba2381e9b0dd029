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
import { Worker } from 'node:worker_threads';
import { askToEnd, type BackgroundThreadData } from '../../threads/background.js';
import { workerModule } from '../../threads/worker-module.js';

/** What the thread's module (./checkpoint-worker.ts) is started with. */
export interface CheckpointWorkerData extends BackgroundThreadData {
  path: string;
  intervalMs: number;
  busyTimeoutMs: number;
}

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
    this.worker = new Worker(workerModule(import.meta.url, './checkpoint-worker.js'), {
      name: 'xivo-auth sqlite checkpoint',
      workerData: {
        path,
        intervalMs: options.intervalMs ?? 200,
        busyTimeoutMs: options.busyTimeoutMs ?? 5000,
        threadName: 'wal-checkpoint',
        niceness: options.niceness ?? 5,
      } satisfies CheckpointWorkerData,
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
    });
    // It must not keep the process alive. If it dies, the service's commits
    // checkpoint as SQLite does by default.
    this.worker.unref();
    this.worker.once('exit', () => {
      this.worker = null;
    });
    // Best effort: a thread that fails leaves the backstop (the commits' own checkpoint).
    this.worker.on('error', () => {
      this.worker = null;
    });
  }

  /**
   * A last checkpoint, then the thread ends; resolves when it has (its
   * connection closed: the files may then be moved or removed).
   */
  close(): Promise<void> {
    const worker = this.worker;
    if (worker === null) return Promise.resolve();
    this.worker = null;
    const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Referenced while it ends: an unreferenced thread would let a process
    // with nothing else left to do exit before the close resolves (and
    // before whatever the caller does after it, such as logging "stopped").
    worker.ref();
    askToEnd(worker);
    return ended;
  }
}
