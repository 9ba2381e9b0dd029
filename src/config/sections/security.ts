// Configuration of the security features (issue 7): login throttling, rate
// limits, HTTP hardening, password policy and the audit trail. Plugged into
// the one schema of src/config/schema.ts; defaults and descriptions live here.
import { Type, type Static } from '@sinclair/typebox';

const Bucket = (perSecond: number, burst: number, what: string) =>
  Type.Object(
    {
      per_second: Type.Number({
        minimum: 0,
        default: perSecond,
        description: `Sustained ${what} per second and client address; 0 disables this limit.`,
      }),
      burst: Type.Integer({
        minimum: 1,
        default: burst,
        description: `${what[0].toUpperCase()}${what.slice(1)} a client address may make at once before the sustained rate applies.`,
      }),
    },
    { default: {}, description: `Token bucket for ${what}.` },
  );

export const SecuritySchema = Type.Object(
  {
    login_throttle: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description:
            'Throttle password guessing (POST /0.1/token with Basic credentials); counters live in the store, shared by every instance.',
        }),
        threshold: Type.Integer({
          minimum: 1,
          default: 5,
          description: 'Consecutive failed logins for one login from one client address before back-off starts.',
        }),
        base_delay_seconds: Type.Number({
          exclusiveMinimum: 0,
          default: 1,
          description: 'First back-off delay; it doubles with every further failure.',
        }),
        max_delay_seconds: Type.Number({
          exclusiveMinimum: 0,
          default: 900,
          description: 'Cap of the back-off delay for one (login, address).',
        }),
        account_threshold: Type.Integer({
          minimum: 1,
          default: 100,
          description: 'Consecutive failed logins for one login, from every address, before the whole account is slowed down.',
        }),
        account_delay_seconds: Type.Number({
          exclusiveMinimum: 0,
          default: 1,
          description:
            'Past account_threshold, at most one attempt on the account per this many seconds from addresses that have not logged in to it successfully.',
        }),
        trusted_address_days: Type.Number({
          minimum: 0,
          default: 30,
          description:
            'Days an address that logged in successfully stays exempt from the account-wide slow-down (0: no exemption).',
        }),
        reset_after_seconds: Type.Number({
          exclusiveMinimum: 0,
          default: 86400,
          description: 'Counters with no attempt for this long start again from zero (and are purged).',
        }),
      },
      { default: {}, description: 'Brute-force protection of password logins.' },
    ),
    rate_limits: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Limit requests per client address (in memory, per instance).' }),
        max_addresses: Type.Integer({
          minimum: 1,
          default: 100000,
          description: 'Client addresses tracked at once per limit (least recently seen forgotten first).',
        }),
        login: Bucket(10, 100, 'logins (POST /0.1/token)'),
        api: Bucket(100, 1000, 'requests to the other endpoints (IAM, revocation, ...)'),
        // Generous for services checking their users' tokens; a gateway that
        // checks for many users from one address may need more (docs/security.md).
        checks: Bucket(5000, 10000, 'token checks (HEAD/GET /0.1/token/{token}, /0.1/authz)'),
      },
      { default: {}, description: 'Rate limits per client address; over the limit: 429 with Retry-After.' },
    ),
    max_header_bytes: Type.Integer({
      minimum: 1024,
      default: 16384,
      description: 'Largest accepted request head (request line and headers), in bytes; larger: 431.',
    }),
    hsts_max_age: Type.Integer({
      minimum: 0,
      default: 31536000,
      description: 'Strict-Transport-Security max-age sent over HTTPS (0: no header).',
    }),
  },
  { default: {}, description: 'Brute-force protection, rate limits and HTTP hardening.' },
);

export const PasswordPolicySchema = Type.Object(
  {
    min_length: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: 8,
      description:
        'Shortest password accepted for a new password (user creation, password change); at most 1024 characters are ever accepted.',
    }),
    reject_common: Type.Boolean({
      default: true,
      description: 'Refuse passwords found in the bundled list of the most common passwords.',
    }),
  },
  { default: {}, description: 'Rules for new passwords.' },
);

export const AuditSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Write audit records (log line with audit=true, and the audit table read by GET /0.1/audit).',
    }),
    retention_days: Type.Number({ exclusiveMinimum: 0, default: 30, description: 'Audit records older than this are deleted.' }),
    purge_interval_seconds: Type.Number({
      exclusiveMinimum: 0,
      default: 3600,
      description: 'Seconds between two purges of old audit records and stale login counters.',
    }),
  },
  { default: {}, description: 'Audit trail of logins, throttling decisions and administrative changes.' },
);

export type SecurityConfig = Static<typeof SecuritySchema>;
export type PasswordPolicyConfig = Static<typeof PasswordPolicySchema>;
export type AuditConfig = Static<typeof AuditSchema>;
