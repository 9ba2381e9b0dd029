// Brute-force protection of password logins. Counters live in the store, so
// every instance shares them, and each attempt is counted atomically BEFORE
// the password is hashed (store.reserveLoginAttempt): N parallel guesses
// count N, and no more than the threshold get a hash. Two counters:
//  - per (login, client address): after `threshold` failures, exponential
//    back-off from `base_delay_seconds` up to `max_delay_seconds`;
//  - per login (account-wide): after `account_threshold` failures from
//    anywhere, attempts on the account are let through one per
//    `account_delay_seconds` - except from addresses that logged in to it
//    successfully lately, so an attacker elsewhere can slow the account down
//    but cannot lock its owner out (docs/security.md).
// A success clears both counters and marks the address as trusted.
// Within one instance, attempts for the same (login, address) run one after
// the other (a per-key lock held until the outcome is known): a reserved
// attempt counts as a failure until it succeeds, so without the lock a client
// sending several right logins at once would throttle itself. When an attempt
// finds the store unavailable, the attempts queued behind it fail at once
// (503) instead of each waiting db_timeout_seconds in turn.
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { StoreUnavailableError } from '../storage-errors.js';
import type { LoginSettlement, LoginThrottleRule } from './types.js';
import type { LoginThrottleStore } from './store.js';
import type { SecurityConfig } from '../config/sections/security.js';
import { TooManyAttemptsError } from './errors.js';

export type LoginThrottleOptions = SecurityConfig['login_throttle'];

/** What a successful login writes to the throttle's table (see LoginTicket.successWrites). */
export type LoginSuccessWrites = Omit<LoginSettlement, 'audit'>;

/** What happened to a login attempt, once known. */
export interface LoginTicket {
  /** The password was right: clear the counters, trust the address. */
  succeeded(): Promise<void>;
  /**
   * The writes succeeded() would make, for the caller to commit in the
   * login's own transaction (one commit per login); then call committed().
   */
  successWrites(): LoginSuccessWrites;
  /** successWrites() were committed with the login: releases the ticket, writes nothing. */
  committed(): Promise<void>;
  /** The password was wrong: the reserved failure stays counted. */
  failed(): Promise<void>;
  /**
   * No password was checked (hashing pool busy, store down...): give the
   * reservation back. `reason`: the error; a StoreUnavailableError also
   * fails the attempts queued behind this one.
   */
  abandoned(reason?: unknown): Promise<void>;
}

const NOOP_TICKET: LoginTicket = {
  succeeded: async () => {},
  successWrites: () => ({ clearKeys: [], mark: null }),
  committed: async () => {},
  failed: async () => {},
  abandoned: async () => {},
};

/** Doubling delays from `base` to `cap` (ms), the cap last. */
export function backoffDelays(baseMs: number, capMs: number): number[] {
  const delays: number[] = [];
  for (let d = baseMs; d < capMs && delays.length < 62; d *= 2) delays.push(Math.round(d));
  delays.push(Math.round(capMs));
  return delays;
}

function digest(...parts: string[]): string {
  const h = createHash('sha256');
  for (const part of parts) h.update(part, 'utf8').update('\u0000');
  return h.digest('hex');
}

/**
 * Pauses between retries of a settlement the store refused (unreachable at
 * that moment): a login in flight when the database went away must not
 * leave behind an attempt counted against its user once the database is back.
 */
export const SETTLE_RETRY_DELAYS_MS: readonly number[] = [250, 500, 1000, 2000, 4000, 8000, 16_000, 30_000];

/**
 * Runs `fn`; if it fails, runs it again in the background after each delay
 * until it succeeds (timers unref'd: never keeps the process alive). The
 * returned promise is the first attempt's: the caller does not wait for retries.
 */
export function persistently(fn: () => Promise<void>, delaysMs: readonly number[] = SETTLE_RETRY_DELAYS_MS): Promise<void> {
  const first = fn();
  first.catch(function retryLater() {
    let i = 0;
    const attempt = () => {
      fn().catch(() => {
        i += 1;
        if (i < delaysMs.length) setTimeout(attempt, delaysMs[i]).unref();
      });
    };
    if (delaysMs.length > 0) setTimeout(attempt, delaysMs[0]).unref();
  });
  return first;
}

/** Logins are matched case-insensitively: so are their counters. */
function normalise(login: string): string {
  return login.toLowerCase();
}

/** Releases a KeyedLock; with an error, every attempt waiting for the key fails with it. */
type Unlock = (failWaiters?: Error) => void;

/** One holder per key at a time, in arrival order; no memory kept for idle keys. */
export class KeyedLock {
  /** Per held key: those waiting for it, in order. */
  private readonly queues = new Map<string, Array<{ grant: () => void; fail: (err: Error) => void }>>();

  acquire(key: string): Promise<Unlock> {
    const queue = this.queues.get(key);
    if (queue === undefined) {
      this.queues.set(key, []);
      return Promise.resolve(this.unlocker(key));
    }
    return new Promise((resolve, reject) => {
      queue.push({ grant: () => resolve(this.unlocker(key)), fail: reject });
    });
  }

  private unlocker(key: string): Unlock {
    let done = false;
    return (failWaiters) => {
      if (done) return;
      done = true;
      const queue = this.queues.get(key) ?? [];
      if (failWaiters !== undefined) {
        // They queued before the failure was known: theirs would be the same.
        this.queues.delete(key);
        for (const waiter of queue) waiter.fail(failWaiters);
        return;
      }
      const next = queue.shift();
      if (next === undefined) this.queues.delete(key);
      else next.grant();
    };
  }

  get size(): number {
    return this.queues.size;
  }
}

