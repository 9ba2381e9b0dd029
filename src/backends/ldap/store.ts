// What the LDAP backend needs of the storage: a tenant's directory settings,
// and the tenants and local users a login names (the identity domain's).
import type { IdentityStoreTx } from '../../identity/store.js';
import type { LdapConfig } from './types.js';

export interface LdapConfigStore {
  // LDAP configuration (issue 6)
  getLdapConfig(tenantUuid: string): Promise<LdapConfig | null>;
  /** Creates or replaces the tenant's configuration; StoreConflictError when the tenant does not exist. */
  putLdapConfig(c: LdapConfig): Promise<LdapConfig>;
  deleteLdapConfig(tenantUuid: string): Promise<boolean>;
}

/** The tenant a login names: tenant_id (a uuid or a slug) or domain_name (./backend.ts loginTenant). */
export type LdapTenantLookup = Pick<IdentityStoreTx, 'getTenant' | 'findTenantBySlug' | 'findTenantByDomainName'>;

/** What ldap_user uses: the tenant's directory settings, and the local user an entry designates. */
export interface LdapLoginStore
  extends LdapTenantLookup, Pick<LdapConfigStore, 'getLdapConfig'>, Pick<IdentityStoreTx, 'findTenantUser'> {}

/** What the configuration API uses (./config-service.ts): the settings, of a tenant that exists. */
export interface LdapConfigAdminStore extends LdapConfigStore, Pick<IdentityStoreTx, 'getTenant'> {}
