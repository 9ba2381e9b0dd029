// What every background worker thread of the service does first (the worker
// sources are JavaScript strings evaluated with `eval: true`, so that they run
// the same from dist/ and from the TypeScript sources under the tests).
//
// Linux, best effort: name the thread (`top -H`, `ps -L` show it) and lower
// its priority below the event loop's. Threads are scheduled one by one and
// setpriority() accepts a thread id, read from /proc/thread-self. The worker's
// workerData carries `threadName` (at most 15 bytes) and `niceness`.
export const BACKGROUND_THREAD_PRELUDE = String.raw`
{
  const { readlinkSync, writeFileSync } = require('node:fs');
  const { setPriority } = require('node:os');
  const { workerData: setup } = require('node:worker_threads');
  try { writeFileSync('/proc/thread-self/comm', setup.threadName); } catch { /* not Linux */ }
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0 && setup.niceness !== 0) setPriority(tid, setup.niceness);
  } catch { /* not Linux, or not allowed */ }
}
`;

/**
 * Asks a background thread to end ('close' message: it finishes what it has,
 * closes its connection and exits), terminating it if it has not after 10 s.
 */
export function askToEnd(worker: import('node:worker_threads').Worker): void {
  worker.postMessage('close');
  const timer = setTimeout(() => { void worker.terminate(); }, 10_000);
  timer.unref();
  worker.once('exit', () => clearTimeout(timer));
}
