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

  constructor(private readonly maxEntries: number, active = true) {
    this.active = active && maxEntries > 0;
  }

  get(hash: string): CachedToken | undefined {
    if (!this.active) return undefined;
    const hit = this.entries.get(hash);
    if (hit !== undefined) {
      // Refresh recency.
      this.entries.delete(hash);
      this.entries.set(hash, hit);
    }
    return hit;
  }

  set(hash: string, entry: CachedToken): void {
    if (!this.active) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(hash, entry);
  }

  delete(hash: string): void {
    this.entries.delete(hash);
  }

  deleteMany(hashes: Iterable<string>): void {
    for (const hash of hashes) this.entries.delete(hash);
  }

  /** Fail closed: forget everything and stop caching until enabled again. */
  disable(): void {
    this.active = false;
    this.entries.clear();
  }

  enable(): void {
    this.active = this.maxEntries > 0;
  }

  get isActive(): boolean {
    return this.active;
  }

  get size(): number {
    return this.entries.size;
  }
}
