// Domain errors: services throw these; src/http/errors.ts turns them into
// responses in one place. `publicMessage` is safe to show; `cause` never is.

export type ErrorDetails = Record<string, unknown>;

export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly errorId: string,
    readonly publicMessage: string,
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown; resource?: string },
  ) {
    super(publicMessage, options);
    this.name = new.target.name;
    this.resource = options?.resource;
  }
  readonly resource?: string;
}

/** 400: the request body or parameters are invalid. `details` names the fields. */
export class InvalidDataError extends DomainError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(400, 'invalid-data', message, details);
  }
}

export class InvalidListParamError extends DomainError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(400, 'invalid-list-param', message, details);
  }
}

/** 401 on POST /token: every credential failure looks the same. */
export class AuthenticationFailedError extends DomainError {
  constructor() {
    super(401, 'authentication-failed', 'Authentication Failed');
  }
}

/** 404 on token checks: unknown, expired or malformed token. */
export class NoSuchTokenError extends DomainError {
  constructor() {
    super(404, 'no-such-token', 'No such token');
  }
}

/** 403 on token checks: the token's ACL does not grant the scope. */
export class ScopeDeniedError extends DomainError {
  constructor(scope: string) {
    super(403, 'unauthorized-scope', `Unauthorized for ${scope}`);
  }
}

/** 403 on token checks: the tenant is outside the token's subtree. */
export class TenantDeniedError extends DomainError {
  constructor(tenant: string) {
    super(403, 'unauthorized-tenant', `Unauthorized for tenant ${tenant}`);
  }
}

export class TooManySessionsError extends DomainError {
  constructor(max: number) {
    super(429, 'too-many-sessions', `Maximum number of concurrent sessions (${max}) reached`);
  }
}

/** 401 on protected endpoints (X-Auth-Token missing, invalid, or lacking access). */
export class UnauthorizedError extends DomainError {
  constructor(
    token: string | null,
    reason: 'not_found_or_expired' | 'missing_permission_or_invalid_tenant',
    requiredAccess: string,
  ) {
    // The token value itself is a secret: never echo it back.
    super(401, 'unauthorized', 'Unauthorized', {
      invalid_token: token === null ? null : '<redacted>',
      reason,
      required_access: requiredAccess,
    });
  }
}

export class UnauthorizedTenantError extends DomainError {
  constructor(tenant: string) {
    super(401, 'unauthorized-tenant', `Unauthorized tenant: ${tenant}`, { tenant_uuid: tenant });
  }
}

/** 401 when an old password does not match. */
export class WrongPasswordError extends DomainError {
  constructor() {
    super(401, 'unauthorized', 'Unauthorized', {});
  }
}

export class NotFoundError extends DomainError {
  constructor(errorId: string, resource: string, id: string) {
    super(404, errorId, `No such ${resource}: "${id}"`, { id }, { resource });
  }
}

export class ConflictError extends DomainError {
  constructor(resource: string, field: string | undefined, message: string) {
    super(409, 'conflict', message, field ? { [field]: { constraint_id: 'unique', message } } : {}, { resource });
  }
}

/** 503: a dependency (store, hashing pool) cannot serve now. */
export class ServiceUnavailableError extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(503, 'service-unavailable', message, {}, options);
  }
}

/**
 * 503 because the service is at capacity (password hashing's queue is
 * full), not broken: the callers that know better say what was busy and
 * when to retry.
 */
export class AtCapacityError extends ServiceUnavailableError {}

/** 403 on IAM endpoints: the resource exists and is visible, but may not be changed this way. */
export class ForbiddenError extends DomainError {
  constructor(message: string, resource: string, details: ErrorDetails = {}) {
    super(403, 'forbidden', message, details, { resource });
  }
}

/** 409 when a change would break a rule about related resources (e.g. a tenant with sub-tenants). */
export class StateConflictError extends DomainError {
  constructor(resource: string, field: string, constraint: string, message: string) {
    super(409, 'conflict', message, { [field]: { constraint_id: constraint, message } }, { resource });
  }
}
