// argon2id on worker threads of the service's own, one hash per thread at a
// time, run at a lower CPU priority than the event loop. The same threads
// verify the PBKDF2 hashes imported from wazo-auth (./pbkdf2.ts).
//
// Why not @node-rs/argon2's async functions on libuv's thread pool: those
// threads run at the event loop's priority. With a hash on every core, a
// check or the rest of a login then waits for the scheduler to give the loop a
// core back: the loop was delayed by up to 49 ms during the login benchmark
// (docs/benchmarks.md, "Logins"). Worker threads of our own can be niced (Linux
// schedules threads one by one), so the event loop preempts hashing whenever
// it has work; the cores still hash the rest of the time, so the hash rate is
// the same when the service is otherwise idle.
//
// A thread starts on first use and stays (hashing is the whole point of a
// login); a thread that dies fails its job and is replaced on the next one.
import { Worker } from 'node:worker_threads';
import type { BackgroundThreadData } from '../threads/background.js';
import { workerModule } from '../threads/worker-module.js';

export interface Argon2Options {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** What a hashing thread (./hash-worker.ts) is asked to do. */
export type HashJob =
  | { op: 'hash'; password: string; options: Argon2Options }
  | { op: 'verify'; hash: string; password: string }
  | { op: 'pbkdf2-sha512'; password: string; salt: Uint8Array; iterations: number; key: Uint8Array };

export type HashReply = { id: number; value: string | boolean } | { id: number; error: string };

interface Running {
  resolve: (value: string | boolean) => void;
  reject: (err: Error) => void;
}

export class HashThreads {
  private readonly running = new Map<Worker, Map<number, Running>>();
  private nextId = 1;
  private closed = false;

  /**
   * @param niceness nice value of the threads (0: the event loop's priority).
   * @param maxThreads threads at most. A job goes to an idle thread, else to a
   * new one, else it waits in the message queue of the least busy thread:
   * that thread starts it as soon as its current hash ends, without waiting
   * for the event loop to hand it over (PasswordHasher keeps at most
   * JOBS_PER_THREAD jobs per thread in flight).
   */
  constructor(
    private readonly niceness: number,
    private readonly maxThreads = Infinity,
  ) {}

  hash(password: string, options: Argon2Options): Promise<string> {
    return this.run({ op: 'hash', password, options }) as Promise<string>;
  }

  /** Throws on a malformed hash (the caller decides what that means). */
  verify(hash: string, password: string): Promise<boolean> {
    return this.run({ op: 'verify', hash, password }) as Promise<boolean>;
  }

  /** PBKDF2-HMAC-SHA512 of `password` equals `key` (an imported wazo-auth hash, ./pbkdf2.ts). */
  verifyPbkdf2Sha512(password: string, salt: Buffer, iterations: number, key: Buffer): Promise<boolean> {
    return this.run({ op: 'pbkdf2-sha512', password, salt, iterations, key }) as Promise<boolean>;
  }

  /** Threads started and alive (tests, diagnostics). */
  get threads(): number {
    return this.running.size;
  }

  /** Ends every thread; jobs in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.running.keys()];
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private run(job: HashJob): Promise<string | boolean> {
    if (this.closed) return Promise.reject(new Error('password hashing threads closed'));
    const worker = this.pick();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.running.get(worker)?.set(id, { resolve, reject });
      // A job in flight keeps the process alive; an idle thread does not.
      worker.ref();
      worker.postMessage({ id, ...job });
    });
  }

  /** An idle thread, else a new one, else the one with the fewest jobs. */
  private pick(): Worker {
    let least: Worker | null = null;
    let leastJobs = Infinity;
    for (const [worker, jobs] of this.running) {
      if (jobs.size === 0) return worker;
      if (jobs.size < leastJobs) {
        least = worker;
        leastJobs = jobs.size;
      }
    }
    return least === null || this.running.size < this.maxThreads ? this.spawn() : least;
  }

  private spawn(): Worker {
    const worker = new Worker(workerModule(import.meta.url, './hash-worker.js'), {
      name: 'xivo-auth argon2id',
      workerData: { threadName: 'argon2id', niceness: this.niceness } satisfies BackgroundThreadData,
      // argon2id allocates its memory natively; the thread's own JS heap stays tiny.
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 },
    });
    const jobs = new Map<number, Running>();
    this.running.set(worker, jobs);
    worker.on('message', (reply: HashReply) => {
      const job = jobs.get(reply.id);
      if (job === undefined) return;
      jobs.delete(reply.id);
      if (jobs.size === 0) worker.unref();
      if ('error' in reply) job.reject(new Error(reply.error));
      else job.resolve(reply.value);
    });
    const fail = (err: Error) => {
      this.running.delete(worker);
      for (const job of jobs.values()) job.reject(err);
      jobs.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`password hashing thread exited (${code})`)));
    // Idle until its first job. After the listeners: a 'message' listener
    // refs the worker's port again.
    worker.unref();
    return worker;
  }
}
