// Migration 15: multi-factor authentication (issue 24), for both dialects.
// Kept in its own file so features add their schema without editing each
// other's.
//
// - mfa_factors: a user's second factors. `type` totp (its secret sealed
//   with AES-256-GCM by the service, src/mfa/service.ts: a dump of the
//   database does not hold it in clear), webauthn (a credential's public
//   key: not secret) or recovery_code (the set of a user's recovery codes,
//   themselves in mfa_recovery_codes). Only a confirmed factor is asked at
//   login. `last_step`: the TOTP time step last accepted (a code is
//   accepted once). Goes with its user.
// - mfa_recovery_codes: SHA-256 of each single-use code; `used_at` once used.
// - mfa_challenges: the challenge of a login whose password was right
//   (SHA-256 of the random value the client holds), bound to the user and
//   to the login's parameters, short-lived and single use.
// Nothing existing changes.
import type { Migration } from './migration.js';

// The same statements suit both engines (SQLite maps BIGINT to INTEGER).
const mfaSql = `
CREATE TABLE mfa_factors (
  uuid         TEXT NOT NULL CONSTRAINT mfa_factors_pkey PRIMARY KEY,
  user_uuid    TEXT NOT NULL CONSTRAINT mfa_factors_user_uuid_fkey
                 REFERENCES users (uuid) ON DELETE CASCADE,
  tenant_uuid  TEXT NOT NULL,
  type         TEXT NOT NULL CONSTRAINT mfa_factors_type_check
                 CHECK (type IN ('totp', 'webauthn', 'recovery_code')),
  name         TEXT,
  secret       TEXT,
  confirmed    INTEGER NOT NULL DEFAULT 0,
  last_step    BIGINT,
  created_at   BIGINT NOT NULL,
  confirmed_at BIGINT
);
CREATE INDEX mfa_factors_user_uuid_idx ON mfa_factors (user_uuid);

CREATE TABLE mfa_recovery_codes (
  factor_uuid TEXT NOT NULL CONSTRAINT mfa_recovery_codes_factor_uuid_fkey
                REFERENCES mfa_factors (uuid) ON DELETE CASCADE,
  code_hash   TEXT NOT NULL,
  used_at     BIGINT,
  CONSTRAINT mfa_recovery_codes_pkey PRIMARY KEY (factor_uuid, code_hash)
);

CREATE TABLE mfa_challenges (
  hash       TEXT NOT NULL CONSTRAINT mfa_challenges_pkey PRIMARY KEY,
  user_uuid  TEXT NOT NULL CONSTRAINT mfa_challenges_user_uuid_fkey
               REFERENCES users (uuid) ON DELETE CASCADE,
  binding    TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at    BIGINT
);
-- Expired challenges are deleted by expiry (src/store/mfa-verbs.ts).
CREATE INDEX mfa_challenges_expires_at_idx ON mfa_challenges (expires_at);
CREATE INDEX mfa_challenges_user_uuid_idx ON mfa_challenges (user_uuid);
`;

function mfa(): Migration[] {
  return [{ version: 15, name: 'multi-factor authentication: factors, recovery codes, login challenges', sql: mfaSql }];
}

export const mfaSqlite: readonly Migration[] = mfa();
export const mfaPostgres: readonly Migration[] = mfa();
