// SQLite schema, one entry per migration, in order.
// Booleans are INTEGER 0/1, times INTEGER epoch milliseconds, JSON as TEXT.
// Index and constraint names match the PostgreSQL ones, so that
// ../constraint-fields.ts can name the field behind a conflict on both engines.

import type { Migration } from './migration.js';

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
];
