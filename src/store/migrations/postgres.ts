// PostgreSQL schema, one entry per migration, in order.
// uuids are TEXT (as on SQLite) so both engines compare them the same way and a
// malformed uuid is simply not found rather than a type error.
// Times are BIGINT epoch milliseconds, JSON as TEXT.
// Constraint names are spelled out: ../constraint-fields.ts maps them to fields.

import type { Migration } from './migration.js';
import { backendsPostgres } from './backends.js';
import { outboxPostgres } from './outbox.js';
import { securityPostgres } from './security.js';
import { performancePostgres } from './performance.js';
import { uniqueLoginsPostgres } from './unique-logins.js';
import { userEmailsPostgres } from './user-emails.js';
import { tenantDetailsPostgres } from './tenant-details.js';
import { refreshTokenLifecyclePostgres } from './refresh-token-lifecycle.js';
import { externalAuthPostgres } from './external-auth.js';
import { selfServicePostgres } from './self-service.js';
import { mfaPostgres } from './mfa.js';
import { mfaTenantPolicyPostgres } from './mfa-tenant-policy.js';
import { ssoPostgres } from './sso.js';

export const postgresMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE tenants (
  uuid        TEXT NOT NULL CONSTRAINT tenants_pkey PRIMARY KEY,
  name        TEXT,
  slug        TEXT,
  parent_uuid TEXT CONSTRAINT tenants_parent_uuid_fkey REFERENCES tenants (uuid)
);
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);
CREATE INDEX tenants_parent_uuid_idx ON tenants (parent_uuid);

CREATE TABLE users (
  uuid            TEXT NOT NULL CONSTRAINT users_pkey PRIMARY KEY,
  tenant_uuid     TEXT NOT NULL CONSTRAINT users_tenant_uuid_fkey REFERENCES tenants (uuid),
  username        TEXT,
  firstname       TEXT,
  lastname        TEXT,
  email_address   TEXT,
  email_confirmed BOOLEAN NOT NULL DEFAULT false,
  password_hash   TEXT,
  purpose         TEXT NOT NULL CONSTRAINT users_purpose_check
                    CHECK (purpose IN ('user', 'internal', 'external_api')),
  enabled         BOOLEAN NOT NULL DEFAULT true,
  created_at      BIGINT NOT NULL
);
-- Logins are matched case-insensitively, so uniqueness is too.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_address_key ON users (lower(email_address));
CREATE INDEX users_tenant_uuid_idx ON users (tenant_uuid);

CREATE TABLE policies (
  uuid        TEXT NOT NULL CONSTRAINT policies_pkey PRIMARY KEY,
  tenant_uuid TEXT NOT NULL CONSTRAINT policies_tenant_uuid_fkey REFERENCES tenants (uuid),
  name        TEXT NOT NULL,
  slug        TEXT NOT NULL,
  description TEXT,
  acl         TEXT NOT NULL DEFAULT '[]',
  shared      BOOLEAN NOT NULL DEFAULT false,
  read_only   BOOLEAN NOT NULL DEFAULT false,
  CONSTRAINT policies_tenant_uuid_slug_key UNIQUE (tenant_uuid, slug)
);

CREATE TABLE user_policy (
  user_uuid   TEXT NOT NULL CONSTRAINT user_policy_user_uuid_fkey
                REFERENCES users (uuid) ON DELETE CASCADE,
  policy_uuid TEXT NOT NULL CONSTRAINT user_policy_policy_uuid_fkey
                REFERENCES policies (uuid) ON DELETE CASCADE,
  CONSTRAINT user_policy_pkey PRIMARY KEY (user_uuid, policy_uuid)
);
CREATE INDEX user_policy_policy_uuid_idx ON user_policy (policy_uuid);