/** What the attempts queued behind one that found the store unavailable fail with. */
function queuedBehindOutage(cause: unknown): StoreUnavailableError {
  return new StoreUnavailableError('the store was unavailable to an earlier attempt of this login', { cause });
}

export class LoginThrottle {
  private pairDelays: number[];
  private readonly locks = new KeyedLock();

  constructor(
    private readonly store: LoginThrottleStore,
    private readonly clock: Clock,
    private options: LoginThrottleOptions,
  ) {
    this.pairDelays = backoffDelays(options.base_delay_seconds * 1000, options.max_delay_seconds * 1000);
  }

  /** A configuration reload (src/config/reload.ts): the next attempts use these settings; the counters stay. */
  reconfigure(options: LoginThrottleOptions): void {
    this.options = options;
    this.pairDelays = backoffDelays(options.base_delay_seconds * 1000, options.max_delay_seconds * 1000);
  }

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** Counter keys (hashed: the table holds no login or address in clear). */
  keys(login: string, address: string | null): { pair: string; account: string; trusted: string } {
    const l = normalise(login);
    const a = address ?? '';
    return { pair: `p:${digest(l, a)}`, account: `a:${digest(l)}`, trusted: `t:${digest(l, a)}` };
  }

  /**
   * Reserves one attempt for `login` from `address`, or throws
   * TooManyAttemptsError (429, Retry-After) while the back-off runs.
   */
  async begin(login: string, address: string | null): Promise<LoginTicket> {
    if (!this.options.enabled) return NOOP_TICKET;
    const keys = this.keys(login, address);
    const unlock = await this.locks.acquire(keys.pair);
    try {
      const now = this.clock.now();
      return await this.reserve(keys, now, now - this.options.reset_after_seconds * 1000, unlock);
    } catch (err) {
      unlock(err instanceof StoreUnavailableError ? queuedBehindOutage(err) : undefined);
      throw err;
    }
  }

  /** Attempts waiting or running in this instance, by (login, address) (tests, metrics). */
  get lockedKeys(): number {
    return this.locks.size;
  }

  private async reserve(
    keys: { pair: string; account: string; trusted: string },
    now: number,
    staleBefore: number,
    unlock: Unlock,
  ): Promise<LoginTicket> {
    // The address's trust mark is read with the reservation (one statement).
    const markSince = now - this.options.trusted_address_days * 86_400_000;
    const mark = this.options.trusted_address_days > 0 ? { key: keys.trusted, since: markSince } : undefined;
    const pair = await this.store.reserveLoginAttempt(
      keys.pair,
      now,
      {
        threshold: this.options.threshold,
        delaysMs: this.pairDelays,
        staleBefore,
      },
      mark,
    );
    if (!pair.allowed)
      throw new TooManyAttemptsError(retryAfter(pair.nextAttemptAt, now), 'address', pair.attempts - pair.failures);

    const trusted = mark !== undefined && (pair.marked ?? (await this.store.hasLoginMark(keys.trusted, markSince)));
    let accountReserved = false;
    if (!trusted) {
      const accountRule: LoginThrottleRule = {
        threshold: this.options.account_threshold,
        delaysMs: [this.options.account_delay_seconds * 1000],
        staleBefore,
      };
      const account = await this.store.reserveLoginAttempt(keys.account, now, accountRule);
      if (!account.allowed) {
        // Refused before any password check: this attempt is no failure of the address.
        await this.store.releaseLoginAttempt(keys.pair);
        throw new TooManyAttemptsError(retryAfter(account.nextAttemptAt, now), 'account', account.attempts - account.failures);
      }
      accountReserved = true;
    }
    const store = this.store;
    let settled = false;
    const once = async (fn: () => Promise<void>, failWaiters?: Error) => {
      if (settled) return;
      settled = true;
      try {
        await fn();
      } finally {
        unlock(failWaiters);
      }
    };
    const successWrites = (): LoginSuccessWrites => ({
      clearKeys: [keys.pair, keys.account],
      mark: this.options.trusted_address_days > 0 ? { key: keys.trusted, at: this.clock.now() } : null,
    });
    return {
      succeeded: () =>
        once(async () => {
          const writes = successWrites();
          await persistently(() => store.clearLoginFailures(writes.clearKeys));
          if (writes.mark !== null) await store.touchLoginMark(writes.mark.key, writes.mark.at);
        }),
      successWrites,
      committed: () => once(async () => {}),
      failed: () => once(async () => {}),
      // The first try runs within what the request has left of its
      // database time (src/db-budget.ts): none left, it fails at once
      // and the retries, after the answer, give the reservation back.
      abandoned: (reason?: unknown) =>
        once(
          async () => {
            let pairReleased = false;
            await persistently(async () => {
              if (!pairReleased) await store.releaseLoginAttempt(keys.pair);
              pairReleased = true;
              if (accountReserved) await store.releaseLoginAttempt(keys.account);
            });
          },
          reason instanceof StoreUnavailableError ? queuedBehindOutage(reason) : undefined,
        ),
    };
  }

  /** Deletes stale counters and expired trust marks; returns how many rows went. */
  async purge(): Promise<number> {
    const now = this.clock.now();
    const staleBefore = now - this.options.reset_after_seconds * 1000;
    let removed = await this.store.purgeLoginThrottle('p:', staleBefore);
    removed += await this.store.purgeLoginThrottle('a:', staleBefore);
    removed += await this.store.purgeLoginThrottle('t:', now - Math.max(this.options.trusted_address_days * 86_400_000, 0));
    return removed;
  }
}

function retryAfter(nextAttemptAt: number, now: number): number {
  return Math.max(1, Math.ceil((nextAttemptAt - now) / 1000));
}
