// Rows ↔ LdapConfig (issue 6), beside ./row-mapping.ts so that features do not edit each other's mapping.
import type { Insertable, Selectable } from 'kysely';
import type { LdapConfigsTable } from './database-schema.js';
import type { LdapConfig } from './types.js';

export function ldapConfigFromRow(r: Selectable<LdapConfigsTable>): LdapConfig {
  return {
    tenantUuid: r.tenant_uuid,
    host: r.host,
    port: Number(r.port),
    protocolVersion: Number(r.protocol_version),
    // The CHECK constraint of the migration guarantees the value.
    protocolSecurity: r.protocol_security as LdapConfig['protocolSecurity'],
    bindDn: r.bind_dn,
    bindPassword: r.bind_password,
    userBaseDn: r.user_base_dn,
    userLoginAttribute: r.user_login_attribute,
    userEmailAttribute: r.user_email_attribute,
    searchFilters: r.search_filters,
  };
}

export function ldapConfigToRow(c: LdapConfig): Insertable<LdapConfigsTable> {
  return {
    tenant_uuid: c.tenantUuid,
    host: c.host,
    port: c.port,
    protocol_version: c.protocolVersion,
    protocol_security: c.protocolSecurity,
    bind_dn: c.bindDn,
    bind_password: c.bindPassword,
    user_base_dn: c.userBaseDn,
    user_login_attribute: c.userLoginAttribute,
    user_email_attribute: c.userEmailAttribute,
    search_filters: c.searchFilters,
  };
}
