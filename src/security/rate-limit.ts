// Rate limits per client address: one token bucket per address, in memory
// (per instance), in a bounded map that forgets the least recently seen
// address first. A limit with per_second 0 is off.

export interface BucketOptions {
  per_second: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** Requests refused since the last one let through. */
  refused: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly options: BucketOptions,
    private readonly maxAddresses: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get enabled(): boolean {
    return this.options.per_second > 0;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Requests of `address` refused since its last one let through (0 when unknown). */
  refusedCount(address: string): number {
    return this.buckets.get(address)?.refused ?? 0;
  }

  /** 0 when the request may go on (one token spent); else the seconds to wait. */
  take(address: string): number {
    if (!this.enabled) return 0;
    const now = this.now();
    const { per_second: rate, burst } = this.options;
    let bucket = this.buckets.get(address);
    if (bucket === undefined) {
      bucket = { tokens: burst, updatedAt: now, refused: 0 };
      if (this.buckets.size >= this.maxAddresses) {
        // Map iteration order is insertion order: the first key is the least recently seen.
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    } else {
      this.buckets.delete(address);
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * rate);
      bucket.updatedAt = now;
    }
    this.buckets.set(address, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      bucket.refused = 0;
      return 0;
    }
    bucket.refused += 1;
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate));
  }
}
