// Bounded in-process cache of token records, keyed by the token's hash.
// It stores the record and its compiled ACL, never a yes/no for one scope,
// so every check still runs the ACL and the expiry comparison.
// Approximate least-recently-used eviction with a Map (insertion order =
// recency): a hit moves its entry to the newest end only when it has drifted
// into the older half of the capacity. Moving every hit re-inserts the same
// few hot keys on every check, which churns the Map's table (rehashes,
// garbage): measured at 71 µs instead of 33 µs of CPU per check.
import type { CompiledAcl } from '@xivo-auth/acl';
import type { TokenRecord } from './types.js';

export interface CachedToken {
  record: TokenRecord;
  acl: CompiledAcl;
}

interface Slot {
  value: CachedToken;
  seq: number;
}

export class TokenCache {
  private readonly entries = new Map<string, Slot>();
  /** Insertion counter: a slot's `seq` orders it like the Map does. */
  private tick = 0;
  /** Off when invalidations cannot be trusted (e.g. the PostgreSQL listener is down). */
  private active: boolean;
  /**
   * Bumped by every invalidation. A lookup notes it before reading the store
   * and caches its result only if no invalidation happened meanwhile, so a
   * record read just before a revocation is never cached after it.
   */
  private epoch = 0;
  /** Entries dropped because the cache was full (read by the metrics). */
  evictions = 0;

  constructor(
    private readonly maxEntries: number,
    active = false,
  ) {
    this.active = active && maxEntries > 0;
  }

  get(hash: string): CachedToken | undefined {
    if (!this.active) return undefined;
    const slot = this.entries.get(hash);
    if (slot === undefined) return undefined;
    // Entries touched within the last half-capacity insertions cannot be the
    // next evicted: leave them where they are.
    if (this.tick - slot.seq >= this.maxEntries / 2) {
      this.entries.delete(hash);
      slot.seq = ++this.tick;
      this.entries.set(hash, slot);
    }
    return slot.value;
  }

  /** Take before reading the store; pass to set(). */
  get generation(): number {
    return this.epoch;
  }

  set(hash: string, entry: CachedToken, generation: number): void {
    if (!this.active || generation !== this.epoch) return;
    this.entries.delete(hash);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) {
        this.entries.delete(oldest.value);
        this.evictions += 1;
      }
    }
    this.entries.set(hash, { value: entry, seq: ++this.tick });
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
