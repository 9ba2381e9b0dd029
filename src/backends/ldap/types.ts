// A tenant's LDAP directory settings.

/** The LDAP directory of a tenant (issue 6): where its users' passwords are checked. */
export interface LdapConfig {
  tenantUuid: string;
  host: string;
  port: number;
  protocolVersion: number;
  /** 'ldaps' (TLS from the start), 'tls' (StartTLS), or null (plain). */
  protocolSecurity: 'ldaps' | 'tls' | null;
  /** Service account searching for users; null: the user's DN is built from the login attribute. */
  bindDn: string | null;
  bindPassword: string | null;
  userBaseDn: string;
  userLoginAttribute: string;
  userEmailAttribute: string;
  /** Search filter template ({user_login_attribute}, {username}); null: (attribute=login). */
  searchFilters: string | null;
}
