// Deletes expired tokens, and the sessions they leave empty, in batches.
// Checks never rely on it (they compare expires_at with the clock); it only
// keeps the store small. On PostgreSQL the store selects batches with
// SKIP LOCKED, so reapers on several instances never do the same work.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Removal, Store } from '../store/types.js';

export interface ReaperOptions {
  intervalSeconds: number;
  batchSize: number;
  /** Called with each batch removed (cache eviction, events). */
  onRemoved?: (removal: Removal) => void;
  /**
   * Keep each batch under this many milliseconds; the batch size adapts to
   * the measured speed, up to `batchSize`. For a store that works on the
   * event loop's thread (in-memory SQLite) the loop is blocked that long; on
   * PostgreSQL it bounds each burst of the server's work.
   */
  maxBlockMs?: number;
  /**
   * At most this fraction of the time spent deleting during a pass (0 < d ≤ 1):
   * after a batch of t ms the reaper waits t × (1 − d) / d. On PostgreSQL a
   * purge at full speed took a core of the database server away from the
   * checks served meanwhile (check p99 ×5.1 during a 1,000,000-token purge,
   * docs/benchmarks.md, "Reaper"). Default 1 (no pause).
   */
  maxDuty?: number;
  /** How to wait between batches (tests). */
  pause?: (ms: number) => Promise<void>;
}

const pauseFor = (ms: number) => new Promise<void>((resolve) => { setTimeout(resolve, ms); });

/** Smallest adaptive batch: progress is guaranteed however slow the disk. */
const MIN_BATCH = 10;

export class Reaper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    /** The store, or what deletes on its behalf (SQLite: a worker thread, sqlite-purge-thread.ts). */
    private readonly store: Pick<Store, 'deleteExpired'>,
    private readonly clock: Clock,
    private readonly logger: Pick<Logger, 'info' | 'warn' | 'debug'>,
    private readonly options: ReaperOptions,
  ) {}

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => { void this.runOnce(); }, this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** One full pass; returns the number of tokens deleted. Never runs twice at once. */
  runOnce(): Promise<number> {
    if (this.running === null) {
      this.running = this.pass().finally(() => { this.running = null; });
    }
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  private async pass(): Promise<number> {
    let total = 0;
    const { batchSize, maxBlockMs } = this.options;
    let size = maxBlockMs === undefined ? batchSize : Math.min(batchSize, 100);
    // Where the previous batch ended: each batch resumes there instead of
    // scanning the expiry index from its start (Store.deleteExpired).
    let from: number | undefined;
    try {
      for (;;) {
        const started = performance.now();
        const removal = await this.store.deleteExpired(this.clock.now(), size, from);
        const elapsed = performance.now() - started;
        from = removal.lastExpiresAt ?? from;
        total += removal.tokenHashes.length;
        this.options.onRemoved?.(removal);
        if (removal.tokenHashes.length < size) break;
        if (maxBlockMs !== undefined) {
          // Aim at half the budget: batches vary, the budget is a ceiling.
          const next = Math.floor(size * (maxBlockMs / 2) / Math.max(elapsed, 0.01));
          size = Math.max(MIN_BATCH, Math.min(batchSize, next, size * 2));
        }
        const duty = this.options.maxDuty ?? 1;
        if (duty < 1) {
          await (this.options.pause ?? pauseFor)(elapsed * (1 - duty) / duty);
        } else {
          // Let requests in between batches.
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      if (total > 0) this.logger.info({ deleted_tokens: total }, 'expired tokens removed');
    } catch (err) {
      this.logger.warn({ err }, 'token cleanup failed; will retry at the next interval');
    }
    return total;
  }
}
