// Deletes expired tokens, and the sessions they leave empty, in batches;
// then expired refresh tokens (idle timeout, absolute lifetime), in batches.
// Checks never rely on it (they compare expires_at with the clock); it only
// keeps the store small. On PostgreSQL the store selects batches with
// SKIP LOCKED, so reapers on several instances never do the same work.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { TokenStoreTx } from './store.js';
import type { RefreshToken, Removal } from './types.js';
import { refreshTokenExpiry } from './refresh-expiry.js';

/** Expired refresh tokens (config `refresh_tokens`), purged after the access tokens of each pass. */
export interface RefreshTokenPurgeOptions {
  /** The store itself on both engines (refresh tokens are few: no worker thread). */
  store: Pick<TokenStoreTx, 'deleteExpiredRefreshTokens'>;
  /** 0: no idle timeout. */
  idleTimeoutSeconds: number;
  /** 0: no absolute lifetime. */
  absoluteLifetimeSeconds: number;
  /** As ReaperOptions.maxBlockMs, for these batches (SQLite: they run on the event loop's thread). */
  maxBlockMs?: number;
  /** Called with each batch removed (their auth_refresh_token_deleted events are already in the outbox). */
  onRemoved?: (removed: RefreshToken[]) => void;
}

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
  /** Also purge expired refresh tokens, in batches of at most batchSize. */
  refreshTokens?: RefreshTokenPurgeOptions;
}

const pauseFor = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });

/** Smallest adaptive batch: progress is guaranteed however slow the disk. */
const MIN_BATCH = 10;

export class Reaper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    /** The store, or what deletes on its behalf (SQLite: a worker thread, src/store/sqlite/purge-thread.ts). */
    private readonly store: Pick<TokenStoreTx, 'deleteExpired'>,
    private readonly clock: Clock,
    private readonly logger: Pick<Logger, 'info' | 'warn' | 'debug'>,
    private readonly options: ReaperOptions,
  ) {}

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      void this.runOnce();
    }, this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** One full pass; returns the number of tokens deleted. Never runs twice at once. */
  runOnce(): Promise<number> {
    if (this.running === null) {
      this.running = this.pass().finally(() => {
        this.running = null;
      });
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
    // Where the previous batch ended: each batch resumes there instead of
    // scanning the expiry index from its start (TokenStoreTx.deleteExpired).
    let from: number | undefined;
    try {
      await this.drain(this.options.maxBlockMs, async (size) => {
        const removal = await this.store.deleteExpired(this.clock.now(), size, from);
        from = removal.lastExpiresAt ?? from;
        total += removal.tokenHashes.length;
        return { count: removal.tokenHashes.length, after: () => this.options.onRemoved?.(removal) };
      });
      if (total > 0) this.logger.info({ deleted_tokens: total }, 'expired tokens removed');
    } catch (err) {
      this.logger.warn({ err }, 'token cleanup failed; will retry at the next interval');
    }
    await this.refreshTokenPass();
    return total;
  }

  /** Expired refresh tokens, with their events (in the store's transactions). */
  private async refreshTokenPass(): Promise<void> {
    const purge = this.options.refreshTokens;
    if (purge === undefined || (purge.idleTimeoutSeconds <= 0 && purge.absoluteLifetimeSeconds <= 0)) return;
    try {
      let total = 0;
      await this.drain(purge.maxBlockMs, async (size) => {
        const removed = await purge.store.deleteExpiredRefreshTokens(refreshTokenExpiry(purge, this.clock.now()), size);
        total += removed.length;
        return { count: removed.length, after: () => purge.onRemoved?.(removed) };
      });
      if (total > 0) this.logger.info({ deleted_refresh_tokens: total }, 'expired refresh tokens removed');
    } catch (err) {
      this.logger.warn({ err }, 'refresh token cleanup failed; will retry at the next interval');
    }
  }

  /**
   * Runs `batch` until one deletes less than asked.
   * With `maxBlockMs` the batch size adapts to the measured speed; with
   * maxDuty < 1 the reaper pauses between batches.
   */
  private async drain(
    maxBlockMs: number | undefined,
    batch: (size: number) => Promise<{ count: number; after: () => void }>,
  ): Promise<void> {
    const { batchSize } = this.options;
    let size = maxBlockMs === undefined ? batchSize : Math.min(batchSize, 100);
    for (;;) {
      const started = performance.now();
      const { count, after } = await batch(size);
      const elapsed = performance.now() - started;
      after();
      if (count < size) break;
      if (maxBlockMs !== undefined) {
        // Aim at half the budget: batches vary, the budget is a ceiling.
        const next = Math.floor((size * (maxBlockMs / 2)) / Math.max(elapsed, 0.01));
        size = Math.max(MIN_BATCH, Math.min(batchSize, next, size * 2));
      }
      const duty = this.options.maxDuty ?? 1;
      if (duty < 1) {
        await (this.options.pause ?? pauseFor)((elapsed * (1 - duty)) / duty);
      } else {
        // Let requests in between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }
}
