// What the LDAP backend needs of the storage: a tenant's directory settings.
import type { LdapConfig } from './types.js';

export interface LdapConfigStore {
  // LDAP configuration (issue 6)
  getLdapConfig(tenantUuid: string): Promise<LdapConfig | null>;
  /** Creates or replaces the tenant's configuration; StoreConflictError when the tenant does not exist. */
  putLdapConfig(c: LdapConfig): Promise<LdapConfig>;
  deleteLdapConfig(tenantUuid: string): Promise<boolean>;
}
