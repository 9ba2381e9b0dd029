#!/usr/bin/env node
// Entry point of the `xivo-auth` command: runs the compiled CLI (npm run build).
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';

// argon2id runs on libuv's thread pool, one hash per core by default
// (src/passwords/hasher.ts); from 4 cores on, libuv's default of 4 threads
// would leave no thread for file writes (logs) and DNS lookups while every
// slot hashes. The
// pool is created on first use, so this must run before anything else: the
// CLI is imported below, after it. An explicit UV_THREADPOOL_SIZE wins.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism() + 3));

// Heap growth: after each full collection V8 lets the heap grow up to ~4× the
// live data before collecting again, sized against its default limit (a
// quarter of RAM, up to 4 GiB). A cache-miss-heavy load (every check reads the
// store) then held 527 MiB of RSS for ~100 MiB of live data (docs/benchmarks.md,
// "RSS"). Growing by HEAP_GROWING_PERCENT instead keeps the heap near its live
// size, for a few more collections. Set before the heap grows; a
// --heap-growing-percent given to node wins.
const HEAP_GROWING_PERCENT = 25;
if (!process.execArgv.some((a) => a.startsWith('--heap-growing-percent'))) {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

const { run } = await import('../dist/cli/main.js');

run(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
