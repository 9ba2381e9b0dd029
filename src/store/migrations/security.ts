// Migration 6: login throttling and audit trail (issue 7), for both dialects.
// Kept in its own file so features add their schema without editing each other's.
import type { Migration } from './migration.js';

// The same statements suit both engines (SQLite maps BIGINT to INTEGER).
const securitySql = `
-- Failed-login counters, shared by every instance (src/security/login-throttle.ts).
-- key: 'p:' + sha256(login, address) for one login from one address,
--      'a:' + sha256(login) for the whole account,
--      't:' + sha256(login, address) for an address that logged in successfully.
-- Logins and addresses are hashed: the table holds no user-typed text.
CREATE TABLE login_throttle (
  key             TEXT NOT NULL CONSTRAINT login_throttle_pkey PRIMARY KEY,
  failures        INTEGER NOT NULL DEFAULT 0,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL DEFAULT 0,
  allowed         INTEGER NOT NULL DEFAULT 1,
  updated_at      BIGINT NOT NULL
);
CREATE INDEX login_throttle_updated_at_idx ON login_throttle (updated_at);

-- Audit trail (src/security/audit.ts); never holds a secret.
CREATE TABLE audit_records (
  uuid          TEXT NOT NULL CONSTRAINT audit_records_pkey PRIMARY KEY,
  at            BIGINT NOT NULL,
  action        TEXT NOT NULL,
  outcome       TEXT NOT NULL,
  tenant_uuid   TEXT,
  actor_uuid    TEXT,
  actor_auth_id TEXT,
  login         TEXT,
  remote_addr   TEXT,
  target_type   TEXT,
  target_id     TEXT,
  status_code   INTEGER,
  details       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_records_tenant_uuid_at_idx ON audit_records (tenant_uuid, at);
CREATE INDEX audit_records_at_idx ON audit_records (at);
`;

export const securitySqlite: readonly Migration[] = [{ version: 6, name: 'login throttle and audit trail', sql: securitySql }];
export const securityPostgres: readonly Migration[] = [{ version: 6, name: 'login throttle and audit trail', sql: securitySql }];
