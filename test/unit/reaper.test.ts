// The reaper's batching: full batches on an asynchronous store, short
// adaptive batches when the store blocks the event loop (SQLite).
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import type { ExpiredRemoval, RefreshToken, RefreshTokenExpiry, Removal, Store } from '../../src/store/types.js';
import { Reaper } from '../../src/tokens/reaper.js';

/** A store whose deleteExpired costs `msPerRow` of busy CPU, with `rows` expired rows. */
function busyStore(rows: number, msPerRow: number) {
  let left = rows;
  const batches: number[] = [];
  const store = {
    async deleteExpired(_now: number, limit: number): Promise<Removal> {
      const n = Math.min(limit, left);
      left -= n;
      batches.push(limit);
      const until = performance.now() + n * msPerRow;
      while (performance.now() < until) {
        /* busy, as a synchronous driver is */
      }
      return { tokenHashes: Array.from({ length: n }, (_, i) => String(i)), sessions: [] };
    },
  } as unknown as Store;
  return { store, batches, left: () => left };
}

describe('Reaper', () => {
  const logger = pino({ level: 'silent' });

  it('deletes everything in full batches when the store does not block', async () => {
    const s = busyStore(12_000, 0);
    const reaper = new Reaper(s.store, new FakeClock(), logger, { intervalSeconds: 60, batchSize: 5000 });
    expect(await reaper.runOnce()).toBe(12_000);
    expect(s.batches).toEqual([5000, 5000, 5000]);
  });

  it('keeps each batch under the blocking budget, and still finishes', async () => {
    const s = busyStore(3000, 0.05); // 5000 rows would block 250 ms
    const reaper = new Reaper(s.store, new FakeClock(), logger, { intervalSeconds: 60, batchSize: 5000, maxBlockMs: 2 });
    expect(await reaper.runOnce()).toBe(3000);
    expect(s.left()).toBe(0);
    // After the first probe the batch settles near 1 ms of work (≈ 20 rows), far below 5000.
    expect(Math.max(...s.batches.slice(2))).toBeLessThanOrEqual(100);
  });

  it('resumes each batch of a pass where the previous one ended, and starts each pass from the beginning', async () => {
    // Expiry of row i: 1000 + i; the store reports the last one of each batch.
    let next = 0;
    const froms: (number | undefined)[] = [];
    const store = {
      async deleteExpired(_now: number, limit: number, from?: number): Promise<ExpiredRemoval> {
        froms.push(from);
        const n = Math.min(limit, 25 - next);
        next += n;
        return n === 0
          ? { tokenHashes: [], sessions: [] }
          : { tokenHashes: Array.from({ length: n }, String), sessions: [], lastExpiresAt: 1000 + next - 1 };
      },
    } as unknown as Store;
    const reaper = new Reaper(store, new FakeClock(), logger, { intervalSeconds: 60, batchSize: 10 });
    expect(await reaper.runOnce()).toBe(25);
    expect(froms).toEqual([undefined, 1009, 1019]);
    froms.length = 0;
    expect(await reaper.runOnce()).toBe(0);
    expect(froms).toEqual([undefined]);
  });

  it('spends at most maxDuty of its time deleting: each batch of t ms is followed by a pause of t × (1 − d) / d', async () => {
    const s = busyStore(2000, 0.01);
    const pauses: number[] = [];
    const reaper = new Reaper(s.store, new FakeClock(), logger, {
      intervalSeconds: 60,
      batchSize: 500,
      maxDuty: 0.25,
      pause: async (ms) => {
        pauses.push(ms);
      },
    });
    expect(await reaper.runOnce()).toBe(2000);
    // 4 full batches of 5 ms of work, then an empty one that ends the pass.
    expect(pauses).toHaveLength(4);
    // 3 × the batch's own duration: at least its 5 ms of work each.
    for (const ms of pauses) expect(ms).toBeGreaterThanOrEqual(3 * 5);
  });

  describe('expired refresh tokens (issue 19)', () => {
    /** A store of `rows` expired refresh tokens recording each call's cut-offs and limit. */
    function refreshStore(rows: number, fail = false) {
      let left = rows;
      const calls: { expiry: RefreshTokenExpiry; limit: number }[] = [];
      const store = {
        async deleteExpiredRefreshTokens(expiry: RefreshTokenExpiry, limit: number): Promise<RefreshToken[]> {
          calls.push({ expiry, limit });
          if (fail) throw new Error('database down');
          const n = Math.min(limit, left);
          left -= n;
          return Array.from({ length: n }, (_, i) => ({ clientId: String(i) }) as RefreshToken);
        },
      };
      return { store, calls };
    }
    const NOW = Date.UTC(2026, 0, 1);

    it('after the tokens, deletes them in batches with the cut-offs of the clock, reporting each batch', async () => {
      const r = refreshStore(25);
      const removed: number[] = [];
      const reaper = new Reaper(busyStore(3, 0).store, new FakeClock(NOW), logger, {
        intervalSeconds: 60,
        batchSize: 10,
        refreshTokens: {
          store: r.store,
          idleTimeoutSeconds: 60,
          absoluteLifetimeSeconds: 3600,
          onRemoved: (b) => removed.push(b.length),
        },
      });
      expect(await reaper.runOnce()).toBe(3);
      expect(r.calls.map((c) => c.limit)).toEqual([10, 10, 10]);
      expect(r.calls[0].expiry).toEqual({ lastUsedBefore: NOW - 60_000, createdBefore: NOW - 3_600_000 });
      expect(removed).toEqual([10, 10, 5]);
    });

    it('does nothing when neither limit is set', async () => {
      const r = refreshStore(5);
      const reaper = new Reaper(busyStore(0, 0).store, new FakeClock(NOW), logger, {
        intervalSeconds: 60,
        batchSize: 10,
        refreshTokens: { store: r.store, idleTimeoutSeconds: 0, absoluteLifetimeSeconds: 0 },
      });
      await reaper.runOnce();
      expect(r.calls).toEqual([]);
    });

    it('a failure is logged and retried at the next pass; the tokens were purged all the same', async () => {
      const r = refreshStore(5, true);
      const warned: string[] = [];
      const reaper = new Reaper(
        busyStore(4, 0).store,
        new FakeClock(NOW),
        {
          ...logger,
          info() {},
          debug() {},
          warn: (_o: unknown, msg: string) => {
            warned.push(msg);
          },
        } as never,
        {
          intervalSeconds: 60,
          batchSize: 10,
          refreshTokens: { store: r.store, idleTimeoutSeconds: 60, absoluteLifetimeSeconds: 0 },
        },
      );
      expect(await reaper.runOnce()).toBe(4);
      expect(warned).toEqual(['refresh token cleanup failed; will retry at the next interval']);
      expect(r.calls[0].expiry).toEqual({ lastUsedBefore: NOW - 60_000, createdBefore: null });
    });
  });
});
