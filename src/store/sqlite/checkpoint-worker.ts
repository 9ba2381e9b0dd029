// The module of the WAL checkpoint thread (./checkpoint-thread.ts): a
// connection of its own, a PASSIVE checkpoint every intervalMs, a last one
// when asked to close.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { enterBackground } from '../../threads/background.js';
import type { CheckpointWorkerData } from './checkpoint-thread.js';

const setup = workerData as CheckpointWorkerData;
enterBackground(setup);

let db: Database.Database;
try {
  db = new Database(setup.path, { fileMustExist: true, timeout: setup.busyTimeoutMs });
  db.pragma('synchronous = NORMAL');
} catch {
  // The file went away (a store closed right after it opened): nothing to checkpoint.
  process.exit(0);
}

function checkpoint(): void {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or locked: the next tick retries.
  }
}

const timer = setInterval(checkpoint, setup.intervalMs);
const port = parentPort!;
port.on('message', (msg: unknown) => {
  if (msg !== 'close') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  port.close();
});
