// The answer of `HEAD /0.1/token/{token}?scope=&tenant=`, free of any HTTP
// framework: the Fastify route (src/http/routes/token.ts) and the fast path
// in front of Fastify (src/http/fast-check.ts) both send what checkDecision
// returns, so the two cannot disagree on a status or a header. The gateway
// check (/authz, src/http/routes/gateway.ts) reads the same refusals.
//
// Which error means what is decided once, by the error mapper
// (src/http/errors.ts toProblem): a check's own refusals are its 404
// (unknown or expired token), 403 (scope or tenant denied) and 503 (store
// unreachable, or too busy); anything else is thrown, for the caller's error
// handler to answer (and log).
import type { TokenRecord } from '../tokens/types.js';
import type { TokenService } from '../login/token-service.js';
import { CHECK_DENIED, CHECK_INVALID } from '../metrics/token-observer.js';
import { toProblem } from './errors.js';

/** An answer to a token check: a status and headers, never a body (HEAD). */
export interface CheckDecision {
  readonly status: 204 | 403 | 404 | 503;
  /** Headers of this answer only; the security headers every answer carries are added around it. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** Why a check refused, as the check's own outcomes (null: not one of them). */
export interface CheckRefusal {
  readonly status: 403 | 404 | 503;
  /** Seconds, 503 only. */
  readonly retryAfter?: number;
}

const NO_HEADERS: ReadonlyArray<readonly [string, string]> = Object.freeze([]);
// Shared, frozen answers: the hot path allocates nothing to say "yes".
const VALID: CheckDecision = Object.freeze({ status: 204, headers: NO_HEADERS });
const UNKNOWN: CheckDecision = Object.freeze({ status: 404, headers: NO_HEADERS });
const DENIED: CheckDecision = Object.freeze({ status: 403, headers: NO_HEADERS });
const NOT_FOUND_REFUSAL: CheckRefusal = Object.freeze({ status: 404 });
const DENIED_REFUSAL: CheckRefusal = Object.freeze({ status: 403 });

/**
 * The check's refusal an error stands for, through the one error mapper.
 * A 503 always says when to retry (1 s unless the error tells).
 */
export function checkRefusalOf(err: unknown): CheckRefusal | null {
  const problem = toProblem(err, '');
  switch (problem.status) {
    case 404:
      return NOT_FOUND_REFUSAL;
    case 403:
      return DENIED_REFUSAL;
    case 503:
      return { status: 503, retryAfter: problem.retryAfter ?? 1 };
    default:
      return null;
  }
}

/** The decision for an error of `TokenService.check`; null when it is not one of the check's outcomes. */
export function refusalDecisionOf(err: unknown): CheckDecision | null {
  const refusal = checkRefusalOf(err);
  if (refusal === null) return null;
  if (refusal.status === 404) return UNKNOWN;
  if (refusal.status === 403) return DENIED;
  return { status: 503, headers: [['Retry-After', String(refusal.retryAfter ?? 1)]] };
}

/** The decision for a refusal; throws `err` when it is not one of the check's outcomes. */
export function refusalDecision(err: unknown): CheckDecision {
  const decision = refusalDecisionOf(err);
  if (decision === null) throw err;
  return decision;
}

/** The decision for a record `TokenService.check` returned: valid. */
export function validDecision(_record: TokenRecord): CheckDecision {
  return VALID;
}

/**
 * The decision for what `TokenService.checkCached` decided (a check answered
 * from the cache, synchronously): what refusalDecisionOf answers to the
 * error check() throws in its place (CHECK_INVALID: NoSuchTokenError, 404;
 * CHECK_DENIED: ScopeDeniedError, 403), or validDecision.
 */
export function cachedDecision(outcome: TokenRecord | typeof CHECK_INVALID | typeof CHECK_DENIED): CheckDecision {
  if (outcome === CHECK_INVALID) return UNKNOWN;
  if (outcome === CHECK_DENIED) return DENIED;
  return validDecision(outcome);
}

/**
 * Checks `token` for `scope` within `tenant` and says what to answer. Errors
 * other than the check's own refusals are thrown (the route's error handler
 * answers them; the fast path hands the request to Fastify).
 *
 * The fast path maps the outcome of `tokens.check` through the same two
 * functions (validDecision, refusalDecisionOf) in its own callbacks rather
 * than through this promise: one promise fewer per check, and with the
 * per-request AsyncLocalStorage (src/db-budget.ts) every promise also
 * runs an async-hooks init.
 */
export function checkDecision(
  tokens: TokenService,
  token: string,
  scope: string | undefined,
  tenant: string | undefined,
): Promise<CheckDecision> {
  // Plain promise callbacks, not an async function: one promise fewer per check.
  return tokens.check(token, scope, tenant).then(validDecision, refusalDecision);
}
