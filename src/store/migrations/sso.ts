// Migration 16: single sign-on (issue 23), for both dialects. Kept in its own
// file so features add their schema without editing each other's.
//
// - tenants.default_authentication_method may also be `oidc`. The CHECK of
//   migration 11 is replaced: PostgreSQL drops and re-adds the constraint;
//   SQLite cannot alter a CHECK, so the column is rebuilt in place (a new
//   column with the new CHECK, the values copied, the old one dropped, the
//   new one renamed): the tenants table itself is never dropped, so nothing
//   referencing it cascades. users.authentication_method has no CHECK: its
//   values (default, native, ldap, saml, oidc) are checked by the API.
// - sso_configs: a tenant's identity provider of one kind (saml, oidc).
//   `data` holds what GET returns (issuer, client id, scopes, claims; SAML:
//   domain, entity id, ACS URL, the IdP's metadata XML), `secrets` the
//   write-only fields (the OIDC client secret), sealed with AES-256-GCM by
//   the service (the external-auth key, src/external/secret-box.ts).
// - sso_sessions: a login in progress with an IdP, then its outcome. Looked
//   up by the hash of its id (the client's saml_session_id / oidc_session_id)
//   and by the hash of the request key the IdP sends back (OIDC `state`,
//   the SAML AuthnRequest ID); never by a value in clear. Completed by the
//   IdP's answer (user_uuid set), consumed once by POST /token. Any instance
//   completes them: they live here, not in a process.
// - sso_replays: assertions already accepted (SAML assertion ids, OIDC ID
//   token jti/nonce), kept until they expire: a replayed one is refused.
import { sql } from 'kysely';
import type { Migration } from './migration.js';

const ssoTablesSql = `
CREATE TABLE sso_configs (
  tenant_uuid TEXT NOT NULL CONSTRAINT sso_configs_tenant_uuid_fkey
                REFERENCES tenants (uuid) ON DELETE CASCADE,
  kind        TEXT NOT NULL CONSTRAINT sso_configs_kind_check CHECK (kind IN ('saml', 'oidc')),
  data        TEXT NOT NULL DEFAULT '{}',
  secrets     TEXT,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  CONSTRAINT sso_configs_pkey PRIMARY KEY (tenant_uuid, kind)
);

CREATE TABLE sso_sessions (
  id_hash            TEXT NOT NULL CONSTRAINT sso_sessions_pkey PRIMARY KEY,
  request_key_hash   TEXT NOT NULL,
  kind               TEXT NOT NULL CONSTRAINT sso_sessions_kind_check CHECK (kind IN ('saml', 'oidc')),
  tenant_uuid        TEXT NOT NULL CONSTRAINT sso_sessions_tenant_uuid_fkey
                       REFERENCES tenants (uuid) ON DELETE CASCADE,
  redirect_url       TEXT NOT NULL,
  data               TEXT NOT NULL DEFAULT '{}',
  user_uuid          TEXT CONSTRAINT sso_sessions_user_uuid_fkey REFERENCES users (uuid) ON DELETE CASCADE,
  login              TEXT,
  token_session_uuid TEXT,
  created_at         BIGINT NOT NULL,
  expires_at         BIGINT NOT NULL,
  completed_at       BIGINT,
  consumed_at        BIGINT
);
CREATE UNIQUE INDEX sso_sessions_request_key_hash_idx ON sso_sessions (request_key_hash);
CREATE INDEX sso_sessions_expires_at_idx ON sso_sessions (expires_at);
-- Single logout: the SSO session of a token's session.
CREATE INDEX sso_sessions_token_session_uuid_idx ON sso_sessions (token_session_uuid);

CREATE TABLE sso_replays (
  key_hash   TEXT NOT NULL CONSTRAINT sso_replays_pkey PRIMARY KEY,
  expires_at BIGINT NOT NULL
);
CREATE INDEX sso_replays_expires_at_idx ON sso_replays (expires_at);
`;

const postgresMethodSql = `
ALTER TABLE tenants DROP CONSTRAINT tenants_default_authentication_method_check;
ALTER TABLE tenants ADD CONSTRAINT tenants_default_authentication_method_check
  CHECK (default_authentication_method IN ('native', 'ldap', 'saml', 'oidc'));
`;

// The column is rebuilt (see above); its values are copied as they are.
const sqliteMethodSql = `
ALTER TABLE tenants ADD COLUMN default_authentication_method_16 TEXT NOT NULL DEFAULT 'native'
  CONSTRAINT tenants_default_authentication_method_check
  CHECK (default_authentication_method_16 IN ('native', 'ldap', 'saml', 'oidc'));
UPDATE tenants SET default_authentication_method_16 = default_authentication_method;
ALTER TABLE tenants DROP COLUMN default_authentication_method;
ALTER TABLE tenants RENAME COLUMN default_authentication_method_16 TO default_authentication_method;
`;

const NAME = 'single sign-on: identity providers, sessions, replays; tenant default method oidc';

export const ssoSqlite: readonly Migration[] = [
  {
    version: 16,
    name: NAME,
    sql: ssoTablesSql + sqliteMethodSql,
    async run(trx, logger) {
      const r = await sql<{
        n: number | string;
      }>`select count(*) as n from tenants where default_authentication_method <> 'native'`.execute(trx);
      const n = Number(r.rows[0]?.n ?? 0);
      if (n > 0) logger.info({ tenants: n }, 'migration 16: kept the default authentication method of tenants not using native');
    },
  },
];
export const ssoPostgres: readonly Migration[] = [{ version: 16, name: NAME, sql: ssoTablesSql + postgresMethodSql }];
