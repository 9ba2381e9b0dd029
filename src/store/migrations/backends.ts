// Migration 5: LDAP configuration per tenant (issue 6), for both dialects.
// Kept in its own file so features add their schema without editing each other's.
// One row per tenant; it goes with its tenant (ON DELETE CASCADE). The bind
// password is kept as given (the service binds with it); it never leaves the
// store through the API.
import type { Migration } from './migration.js';

export const backendsSqlite: readonly Migration[] = [
  {
    version: 5,
    name: 'ldap configuration per tenant',
    sql: `
CREATE TABLE ldap_configs (
  tenant_uuid          TEXT NOT NULL CONSTRAINT ldap_configs_pkey PRIMARY KEY
                         CONSTRAINT ldap_configs_tenant_uuid_fkey REFERENCES tenants (uuid) ON DELETE CASCADE,
  host                 TEXT NOT NULL,
  port                 INTEGER NOT NULL,
  protocol_version     INTEGER NOT NULL DEFAULT 3,
  protocol_security    TEXT CHECK (protocol_security IN ('ldaps', 'tls')),
  bind_dn              TEXT,
  bind_password        TEXT,
  user_base_dn         TEXT NOT NULL,
  user_login_attribute TEXT NOT NULL,
  user_email_attribute TEXT NOT NULL,
  search_filters       TEXT
);
`,
  },
];

export const backendsPostgres: readonly Migration[] = [
  {
    version: 5,
    name: 'ldap configuration per tenant',
    sql: `
CREATE TABLE ldap_configs (
  tenant_uuid          TEXT NOT NULL CONSTRAINT ldap_configs_pkey PRIMARY KEY
                         CONSTRAINT ldap_configs_tenant_uuid_fkey REFERENCES tenants (uuid) ON DELETE CASCADE,
  host                 TEXT NOT NULL,
  port                 INTEGER NOT NULL,
  protocol_version     INTEGER NOT NULL DEFAULT 3,
  protocol_security    TEXT CONSTRAINT ldap_configs_protocol_security_check
                         CHECK (protocol_security IN ('ldaps', 'tls')),
  bind_dn              TEXT,
  bind_password        TEXT,
  user_base_dn         TEXT NOT NULL,
  user_login_attribute TEXT NOT NULL,
  user_email_attribute TEXT NOT NULL,
  search_filters       TEXT
);
`,
  },
];
