// Migration 17: multi-factor authentication per tenant and for single
// sign-on (issue 24 §3, §2), for both dialects. Kept in its own file so
// features add their schema without editing each other's.
//
// - mfa_tenant_policies: a tenant's own `mfa.required_for` rule (ACL
//   patterns and purposes, JSON arrays), set by its administrators
//   (PUT /tenants/{uuid}/mfa). It only adds to the configuration's rule and
//   to its ancestors' (src/mfa/service.ts). Goes with its tenant.
// - mfa_challenges.sso: the principal an identity provider proved (JSON:
//   method, user, tenant, login, the SSO session's reference, the deadline
//   of the proof) when the challenge answers a single sign-on login: the
//   second POST /token has no credentials of its own to repeat. Null for
//   password logins, hence for every existing row.
// Nothing existing changes otherwise.
import type { Migration } from './migration.js';

// The same statements suit both engines (SQLite maps BIGINT to INTEGER; an
// added column without a default or constraint is allowed on both).
const mfaTenantPolicySql = `
CREATE TABLE mfa_tenant_policies (
  tenant_uuid TEXT NOT NULL CONSTRAINT mfa_tenant_policies_pkey PRIMARY KEY
                CONSTRAINT mfa_tenant_policies_tenant_uuid_fkey REFERENCES tenants (uuid) ON DELETE CASCADE,
  acl         TEXT NOT NULL DEFAULT '[]',
  purposes    TEXT NOT NULL DEFAULT '[]',
  updated_at  BIGINT NOT NULL
);

ALTER TABLE mfa_challenges ADD COLUMN sso TEXT;
`;

function mfaTenantPolicy(): Migration[] {
  return [
    {
      version: 17,
      name: 'multi-factor authentication: per-tenant required_for, single sign-on challenges',
      sql: mfaTenantPolicySql,
    },
  ];
}

export const mfaTenantPolicySqlite: readonly Migration[] = mfaTenantPolicy();
export const mfaTenantPolicyPostgres: readonly Migration[] = mfaTenantPolicy();
