// Issue 19, item 1: attempts for one (login, address) run one after the other
// (login-throttle.ts). When the one running finds the store unavailable, the
// ones queued behind it fail at once with StoreUnavailableError (503) instead
// of each waiting db_timeout_seconds in turn: N queued attempts answer in
// about one timeout, not N. Their reservations are given back as before.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { KeyedLock, LoginThrottle } from '../../src/security/login-throttle.js';
import { StoreUnavailableError } from '../../src/store/errors.js';
import type { Store } from '../../src/store/types.js';

const TIMEOUT_MS = 300;

/** A store whose calls each take TIMEOUT_MS and fail as unavailable while `down`. */
function slowStore() {
  const state = { down: false, reserves: 0, released: 0 };
  const call = async <T>(value: T): Promise<T> => {
    if (!state.down) return value;
    await new Promise((r) => setTimeout(r, TIMEOUT_MS));
    throw new StoreUnavailableError('database wait exceeded db_timeout_seconds');
  };
  const store = {
    reserveLoginAttempt() {
      state.reserves += 1;
      return call({ allowed: true, failures: 1, attempts: 1, nextAttemptAt: 0 });
    },
    async releaseLoginAttempt() {
      await call(undefined);
      state.released += 1;
    },
    clearLoginFailures() {
      return call(undefined);
    },
    hasLoginMark() {
      return call(false);
    },
    touchLoginMark() {
      return call(undefined);
    },
  } as unknown as Store;
  return { store, state };
}

const OPTIONS = {
  enabled: true,
  threshold: 5,
  base_delay_seconds: 1,
  max_delay_seconds: 900,
  account_threshold: 100,
  account_delay_seconds: 1,
  trusted_address_days: 0,
  reset_after_seconds: 86_400,
};

describe('the per-(login, address) login queue during a store outage', () => {
  it('queued attempts fail at once when the running one finds the store unavailable', async () => {
    const { store, state } = slowStore();
    const throttle = new LoginThrottle(store, new FakeClock(Date.now()), OPTIONS);
    state.down = true;
    const started = performance.now();
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => throttle.begin('alice', '10.0.0.1')));
    const elapsed = performance.now() - started;
    expect(outcomes.map((o) => o.status)).toEqual(Array(8).fill('rejected'));
    for (const o of outcomes) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
    // One store call waited; the seven others did not queue their own.
    expect(state.reserves).toBe(1);
    expect(elapsed).toBeLessThan(TIMEOUT_MS * 2);
    expect(throttle.lockedKeys).toBe(0);
    // Back: the next attempt runs normally.
    state.down = false;
    const ticket = await throttle.begin('alice', '10.0.0.1');
    await ticket.committed();
  });

  it('an attempt abandoned for an unavailable store fails those queued behind it; its reservation is given back later', async () => {
    const { store, state } = slowStore();
    const throttle = new LoginThrottle(store, new FakeClock(Date.now()), OPTIONS);
    const ticket = await throttle.begin('bob', '10.0.0.2');
    const queued = Array.from({ length: 4 }, () => throttle.begin('bob', '10.0.0.2'));
    state.down = true;
    const started = performance.now();
    // The login's next store call failed: the guard abandons with that error.
    await ticket.abandoned(new StoreUnavailableError('down')).catch(() => undefined);
    const results = await Promise.allSettled(queued);
    expect(results.map((r) => r.status)).toEqual(Array(4).fill('rejected'));
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS * 2);
    // Another address of the same login is not affected.
    state.down = false;
    await (await throttle.begin('bob', '10.0.0.3')).committed();
    // The abandoned reservation (address and account counters) comes back in the background.
    await new Promise((r) => setTimeout(r, 600));
    expect(state.released).toBe(2);
  });

  it('an abandon for another reason (hashing queue full) lets the next one run', async () => {
    const { store } = slowStore();
    const throttle = new LoginThrottle(store, new FakeClock(Date.now()), OPTIONS);
    const first = await throttle.begin('carol', '10.0.0.4');
    const second = throttle.begin('carol', '10.0.0.4');
    await first.abandoned(new Error('password hashing queue is full'));
    await (await second).committed();
  });

  it('KeyedLock: one holder per key, in order', async () => {
    const lock = new KeyedLock();
    const order: number[] = [];
    const unlock1 = await lock.acquire('k');
    const second = lock.acquire('k').then((unlock) => {
      order.push(2);
      return unlock;
    });
    const third = lock.acquire('k').then((unlock) => {
      order.push(3);
      unlock();
    });
    const other = await lock.acquire('other');
    other();
    expect(order).toEqual([]);
    unlock1();
    (await second)();
    await third;
    expect(order).toEqual([2, 3]);
    expect(lock.size).toBe(0);
  });
});
