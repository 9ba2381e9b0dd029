// What every background worker thread of the service shares: the setup it
// runs first, and how the main thread asks it to end.
//
// Linux, best effort: name the thread (`top -H`, `ps -L` show it) and lower
// its priority below the event loop's. Threads are scheduled one by one and
// setpriority() accepts a thread id, read from /proc/thread-self.
import { readlinkSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { Worker } from 'node:worker_threads';

/** The part of a background thread's workerData this module reads. */
export interface BackgroundThreadData {
  /** At most 15 bytes (the kernel's limit). */
  threadName: string;
  /** Nice value; 0 keeps the event loop's priority. */
  niceness: number;
}

/** Run first by each worker module, with its workerData. */
export function enterBackground(setup: BackgroundThreadData): void {
  try {
    writeFileSync('/proc/thread-self/comm', setup.threadName);
  } catch {
    // Not Linux.
  }
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0 && setup.niceness !== 0) setPriority(tid, setup.niceness);
  } catch {
    // Not Linux, or not allowed.
  }
}

/**
 * Asks a background thread to end ('close' message: it finishes what it has,
 * closes its connection and exits), terminating it if it has not after 10 s.
 */
export function askToEnd(worker: Worker): void {
  worker.postMessage('close');
  const timer = setTimeout(() => {
    void worker.terminate();
  }, 10_000);
  timer.unref();
  worker.once('exit', () => clearTimeout(timer));
}
