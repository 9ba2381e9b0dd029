// Refusals in xivo-auth's documented shape (API.md §4, §7): 401
// {message, error_id: "unauthorized", details: {invalid_token, reason,
// required_access}, timestamp} with a WWW-Authenticate challenge (RFC 6750),
// or 503 `service-unavailable` with Retry-After. The token is never echoed.
import { VerificationError } from './verifier.js';

export interface Refusal {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const REALM = 'xivo-auth';

function quoted(s: string): string {
  return s.replace(/["\\]/g, '\\$&');
}

export function refusalFor(err: VerificationError): Refusal {
  const timestamp = Date.now() / 1000;
  if (err.status === 503) {
    return {
      status: 503,
      headers: { 'retry-after': '1', 'cache-control': 'no-store' },
      body: { message: 'Authentication service unavailable', error_id: 'service-unavailable', details: {}, timestamp },
    };
  }
  const challenge =
    err.reason === 'missing_permission_or_invalid_tenant'
      ? `Bearer realm="${REALM}", error="insufficient_scope"${err.requiredAccess !== null ? `, scope="${quoted(err.requiredAccess)}"` : ''}`
      : err.hadToken
        ? `Bearer realm="${REALM}", error="invalid_token"`
        : `Bearer realm="${REALM}"`;
  return {
    status: 401,
    headers: { 'www-authenticate': challenge, 'cache-control': 'no-store' },
    body: {
      message: 'Unauthorized',
      error_id: 'unauthorized',
      details: {
        invalid_token: err.hadToken ? '<redacted>' : null,
        reason: err.reason,
        required_access: err.requiredAccess,
      },
      timestamp,
    },
  };
}

/** The token of a request: `X-Auth-Token`, else `Authorization: Bearer`. */
export function tokenFromHeaders(headers: Record<string, string | string[] | undefined>): string | null {
  const x = headers['x-auth-token'];
  if (typeof x === 'string' && x !== '') return x;
  const authz = headers.authorization;
  if (typeof authz === 'string') {
    const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authz);
    if (m !== null) return m[1];
  }
  return null;
}

export function tenantFromHeaders(headers: Record<string, string | string[] | undefined>): string | null {
  const t = headers['wazo-tenant'];
  return typeof t === 'string' && t !== '' ? t : null;
}
