// Which backend a POST /token without `backend` uses (API.md section 3): a
// request naming a tenant (tenant_id or domain_name) whose tenant has an LDAP
// configuration goes to ldap_user, when it is enabled; anything else to xivo_user.
import type { LdapConfigStore, LdapTenantLookup } from './ldap/store.js';
import { LDAP_USER, loginTenant } from './ldap/backend.js';
import { XIVO_USER } from './xivo-user/backend.js';

export function createBackendSelector(deps: {
  store: LdapTenantLookup & Pick<LdapConfigStore, 'getLdapConfig'>;
  enabled: (name: string) => boolean;
}) {
  return async function defaultBackend(body: { tenant_id?: string; domain_name?: string }): Promise<string> {
    if ((body.tenant_id === undefined && body.domain_name === undefined) || !deps.enabled(LDAP_USER)) return XIVO_USER;
    const tenant = await loginTenant(deps.store, { tenantUuid: body.tenant_id ?? null, domainName: body.domain_name ?? null });
    if (tenant === null) return XIVO_USER;
    return (await deps.store.getLdapConfig(tenant.uuid)) === null ? XIVO_USER : LDAP_USER;
  };
}
