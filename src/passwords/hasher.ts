// argon2id off the event loop, on worker threads below the event loop's CPU
// priority (hash-threads.ts): `max_concurrent` threads (one per core by
// default), each hashing one job and holding the next, and at most `maxQueue`
// jobs waiting; beyond that the caller gets HasherBusyError (503 +
// Retry-After) instead of unbounded latency.
//
// One per core, not one more: with CPUs + 1 slots, 16 concurrent logins on 2
// cores gave the same logins/s (SQLite 74% vs 75% of the raw hash rate,
// PostgreSQL 52% vs 55%) and a worse event-loop delay (max 36 vs 19 ms): the
// cores were not idling between hashes, they were busy with the rest of each
// login (docs/benchmarks.md, "Logins").
import { AtCapacityError } from '../errors.js';
import { availableParallelism } from 'node:os';
import { HashThreads, type Argon2Options } from './hash-threads.js';
import { parsePbkdf2Sha512 } from './pbkdf2.js';
import { traced, tracing } from '../tracing/tracing.js';

export interface HashingParams {
  memory_kib: number;
  iterations: number;
  parallelism: number;
  max_concurrent: number;
  max_queue: number;
  /** Nice value of the hashing threads (Linux); 0 runs them at the event loop's priority. */
  niceness?: number;
}

/** Jobs handed to each hashing thread: the one it hashes and the next one. */
const JOBS_PER_THREAD = 2;

/** Default nice value of the hashing threads: the event loop comes first. */
export const DEFAULT_HASHING_NICENESS = 10;

/** Hashes in flight when `max_concurrent` is 0: one per core. */
export function defaultHashingConcurrency(): number {
  return availableParallelism();
}

/** The hashing queue is full: a domain error (503), so that callers need not know this module. */
export class HasherBusyError extends AtCapacityError {
  constructor() {
    super('Too many password operations in progress', 1);
    this.name = 'HasherBusyError';
  }
}

export class PasswordHasher {
  private readonly options: Argon2Options;
  private readonly threads: HashThreads;
  private readonly maxConcurrent: number;
  private readonly maxQueue: number;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  /** A hash of a random password, verified against when a login has no user, to equalise timing. */
  private dummyHash: Promise<string> | null = null;

  constructor(params: HashingParams) {
    this.options = {
      memoryCost: params.memory_kib,
      timeCost: params.iterations,
      parallelism: params.parallelism,
    };
    const threads = params.max_concurrent > 0 ? params.max_concurrent : defaultHashingConcurrency();
    // Each thread holds its next job while hashing: it starts that job the
    // moment its hash ends, instead of idling until the event loop gets to
    // the reply and hands it one. Still `threads` hashes at a time.
    this.maxConcurrent = threads * JOBS_PER_THREAD;
    this.maxQueue = params.max_queue;
    this.threads = new HashThreads(params.niceness ?? DEFAULT_HASHING_NICENESS, threads);
  }

  async hash(password: string): Promise<string> {
    if (tracing.enabled)
      return traced('password hash', { 'xivo_auth.hash.algorithm': 'argon2id' }, () =>
        this.withSlot(() => this.threads.hash(password, this.options)),
      );
    return this.withSlot(() => this.threads.hash(password, this.options));
  }

  /**
   * False for a malformed stored hash rather than throwing. Besides argon2
   * PHC strings, accepts the PBKDF2-SHA512 hashes imported from wazo-auth
   * (./pbkdf2.ts), which needsRehash always reports.
   */
  async verify(passwordHash: string, password: string): Promise<boolean> {
    if (tracing.enabled) {
      const algorithm = passwordHash.startsWith('$argon2')
        ? 'argon2id'
        : parsePbkdf2Sha512(passwordHash) !== null
          ? 'pbkdf2-sha512'
          : 'unknown';
      return traced('password verify', { 'xivo_auth.hash.algorithm': algorithm }, () =>
        this.verifyUntraced(passwordHash, password),
      );
    }
    return this.verifyUntraced(passwordHash, password);
  }

  private async verifyUntraced(passwordHash: string, password: string): Promise<boolean> {
    const pbkdf2 = parsePbkdf2Sha512(passwordHash);
    return this.withSlot(async () => {
      try {
        if (pbkdf2 !== null) return await this.threads.verifyPbkdf2Sha512(password, pbkdf2.salt, pbkdf2.iterations, pbkdf2.key);
        return await this.threads.verify(passwordHash, password);
      } catch {
        return false;
      }
    });
  }

  /** Spends the same work as a real verification, always failing. */
  async verifyDummy(password: string): Promise<false> {
    if (this.dummyHash === null) {
      this.dummyHash = this.threads.hash(`dummy-${Math.random()}`, this.options);
    }
    const dummy = await this.dummyHash;
    await this.verify(dummy, password);
    return false;
  }

  /** True when the stored hash was made with other parameters than the configured ones. */
  needsRehash(passwordHash: string): boolean {
    const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(passwordHash);
    if (!m) return true;
    return (
      Number(m[1]) !== this.options.memoryCost ||
      Number(m[2]) !== this.options.timeCost ||
      Number(m[3]) !== this.options.parallelism
    );
  }

  /** Ends the hashing threads (service shutdown). */
  close(): Promise<void> {
    return this.threads.close();
  }

  get stats(): { inFlight: number; waiting: number } {
    return { inFlight: this.inFlight, waiting: this.waiting.length };
  }

  private async withSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.maxConcurrent) {
      if (this.waiting.length >= this.maxQueue) throw new HasherBusyError();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.inFlight += 1;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter; inFlight stays the same.
      if (next) next();
      else this.inFlight -= 1;
    }
  }
}
