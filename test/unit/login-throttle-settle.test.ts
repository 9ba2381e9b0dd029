// A login in flight when the store becomes unreachable: giving its reserved
// attempt back (or clearing the counters after a success) fails at that
// moment, and is retried in the background until the store answers, so the
// user is not throttled for attempts that never checked a password.
// Regression: the first failure was swallowed and the attempt stayed counted.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { LoginThrottle, persistently } from '../../src/security/login-throttle.js';
import type { Store } from '../../src/store/types.js';
import { until } from '../helpers/until.js';

/** The throttle's verbs only; `down` makes every call fail as an unreachable store would. */
function stubStore() {
  const calls = { released: [] as string[], cleared: [] as string[][] };
  const state = { down: false };
  const guard = () => {
    if (state.down) throw new Error('database did not answer');
  };
  const store = {
    async reserveLoginAttempt() {
      guard();
      return { allowed: true, failures: 1, attempts: 1, nextAttemptAt: 0 };
    },
    async releaseLoginAttempt(key: string) {
      guard();
      calls.released.push(key);
    },
    async clearLoginFailures(keys: string[]) {
      guard();
      calls.cleared.push(keys);
    },
    async hasLoginMark() {
      guard();
      return false;
    },
    async touchLoginMark() {
      guard();
    },
  } as unknown as Store;
  return { store, calls, state };
}

const OPTIONS = {
  enabled: true,
  threshold: 5,
  base_delay_seconds: 1,
  max_delay_seconds: 900,
  account_threshold: 100,
  account_delay_seconds: 1,
  trusted_address_days: 30,
  reset_after_seconds: 86_400,
};

describe('login throttle settlements while the store is unreachable', () => {
  it('gives an abandoned attempt back once the store answers again', async () => {
    const { store, calls, state } = stubStore();
    const throttle = new LoginThrottle(store, new FakeClock(Date.now()), OPTIONS);
    const ticket = await throttle.begin('alice', '10.0.0.1');
    state.down = true;
    await expect(ticket.abandoned()).rejects.toThrow('database did not answer');
    expect(calls.released).toEqual([]);
    state.down = false;
    await until(() => calls.released.length === 2, 'the attempt given back (address and account counters)', 5000);
    expect(new Set(calls.released).size).toBe(2);
  });

  it('clears the counters of a successful login once the store answers again', async () => {
    const { store, calls, state } = stubStore();
    const throttle = new LoginThrottle(store, new FakeClock(Date.now()), OPTIONS);
    const ticket = await throttle.begin('bob', '10.0.0.2');
    state.down = true;
    await ticket.succeeded().catch(() => undefined);
    state.down = false;
    await until(() => calls.cleared.length === 1, 'counters cleared', 5000);
  });

  it('persistently stops retrying after its last delay', async () => {
    let calls = 0;
    await persistently(async () => {
      calls += 1;
      throw new Error('down');
    }, [10, 10]).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(3);
  });
});
