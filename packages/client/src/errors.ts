// Typed errors. Every failure of a call is one of these classes (or the
// caller's own AbortError when its signal aborted the call), so callers can
// branch with `instanceof` instead of parsing bodies.
//
//   ApiError                      any answer the client did not expect
//   ├─ UnauthorizedError          401 (bad credentials, unauthorized tenant...)
//   │  ├─ InvalidTokenError       the token is unknown or expired
//   │  └─ MissingPermissionError  the token lacks the required access (or tenant)
//   ├─ InvalidDataError           400
//   ├─ NotFoundError              404 on a resource (unknown-user, unknown-policy...)
//   ├─ ConflictError              409
//   ├─ RateLimitedError           429, with retryAfter
//   └─ ServiceUnavailableError    503, connection failures and timeouts

import { STATUS_CODES } from 'node:http';

/** The error body of the management endpoints (API.md §7). */
export interface ApiErrorBody {
  message?: string;
  error_id?: string;
  details?: Record<string, unknown>;
  timestamp?: number;
  resource?: string;
  /** The legacy body of the token endpoints. */
  reason?: string[];
  status_code?: number;
}

export interface ApiErrorInit {
  status: number;
  message: string;
  errorId?: string | null;
  details?: Record<string, unknown>;
  resource?: string | null;
  body?: unknown;
  method?: string;
  path?: string;
  cause?: unknown;
}

export class ApiError extends Error {
  override name = 'ApiError';
  /** HTTP status, or 0 when no answer was received. */
  readonly status: number;
  /** The service's stable error id (`unauthorized`, `unknown-user`...), when it sent one. */
  readonly errorId: string | null;
  readonly details: Record<string, unknown>;
  readonly resource: string | null;
  /** The parsed response body, when there was one. */
  readonly body: unknown;
  /** The request, for logs (never its credentials). */
  readonly method: string;
  readonly path: string;

  constructor(init: ApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.errorId = init.errorId ?? null;
    this.details = init.details ?? {};
    this.resource = init.resource ?? null;
    this.body = init.body;
    this.method = init.method ?? '';
    this.path = init.path ?? '';
  }
}

export class UnauthorizedError extends ApiError {
  override name = 'UnauthorizedError';
}

/**
 * POST /token: the password was right and the user has a second factor
 * (`mfa-required`), or the factor given was wrong (`mfa-invalid`). Repeat
 * token.create() with the same options plus `mfaChallenge: err.challenge` and
 * `totp`, `recoveryCode` or `webauthn` (or use token.createWithSecondFactor()).
 */
export class MfaRequiredError extends UnauthorizedError {
  override name = 'MfaRequiredError';
  /** Single use, short-lived. */
  readonly challenge: string;
  /** The user's factor types: `totp`, `webauthn`, `recovery_code`. */
  readonly factors: string[];
  /** The previous attempt's factor was wrong (`mfa-invalid`). */
  readonly failed: boolean;

  constructor(init: ApiErrorInit) {
    super(init);
    const d = init.details ?? {};
    this.challenge = typeof d.mfa_challenge === 'string' ? d.mfa_challenge : '';
    this.factors = Array.isArray(d.factors) ? d.factors.filter((f): f is string => typeof f === 'string') : [];
    this.failed = init.errorId === 'mfa-invalid';
  }
}

/** POST /token: the user must enrol a second factor first; `token` can only do that (`auth.users.me.mfa.#`). */
export class MfaEnrolmentRequiredError extends UnauthorizedError {
  override name = 'MfaEnrolmentRequiredError';
  readonly token: string;

  constructor(init: ApiErrorInit) {
    super(init);
    const t = (init.details ?? {}).token;
    this.token = typeof t === 'string' ? t : '';
  }
}

/** The token is unknown, expired or revoked (404 on /token, 401 `not_found_or_expired` elsewhere). */
export class InvalidTokenError extends UnauthorizedError {
  override name = 'InvalidTokenError';
}

