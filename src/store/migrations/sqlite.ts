// SQLite schema, one entry per migration, in order.
// Booleans are INTEGER 0/1, times INTEGER epoch milliseconds, JSON as TEXT.
// Index and constraint names match the PostgreSQL ones, so that
// ../constraint-fields.ts can name the field behind a conflict on both engines.

import type { Migration } from './migration.js';
import { backendsSqlite } from './backends.js';
import { outboxSqlite } from './outbox.js';
import { securitySqlite } from './security.js';
import { performanceSqlite } from './performance.js';
import { uniqueLoginsSqlite } from './unique-logins.js';
import { userEmailsSqlite } from './user-emails.js';
import { tenantDetailsSqlite } from './tenant-details.js';
import { refreshTokenLifecycleSqlite } from './refresh-token-lifecycle.js';
import { externalAuthSqlite } from './external-auth.js';
import { selfServiceSqlite } from './self-service.js';
import { mfaSqlite } from './mfa.js';
import { mfaTenantPolicySqlite } from './mfa-tenant-policy.js';
import { ssoSqlite } from './sso.js';

export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE tenants (
  uuid        TEXT PRIMARY KEY NOT NULL,
  name        TEXT,
  slug        TEXT,
  parent_uuid TEXT REFERENCES tenants (uuid)
);
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);
CREATE INDEX tenants_parent_uuid_idx ON tenants (parent_uuid);

CREATE TABLE users (
  uuid            TEXT PRIMARY KEY NOT NULL,
  tenant_uuid     TEXT NOT NULL REFERENCES tenants (uuid),
  username        TEXT,
  firstname       TEXT,
  lastname        TEXT,
  email_address   TEXT,
  email_confirmed INTEGER NOT NULL DEFAULT 0 CHECK (email_confirmed IN (0, 1)),
  password_hash   TEXT,
  purpose         TEXT NOT NULL CHECK (purpose IN ('user', 'internal', 'external_api')),
  enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  created_at      INTEGER NOT NULL
);
-- Logins are matched case-insensitively, so uniqueness is too.
-- (SQLite's lower() folds ASCII letters only.)
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_address_key ON users (lower(email_address));
CREATE INDEX users_tenant_uuid_idx ON users (tenant_uuid);

CREATE TABLE policies (
  uuid        TEXT PRIMARY KEY NOT NULL,
  tenant_uuid TEXT NOT NULL REFERENCES tenants (uuid),
  name        TEXT NOT NULL,
  slug        TEXT NOT NULL,
  description TEXT,
  acl         TEXT NOT NULL DEFAULT '[]',
  shared      INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),
  read_only   INTEGER NOT NULL DEFAULT 0 CHECK (read_only IN (0, 1)),
  CONSTRAINT policies_tenant_uuid_slug_key UNIQUE (tenant_uuid, slug)
);

CREATE TABLE user_policy (
  user_uuid   TEXT NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
  policy_uuid TEXT NOT NULL REFERENCES policies (uuid) ON DELETE CASCADE,
  PRIMARY KEY (user_uuid, policy_uuid)
);
CREATE INDEX user_policy_policy_uuid_idx ON user_policy (policy_uuid);

-- user_uuid and tenant_uuid of sessions and tokens are the identity a backend
-- returned; a backend may speak for users this database does not hold, hence no
-- foreign keys there.
CREATE TABLE sessions (
  uuid        TEXT PRIMARY KEY NOT NULL,
  tenant_uuid TEXT NOT NULL,
  user_uuid   TEXT,
  mobile      INTEGER NOT NULL DEFAULT 0 CHECK (mobile IN (0, 1)),
  created_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user_uuid_idx ON sessions (user_uuid);

CREATE TABLE tokens (
  hash               TEXT PRIMARY KEY NOT NULL,
  session_uuid       TEXT NOT NULL REFERENCES sessions (uuid) ON DELETE CASCADE,
  auth_id            TEXT NOT NULL,
  user_uuid          TEXT,
  tenant_uuid        TEXT,
  pbx_user_uuid      TEXT,
  xivo_uuid          TEXT,
  issued_at          INTEGER NOT NULL,
  expires_at         INTEGER NOT NULL,
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
  uuid        TEXT PRIMARY KEY NOT NULL,
  hash        TEXT NOT NULL,
  client_id   TEXT NOT NULL,
  user_uuid   TEXT NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
  tenant_uuid TEXT NOT NULL,
  backend     TEXT NOT NULL,
  login       TEXT NOT NULL,
  mobile      INTEGER NOT NULL DEFAULT 0 CHECK (mobile IN (0, 1)),
  created_at  INTEGER NOT NULL,
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
  system_managed INTEGER NOT NULL DEFAULT 0 CHECK (system_managed IN (0, 1)),
  CONSTRAINT groups_tenant_uuid_slug_key UNIQUE (tenant_uuid, slug)
);
-- At most one "all users" group per tenant.
CREATE UNIQUE INDEX groups_tenant_uuid_system_key ON groups (tenant_uuid) WHERE system_managed = 1;

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
  ...outboxSqlite,
  ...backendsSqlite,
  ...securitySqlite,
  ...performanceSqlite,
  ...uniqueLoginsSqlite,
  ...userEmailsSqlite,
  ...tenantDetailsSqlite,
  ...refreshTokenLifecycleSqlite,
  ...externalAuthSqlite,
  // 14 self-service accounts: emailed tokens, mail outbox (issue 21).
  ...selfServiceSqlite,
  // 15 multi-factor authentication (issue 24).
  ...mfaSqlite,
  // 16 single sign-on: SAML and OpenID Connect identity providers (issue 23).
  ...ssoSqlite,
  // 17 multi-factor authentication per tenant and for single sign-on (issue 24).
  ...mfaTenantPolicySqlite,
];
