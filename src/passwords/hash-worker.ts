// The module of a password hashing thread (./hash-threads.ts): argon2id
// hashes and verifications, and the PBKDF2 verification of the hashes
// imported from wazo-auth (./pbkdf2.ts), one job at a time.
import { Algorithm, hashSync, verifySync } from '@node-rs/argon2';
import { pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { enterBackground, type BackgroundThreadData } from '../threads/background.js';
import type { HashJob, HashReply } from './hash-threads.js';

enterBackground(workerData as BackgroundThreadData);

/** An imported wazo-auth hash: derive, then compare in constant time. */
function verifyPbkdf2(job: Extract<HashJob, { op: 'pbkdf2-sha512' }>): boolean {
  const expected = Buffer.from(job.key);
  const derived = pbkdf2Sync(job.password, Buffer.from(job.salt), job.iterations, expected.length, 'sha512');
  return timingSafeEqual(derived, expected);
}

function run(job: HashJob): string | boolean {
  switch (job.op) {
    case 'hash':
      return hashSync(job.password, { algorithm: Algorithm.Argon2id, ...job.options });
    case 'verify':
      return verifySync(job.hash, job.password);
    case 'pbkdf2-sha512':
      return verifyPbkdf2(job);
  }
}

const port = parentPort!;
port.on('message', (job: HashJob & { id: number }) => {
  let reply: HashReply;
  try {
    reply = { id: job.id, value: run(job) };
  } catch (err) {
    reply = { id: job.id, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
