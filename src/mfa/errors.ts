// Errors of multi-factor authentication (issue 24). On POST /token they are
// answered with the legacy token body plus error_id and details
// (src/http/errors.ts): old clients still see a 401.
import { DomainError } from '../errors.js';
import type { MfaFactorType } from './types.js';

/** 401 on POST /token: the password was right; answer the challenge with a factor. */
export class MfaRequiredError extends DomainError {
  constructor(challenge: string, factors: MfaFactorType[], expiresIn: number) {
    super(401, 'mfa-required', 'Multi-factor authentication required', {
      mfa_challenge: challenge,
      factors,
      expires_in: expiresIn,
    });
  }
}

/**
 * 401 on POST /token: the challenge or the factor did not verify (counted in
 * the login throttle as a failed login). Carries a fresh challenge: the
 * password was right, so the client may try again without starting over.
 */
export class MfaInvalidError extends DomainError {
  constructor(challenge: string, factors: MfaFactorType[], expiresIn: number) {
    super(401, 'mfa-invalid', 'Multi-factor authentication failed', { mfa_challenge: challenge, factors, expires_in: expiresIn });
  }
}

/** 401 on POST /token: the user must enrol a second factor; the token given can only do that. */
export class MfaEnrolmentRequiredError extends DomainError {
  constructor(details: Record<string, unknown>) {
    super(401, 'mfa-enrolment-required', 'A second factor must be enrolled first', details);
  }
}

/** 403: enrolment is the user's own business (an administrator lists and removes, never enrols). */
export class MfaSelfOnlyError extends DomainError {
  constructor() {
    super(403, 'forbidden', 'Only the user itself may enrol a second factor', {}, { resource: 'mfa' });
  }
}