-- user_uuid and tenant_uuid of sessions and tokens are the identity a backend
-- returned; a backend may speak for users this database does not hold, hence no
-- foreign keys there.
CREATE TABLE sessions (
  uuid        TEXT NOT NULL CONSTRAINT sessions_pkey PRIMARY KEY,
  tenant_uuid TEXT NOT NULL,
  user_uuid   TEXT,
  mobile      BOOLEAN NOT NULL DEFAULT false,
  created_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user_uuid_idx ON sessions (user_uuid);

CREATE TABLE tokens (
  hash               TEXT NOT NULL CONSTRAINT tokens_pkey PRIMARY KEY,
  session_uuid       TEXT NOT NULL CONSTRAINT tokens_session_uuid_fkey
                       REFERENCES sessions (uuid) ON DELETE CASCADE,
  auth_id            TEXT NOT NULL,
  user_uuid          TEXT,
  tenant_uuid        TEXT,
  pbx_user_uuid      TEXT,
  xivo_uuid          TEXT,
  issued_at          BIGINT NOT NULL,
  expires_at         BIGINT NOT NULL,
  acl                TEXT NOT NULL DEFAULT '[]',
  metadata           TEXT NOT NULL DEFAULT '{}',
  remote_addr        TEXT,
  user_agent         TEXT,
  -- No foreign key: deleting a refresh token leaves the tokens issued from it.
  refresh_token_uuid TEXT
);
CREATE INDEX tokens_session_uuid_idx ON tokens (session_uuid);
CREATE INDEX tokens_expires_at_idx ON tokens (expires_at);
CREATE INDEX tokens_user_uuid_idx ON tokens (user_uuid);

CREATE TABLE refresh_tokens (
  uuid        TEXT NOT NULL CONSTRAINT refresh_tokens_pkey PRIMARY KEY,
  hash        TEXT NOT NULL,
  client_id   TEXT NOT NULL,
  user_uuid   TEXT NOT NULL CONSTRAINT refresh_tokens_user_uuid_fkey
                REFERENCES users (uuid) ON DELETE CASCADE,
  tenant_uuid TEXT NOT NULL,
  backend     TEXT NOT NULL,
  login       TEXT NOT NULL,
  mobile      BOOLEAN NOT NULL DEFAULT false,
  created_at  BIGINT NOT NULL,
  CONSTRAINT refresh_tokens_hash_key UNIQUE (hash),
  CONSTRAINT refresh_tokens_user_uuid_client_id_key UNIQUE (user_uuid, client_id)
);
`,
  },
  {
    version: 2,
    name: 'identity and access management',
    sql: `
-- Identity and access management (issue 3): tenant domain names, groups with
-- their members and policies, and the indexes the tenant-scoped lists page on.
ALTER TABLE tenants ADD COLUMN domain_names TEXT NOT NULL DEFAULT '[]';

CREATE TABLE groups (
  uuid           TEXT NOT NULL CONSTRAINT groups_pkey PRIMARY KEY,
  tenant_uuid    TEXT NOT NULL CONSTRAINT groups_tenant_uuid_fkey REFERENCES tenants (uuid),
  name           TEXT NOT NULL,
  slug           TEXT NOT NULL,
  system_managed BOOLEAN NOT NULL DEFAULT false,
  CONSTRAINT groups_tenant_uuid_slug_key UNIQUE (tenant_uuid, slug)
);
-- At most one "all users" group per tenant.
CREATE UNIQUE INDEX groups_tenant_uuid_system_key ON groups (tenant_uuid) WHERE system_managed = true;

CREATE TABLE group_users (
  group_uuid TEXT NOT NULL CONSTRAINT group_users_group_uuid_fkey REFERENCES groups (uuid) ON DELETE CASCADE,
  user_uuid  TEXT NOT NULL CONSTRAINT group_users_user_uuid_fkey REFERENCES users (uuid) ON DELETE CASCADE,
  CONSTRAINT group_users_pkey PRIMARY KEY (group_uuid, user_uuid)
);
CREATE INDEX group_users_user_uuid_idx ON group_users (user_uuid);

CREATE TABLE group_policy (
  group_uuid  TEXT NOT NULL CONSTRAINT group_policy_group_uuid_fkey REFERENCES groups (uuid) ON DELETE CASCADE,
  policy_uuid TEXT NOT NULL CONSTRAINT group_policy_policy_uuid_fkey REFERENCES policies (uuid) ON DELETE CASCADE,
  CONSTRAINT group_policy_pkey PRIMARY KEY (group_uuid, policy_uuid)
);
CREATE INDEX group_policy_policy_uuid_idx ON group_policy (policy_uuid);

-- Tenant-scoped lists, in their default order: the key is the ORDER BY of
-- ../list-query.ts orderTerms() (nulls last, case-insensitive, then the
-- column, then the primary key), so a page of one tenant's rows is read from
-- the index in order instead of sorting the tenant's rows.
CREATE INDEX sessions_tenant_uuid_idx ON sessions (tenant_uuid, (uuid IS NULL), uuid);
CREATE INDEX users_tenant_uuid_username_idx ON users (tenant_uuid, (username IS NULL), lower(username), username, uuid);
CREATE INDEX policies_tenant_uuid_name_idx ON policies (tenant_uuid, (name IS NULL), lower(name), name, uuid);
CREATE INDEX groups_tenant_uuid_name_idx ON groups (tenant_uuid, (name IS NULL), lower(name), name, uuid);
`,
  },
  {
    version: 3,
    name: 'tokens by refresh token',
    sql: `
-- RFC 7009 (issue 8): revoking a refresh token deletes the access tokens issued from it.
CREATE INDEX IF NOT EXISTS tokens_refresh_token_uuid_idx ON tokens (refresh_token_uuid);
`,
  },
  // Later versions live in one file per feature (4 outbox, 5 backends, 6 security, 7 performance,
  // 8-9 unique logins and domain names, 10 user email addresses, 11 tenant details,
  // 12 refresh-token lifecycle, 13 external auth).
  ...outboxPostgres,
  ...backendsPostgres,
  ...securityPostgres,
  ...performancePostgres,
  ...uniqueLoginsPostgres,
  ...userEmailsPostgres,
  ...tenantDetailsPostgres,
  ...refreshTokenLifecyclePostgres,
  ...externalAuthPostgres,
  // 14 self-service accounts: emailed tokens, mail outbox (issue 21).
  ...selfServicePostgres,
  // 15 multi-factor authentication (issue 24).
  ...mfaPostgres,
  // 16 single sign-on: SAML and OpenID Connect identity providers (issue 23).
  ...ssoPostgres,
  // 17 multi-factor authentication per tenant and for single sign-on (issue 24).
  ...mfaTenantPolicyPostgres,
];
