// Migration 13: external accounts (issue 22), for both dialects. Kept in its
// own file so features add their schema without editing each other's.
//
// - external_auth_configs: a tenant's configuration of one external auth
//   type (google, microsoft, mobile). `data` holds the fields GET returns
//   (client_id, fcm_sender_id...); `secrets` the write-only ones
//   (client_secret, push credentials), sealed with AES-256-GCM by the
//   service (src/external/secret-box.ts): a dump of the database does not
//   hold them in clear. Goes with its tenant.
// - user_external_auths: a user's connection of one type: mobile push
//   tokens, or the provider's access and refresh tokens (sealed in
//   `secrets`), with the access token's expiry and the lease of a refresh
//   in progress (one instance refreshes at a time). Goes with its user.
// - external_auth_device_flows: an OAuth 2.0 device authorization (RFC
//   8628) the user has not completed yet, or how it ended (denied, expired,
//   failed). Any instance may poll it: the poll is claimed by moving
//   next_poll_at, and the device code is sealed too.
// Nothing existing changes.
import type { Migration } from './migration.js';

// The same statements suit both engines (SQLite maps BIGINT to INTEGER).
const externalAuthSql = `
CREATE TABLE external_auth_configs (
  tenant_uuid TEXT NOT NULL CONSTRAINT external_auth_configs_tenant_uuid_fkey
                REFERENCES tenants (uuid) ON DELETE CASCADE,
  auth_type   TEXT NOT NULL,
  data        TEXT NOT NULL DEFAULT '{}',
  secrets     TEXT,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  CONSTRAINT external_auth_configs_pkey PRIMARY KEY (tenant_uuid, auth_type)
);

CREATE TABLE user_external_auths (
  user_uuid        TEXT NOT NULL CONSTRAINT user_external_auths_user_uuid_fkey
                     REFERENCES users (uuid) ON DELETE CASCADE,
  auth_type        TEXT NOT NULL,
  data             TEXT NOT NULL DEFAULT '{}',
  secrets          TEXT,
  expires_at       BIGINT,
  refreshing_until BIGINT,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  CONSTRAINT user_external_auths_pkey PRIMARY KEY (user_uuid, auth_type)
);
-- GET /external/{auth_type}/users: the users connected to one type.
CREATE INDEX user_external_auths_auth_type_idx ON user_external_auths (auth_type, user_uuid);

CREATE TABLE external_auth_device_flows (
  user_uuid    TEXT NOT NULL CONSTRAINT external_auth_device_flows_user_uuid_fkey
                 REFERENCES users (uuid) ON DELETE CASCADE,
  auth_type    TEXT NOT NULL,
  tenant_uuid  TEXT NOT NULL,
  status       TEXT NOT NULL CONSTRAINT external_auth_device_flows_status_check
                 CHECK (status IN ('pending', 'denied', 'expired', 'failed')),
  error        TEXT,
  device_code  TEXT NOT NULL,
  scope        TEXT NOT NULL DEFAULT '[]',
  interval_ms  BIGINT NOT NULL,
  next_poll_at BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL,
  created_at   BIGINT NOT NULL,
  CONSTRAINT external_auth_device_flows_pkey PRIMARY KEY (user_uuid, auth_type)
);
-- The poller's scan: pending flows due for a poll.
CREATE INDEX external_auth_device_flows_next_poll_at_idx ON external_auth_device_flows (next_poll_at)
  WHERE status = 'pending';
`;

function externalAuth(): Migration[] {
  return [
    { version: 13, name: 'external auth configurations, user connections and device authorizations', sql: externalAuthSql },
  ];
}

export const externalAuthSqlite: readonly Migration[] = externalAuth();
export const externalAuthPostgres: readonly Migration[] = externalAuth();
