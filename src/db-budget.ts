// How long one request may wait on the database, all its store calls together
// (`db_timeout_seconds`). Each store call (a connection checkout: one verb, or
// one whole transaction) may wait at most the timeout, and no more than what
// its request has left: a login that runs eight statements waits at most the
// timeout in total, not eight times it. The request's scope is set around
// the HTTP server's listener (perRequestDbBudget); calls made outside any
// request (start-up, reaper, relay, retries in the background) get the
// timeout each. The time counted is the time spent inside store calls
// (waiting for a connection or a lock, running statements), not the rest of
// the request (hashing a password, waiting for the login queue).
//
// Neutral: the store's drivers charge it (src/store/), the HTTP listener
// (src/app.ts) and the login guard (src/login/login-guard.ts) scope it.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The database time of one request, or a long-running job's own cap. */
export interface DbBudget {
  /** Milliseconds this call may wait, given the store's per-call timeout. */
  allowance(timeoutMs: number): number;
  /** Records `ms` waited on the database. */
  charge(ms: number): void;
}

/**
 * A budget counted in flight from its creation until it ends (the async
 * context is on while one is: see budgetStarted below).
 */
abstract class CountedBudget implements DbBudget {
  protected ended = false;

  constructor() {
    budgetStarted();
  }

  abstract allowance(timeoutMs: number): number;
  abstract charge(ms: number): void;

  end(): void {
    if (this.ended) return;
    this.ended = true;
    budgetEnded();
  }
}

class RequestBudget extends CountedBudget {
  private spentMs = 0;

  allowance(timeoutMs: number): number {
    // Work the request started and that outlives it (an audit write, a
    // retried settlement) is no longer the request's: the timeout alone.
    return this.ended ? timeoutMs : Math.max(0, timeoutMs - this.spentMs);
  }

  charge(ms: number): void {
    if (!this.ended) this.spentMs += ms;
  }
}

class LongBudget extends CountedBudget {
  constructor(private readonly capMs: number) {
    super();
  }

  allowance(timeoutMs: number): number {
    return Math.max(timeoutMs, this.capMs);
  }

  charge(): void {}
}

/**
 * Each transaction of a long job (migrations at start-up or `xivo-auth
 * migrate`, an import) may wait this long: waiting for another instance's
 * migration, building an index on a large table.
 */
export const LONG_JOB_TIMEOUT_MS = 10 * 60_000;

const scope = new AsyncLocalStorage<DbBudget>();

// The async context is switched on only while a budget is in flight.
// Enabled, an AsyncLocalStorage runs an init hook on every async resource
// the process creates (each nextTick, promise, socket and timer of every
// request), a token check answered from the cache included, which never
// reads it (docs/benchmarks.md, "Fourth round"). Switching it off when
// the last budget ends is safe: what still runs then belongs to ended
// budgets, whose allowance is the plain timeout, the same as no budget.
// (AsyncLocalStorage.run switches it back on.)
let inFlight = 0;

function budgetStarted(): void {
  inFlight += 1;
}

function budgetEnded(): void {
  inFlight -= 1;
  if (inFlight === 0) scope.disable();
}

/** How many budgets are in flight (the async context is on while there is one): for tests. */
export function dbBudgetsInFlight(): number {
  return inFlight;
}

/** The budget of the code running now; null outside any request. */
export function currentDbBudget(): DbBudget | null {
  return scope.getStore() ?? null;
}

/** Milliseconds a store call starting now may wait (the timeout outside any request). */
export function dbAllowance(timeoutMs: number): number {
  return currentDbBudget()?.allowance(timeoutMs) ?? timeoutMs;
}

/**
 * Runs `fn` as one request with its own budget, unless it already runs in
 * one (the HTTP request's); the budget ends when `fn` settles, so what `fn`
 * leaves running in the background gets the plain timeout afterwards.
 */
export async function withDbBudget<T>(fn: () => Promise<T>): Promise<T> {
  if (scope.getStore() !== undefined) return fn();
  const budget = new RequestBudget();
  try {
    return await scope.run(budget, fn);
  } finally {
    budget.end();
  }
}

/**
 * Runs `fn` outside any request's budget: work a request only starts and
 * does not wait for (an audit write, waking the event relay) gets the
 * timeout of its own instead of what the request has left.
 */
export function outsideDbBudget<T>(fn: () => T): T {
  return scope.exit(fn);
}

/**
 * Runs `fn` with calls that may each wait up to `capMs` (or the timeout if
 * longer), not bound by any request: schema migrations.
 */
export async function withLongDbBudget<T>(capMs: number, fn: () => Promise<T>): Promise<T> {
  const budget = new LongBudget(capMs);
  try {
    return await scope.run(budget, fn);
  } finally {
    budget.end();
  }
}

/**
 * Wraps an HTTP request listener: every request gets its own budget, spent
 * by its store calls until the response is closed.
 */
export function perRequestDbBudget<Req extends IncomingMessage, Res extends ServerResponse>(
  listener: (req: Req, res: Res) => void,
): (req: Req, res: Res) => void {
  return function withRequestDbBudget(req, res) {
    withResponseDbBudget(res, () => listener(req, res));
  };
}

/**
 * Runs `fn` as the request answered by `res`, with its own budget, spent
 * until the response is closed. The token check's fast path calls it only
 * when it is about to reach the store: an answer from the cache makes no
 * store call, and pays neither the async context nor the close listener.
 */
export function withResponseDbBudget<T>(res: ServerResponse, fn: () => T): T {
  const budget = new RequestBudget();
  res.once('close', () => budget.end());
  return scope.run(budget, fn);
}
