// Bounded in-process cache of token records, keyed by the token's hash.
// It stores the record and its compiled ACL, never a yes/no for one scope,
// so every check still runs the ACL and the expiry comparison.
// Least-recently-used eviction with a Map (insertion order = recency).
import type { CompiledAcl } from '../acl/index.js';
import type { TokenRecord } from '../store/types.js';

export interface CachedToken {
  record: TokenRecord;
  acl: CompiledAcl;
}

export class TokenCache {
  private readonly entries = new Map<string, CachedToken>();
  /** Off when invalidations cannot be trusted (e.g. the PostgreSQL listener is down). */
  private active: boolean;
  /** The most recently used key (already last in the Map's order). */
  private newest: string | null = null;
  /**
   * Bumped by every invalidation. A lookup notes it before reading the store
   * and caches its result only if no invalidation happened meanwhile, so a
   * record read just before a revocation is never cached after it.
   */
  private epoch = 0;
  /** Entries dropped because the cache was full (read by the metrics). */
  evictions = 0;

  constructor(private readonly maxEntries: number, active = false) {
    this.active = active && maxEntries > 0;
  }

  get(hash: string): CachedToken | undefined {
    if (!this.active) return undefined;
    const hit = this.entries.get(hash);
    if (hit !== undefined && hash !== this.newest) {
      // Refresh recency. Skipped for the newest entry: re-inserting the same
      // hot key on every check churns the Map's table (rehash, garbage).
      this.entries.delete(hash);
      this.entries.set(hash, hit);
      this.newest = hash;
    }
    return hit;
  }

  /** Take before reading the store; pass to set(). */
  get generation(): number {
    return this.epoch;
  }

  set(hash: string, entry: CachedToken, generation: number): void {
    if (!this.active || generation !== this.epoch) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) {
        this.entries.delete(oldest.value);
        this.evictions += 1;
      }
    }
    this.entries.set(hash, entry);
    this.newest = hash;
  }

  /** Forget one entry that is known stale (expired); not an invalidation. */
  delete(hash: string): void {
    this.entries.delete(hash);
  }

  /** These tokens were revoked (here or on another instance). */
  invalidate(hashes: Iterable<string>): void {
    this.epoch += 1;
    for (const hash of hashes) this.entries.delete(hash);
  }

  /** Forget everything (e.g. a revocation too large to list). */
  flush(): void {
    this.epoch += 1;
    this.entries.clear();
  }

  /** Fail closed: forget everything and stop caching until enabled again. */
  disable(): void {
    this.active = false;
    this.flush();
  }

  /** Invalidations are trusted again. Lookups begun while disabled must not fill it. */
  enable(): void {
    this.epoch += 1;
    this.active = this.maxEntries > 0;
  }

  get isActive(): boolean {
    return this.active;
  }

  get size(): number {
    return this.entries.size;
  }
}
