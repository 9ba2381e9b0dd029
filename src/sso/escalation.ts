// No escalation through a tenant's identity providers (issue 23,
// docs/isolation.md "No escalation"). Whoever configures the tenant's IdP of
// a kind decides who may log in as each of the tenant's users of that kind:
// the IdP it names vouches for them. So writing those settings (PUT or
// DELETE /backends/oidc, /backends/saml) requires that the caller grants
// every access the tokens of those users get, as if it linked their policies
// to a user of its own (src/identity/privileges.ts). And an OIDC group
// mapping lets the IdP add any user to the mapped groups at login: every
// policy of a mapped group must be one the caller may grant.
//
// The tenant's LDAP server (PUT or DELETE /backends/ldap) is weighed the
// same way: it checks the passwords of the tenant's ldap users, and of its
// `default` users while the tenant defaults to ldap, or to native (the
// compatibility exception of AuthenticationMethods.allows).
//
// Weighed when the settings are written: a policy granted later to one of
// those users, or to a mapped group, trusts whoever runs the tenant's IdP.
import { assertMayActAsUsers, assertMayGrant, type GrantedAcls } from '../identity/privileges.js';
import type { IdentityStoreTx } from '../identity/store.js';
import type { TokenRecord } from '../tokens/types.js';
import type { SsoKind } from './types.js';

export class SsoEscalationGuard {
  constructor(
    private readonly store: Pick<IdentityStoreTx, 'getTenant' | 'getGroup' | 'listGroupPolicies'>,
    /** What users' tokens get (AclBuilder, which knows default_user_policy). */
    private readonly grantedAcls: GrantedAcls,
  ) {}

  /**
   * The caller may write (create, replace, delete) the settings of the
   * tenant's IdP of `kind`: it grants every access of the tenant's users
   * whose effective authentication method is `kind` (their own, or
   * `default` while the tenant's default is `kind`). Else 401
   * `unauthorized`, details.required_access the first access it lacks.
   * An unknown tenant has no users: nothing to weigh.
   */
  async assertMayConfigureIdp(caller: TokenRecord, tenantUuid: string, kind: SsoKind): Promise<void> {
    const tenant = await this.store.getTenant(tenantUuid);
    if (tenant === null) return;
    const methods = (tenant.defaultAuthenticationMethod ?? 'native') === kind ? [kind, 'default'] : [kind];
    await assertMayActAsUsers(caller, this.grantedAcls, { tenantUuid, methods });
  }

  /**
   * The caller may write (replace, delete) the tenant's LDAP settings: a
   * server it runs could accept any password for the logins sent to it. It
   * must grant every access of the tenant's users that may log in through
   * LDAP: those at `ldap`, and those at `default` while the tenant's default
   * is `ldap` or `native` (AuthenticationMethods.allows: in a tenant still
   * defaulting to native, a user left at default may also log in through
   * LDAP). Else 401 as assertMayConfigureIdp.
   */
  async assertMayConfigureLdap(caller: TokenRecord, tenantUuid: string): Promise<void> {
    const tenant = await this.store.getTenant(tenantUuid);
    if (tenant === null) return;
    const tenantDefault = tenant.defaultAuthenticationMethod ?? 'native';
    const methods = tenantDefault === 'ldap' || tenantDefault === 'native' ? ['ldap', 'default'] : ['ldap'];
    await assertMayActAsUsers(caller, this.grantedAcls, { tenantUuid, methods });
  }

  /**
   * The caller may let the tenant's IdP add users to these groups at login
   * (OIDC group_mapping): it may grant every policy of each. A group that
   * does not exist, or is another tenant's, is never joined (the login
   * skips it): nothing to weigh.
   */
  async assertMayMapGroups(caller: TokenRecord, tenantUuid: string, groupUuids: Iterable<string>): Promise<void> {
    for (const uuid of new Set(groupUuids)) {
      const group = await this.store.getGroup(uuid);
      if (group === null || group.tenantUuid !== tenantUuid) continue;
      assertMayGrant(
        caller,
        (await this.store.listGroupPolicies(uuid)).flatMap((p) => p.acl),
      );
    }
  }
}
