#!/usr/bin/env node
// Raw argon2id hash rate, the ceiling for logins: `concurrency` hashes in
// flight (one per core by default) for `duration` seconds, with the service's
// parameters, through the same library (@node-rs/argon2, libuv thread pool).
// Prints {"hashes", "seconds", "rate", "cpuPerHashUs"}: the process's CPU
// (every thread: the hashes run on libuv's pool) per hash.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Algorithm, hash } from '@node-rs/argon2';

const opts = JSON.parse(process.argv[2] ?? '{}');
const params = {
  algorithm: Algorithm.Argon2id,
  memoryCost: opts.memory_kib ?? 19456,
  timeCost: opts.iterations ?? 2,
  parallelism: opts.parallelism ?? 1,
};
const concurrency = opts.concurrency ?? availableParallelism();
const durationMs = (opts.duration ?? 10) * 1000;

// One untimed hash first: allocator and thread pool warm-up.
await hash('warm-up', params);
let hashes = 0;
const cpuBefore = process.cpuUsage();
const started = performance.now();
const deadline = started + durationMs;
async function worker(n) {
  let i = 0;
  while (performance.now() < deadline) {
    await hash(`bench-password-${n}-${i++}`, params);
    hashes += 1;
  }
}
await Promise.all(Array.from({ length: concurrency }, (_, n) => worker(n)));
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const cpuPerHashUs = hashes > 0 ? (cpu.user + cpu.system) / hashes : null;
process.stdout.write(`${JSON.stringify({ hashes, seconds, rate: hashes / seconds, cpuPerHashUs, concurrency, params: opts })}\n`);
