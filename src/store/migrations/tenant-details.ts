// Migration 11: a tenant's details, as wazo-auth has them (issue 18 §2), for
// both dialects. Kept in its own file so features add their schema without
// editing each other's.
//
// - contact_uuid: a user to contact about the tenant; deleting that user
//   empties it (ON DELETE SET NULL), so it never names a user that is gone.
// - phone, address_*: free text (wazo-auth keeps the address in a table of
//   its own, one row per tenant: here, columns of the tenant).
// - default_authentication_method: native (the default, and what every
//   existing tenant gets), ldap or saml; stored, not enforced yet.
// Nothing else changes: existing rows keep their data, the new columns are
// null / 'native'.
import type { Migration } from './migration.js';

// The same statements suit both engines. (SQLite: an added column with a
// REFERENCES clause must default to NULL, which these do; the CHECK is
// tested against the existing rows, which all take the default.)
const tenantDetailsSql = `
ALTER TABLE tenants ADD COLUMN contact_uuid TEXT
  CONSTRAINT tenants_contact_uuid_fkey REFERENCES users (uuid) ON DELETE SET NULL;
ALTER TABLE tenants ADD COLUMN phone TEXT;
ALTER TABLE tenants ADD COLUMN address_line_1 TEXT;
ALTER TABLE tenants ADD COLUMN address_line_2 TEXT;
ALTER TABLE tenants ADD COLUMN address_city TEXT;
ALTER TABLE tenants ADD COLUMN address_state TEXT;
ALTER TABLE tenants ADD COLUMN address_country TEXT;
ALTER TABLE tenants ADD COLUMN address_zip_code TEXT;
ALTER TABLE tenants ADD COLUMN default_authentication_method TEXT NOT NULL DEFAULT 'native'
  CONSTRAINT tenants_default_authentication_method_check
  CHECK (default_authentication_method IN ('native', 'ldap', 'saml'));
-- Deleting a user looks up the tenants naming it as their contact.
CREATE INDEX tenants_contact_uuid_idx ON tenants (contact_uuid);
`;

function tenantDetails(): Migration[] {
  return [{ version: 11, name: 'tenant contact, phone, address and default authentication method', sql: tenantDetailsSql }];
}

export const tenantDetailsSqlite: readonly Migration[] = tenantDetails();
export const tenantDetailsPostgres: readonly Migration[] = tenantDetails();