/** The token is valid but does not grant the access (or tenant) asked for. */
export class MissingPermissionError extends UnauthorizedError {
  override name = 'MissingPermissionError';
  /** The access that was required, when the service said which. */
  readonly requiredAccess: string | null;
  constructor(init: ApiErrorInit & { requiredAccess?: string | null }) {
    super(init);
    this.requiredAccess = init.requiredAccess ?? null;
  }
}

export class InvalidDataError extends ApiError {
  override name = 'InvalidDataError';
}

export class NotFoundError extends ApiError {
  override name = 'NotFoundError';
}

export class ConflictError extends ApiError {
  override name = 'ConflictError';
}

export class RateLimitedError extends ApiError {
  override name = 'RateLimitedError';
  /** Seconds to wait, from `Retry-After`, or null when the service gave none. */
  readonly retryAfter: number | null;
  constructor(init: ApiErrorInit & { retryAfter: number | null }) {
    super(init);
    this.retryAfter = init.retryAfter;
  }
}

export class ServiceUnavailableError extends ApiError {
  override name = 'ServiceUnavailableError';
  /** Seconds to wait, from `Retry-After`, or null. */
  readonly retryAfter: number | null;
  /** True when the call gave up because its timeout elapsed. */
  readonly timedOut: boolean;
  constructor(init: ApiErrorInit & { retryAfter?: number | null; timedOut?: boolean }) {
    super(init);
    this.retryAfter = init.retryAfter ?? null;
    this.timedOut = init.timedOut ?? false;
  }
}

/** `Retry-After` as seconds (delta-seconds or an HTTP date), or null. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (value === undefined || value.trim() === '') return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const date = Date.parse(v);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/**
 * The typed error for an answer. `tokenEndpoint`: the legacy /token endpoints,
 * where 404 means an unknown token and 403 a missing scope.
 */
export function errorFromResponse(
  status: number,
  body: unknown,
  headers: Record<string, string | string[] | undefined>,
  request: { method: string; path: string; tokenEndpoint: boolean },
): ApiError {
  const b = asRecord(body) as ApiErrorBody;
  const details = asRecord(b.details);
  const legacyReason = Array.isArray(b.reason) && typeof b.reason[0] === 'string' ? b.reason[0] : null;
  const message = typeof b.message === 'string' ? b.message : (legacyReason ?? STATUS_CODES[status] ?? `HTTP ${status}`);
  const retryHeader = headers['retry-after'];
  const retryAfter = parseRetryAfter(Array.isArray(retryHeader) ? retryHeader[0] : retryHeader);
  const init: ApiErrorInit = {
    status,
    message,
    errorId: typeof b.error_id === 'string' ? b.error_id : null,
    details,
    resource: typeof b.resource === 'string' ? b.resource : null,
    body,
    method: request.method,
    path: request.path,
  };
  switch (status) {
    case 400:
      return new InvalidDataError(init);
    case 401: {
      if (init.errorId === 'mfa-required' || init.errorId === 'mfa-invalid') return new MfaRequiredError(init);
      if (init.errorId === 'mfa-enrolment-required') return new MfaEnrolmentRequiredError(init);
      const reason = details.reason;
      if (reason === 'not_found_or_expired') return new InvalidTokenError(init);
      if (reason === 'missing_permission_or_invalid_tenant') {
        const required = details.required_access;
        return new MissingPermissionError({ ...init, requiredAccess: typeof required === 'string' ? required : null });
      }
      return new UnauthorizedError(init);
    }
    case 403:
      return request.tokenEndpoint ? new MissingPermissionError(init) : new ApiError(init);
    case 404:
      return request.tokenEndpoint ? new InvalidTokenError(init) : new NotFoundError(init);
    case 409:
      return new ConflictError(init);
    case 429:
      return new RateLimitedError({ ...init, retryAfter });
    case 502:
    case 503:
    case 504:
      return new ServiceUnavailableError({ ...init, retryAfter });
    default:
      return new ApiError(init);
  }
}
