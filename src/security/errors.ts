// Errors of the security features. Both are 429 with Retry-After; on the
// token endpoints they are answered with the legacy body (src/http/errors.ts).
import { DomainError } from '../errors.js';

/** 429: this login is throttled after failed attempts (from this address, or account-wide). */
export class TooManyAttemptsError extends DomainError {
  /**
   * `refused`: attempts refused on this counter since its last allowed one
   * (the audit records the 1st, 2nd, 4th, 8th...: a flood cannot flood the audit table).
   */
  constructor(
    readonly retryAfterSeconds: number,
    readonly scope: 'address' | 'account',
    readonly refused = 1,
  ) {
    super(429, 'too-many-attempts', 'Too many failed login attempts, retry later', { retry_after: retryAfterSeconds });
  }
}

/** 429: this client address sends more requests than its rate limit allows. */
export class RateLimitedError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'too-many-requests', 'Too many requests, retry later', { retry_after: retryAfterSeconds });
  }
}
