// Authentication methods (issue 23 §1): how each user may log in. A user's
// `authentication_method` is `default` (its tenant's
// `default_authentication_method`), `native` (a password here), `ldap`,
// `saml` or `oidc`. POST /token refuses a login by any other way (401, as
// wazo-auth 24.08: a SAML user cannot log in with a password). Refresh-token
// logins are not re-checked (as wazo-auth): the refresh token was obtained
// by the allowed way. One compatibility exception, see `allows`.
import type { IdentityStoreTx } from '../identity/store.js';

/** GET /idp, and the values of PUT /idp/{type}/users: wazo-auth's, and oidc. */
export const IDP_TYPES = ['default', 'native', 'ldap', 'saml', 'oidc'] as const;
export type IdpType = (typeof IDP_TYPES)[number];
/** A login's way: what a user's (resolved) method must equal. */
export type LoginMethod = Exclude<IdpType, 'default'>;

export function isIdpType(v: string): v is IdpType {
  return (IDP_TYPES as readonly string[]).includes(v);
}

/**
 * The way a password login through a backend counts as. Backends not named
 * here (third-party plugins, xivo_service) vouch for identities of their
 * own: they are not checked.
 */
const BACKEND_METHODS: Readonly<Record<string, LoginMethod>> = { xivo_user: 'native', ldap_user: 'ldap' };

export function loginMethodOfBackend(backend: string): LoginMethod | null {
  return BACKEND_METHODS[backend] ?? null;
}

export class AuthenticationMethods {
  constructor(private readonly store: Pick<IdentityStoreTx, 'getUser' | 'getTenant'>) {}

  /** The user's method, `default` resolved through its tenant; null for an unknown user. */
  async effectiveMethod(userUuid: string): Promise<LoginMethod | null> {
    const user = await this.store.getUser(userUuid);
    if (user === null) return null;
    if (user.authenticationMethod !== 'default')
      return isIdpType(user.authenticationMethod) ? (user.authenticationMethod as LoginMethod) : null;
    const tenant = await this.store.getTenant(user.tenantUuid);
    return (tenant?.defaultAuthenticationMethod ?? 'native') as LoginMethod;
  }

  /**
   * `known`: the user's method and its tenant's default as the backend read
   * them with the user it just verified (Identity.authentication): neither
   * is read again.
   */
  async allows(
    userUuid: string,
    method: LoginMethod,
    known?: { method: string; tenantDefault: string | null },
  ): Promise<boolean> {
    let userMethod: string;
    let tenantMethod: string;
    if (known !== undefined) {
      userMethod = known.method;
      if (userMethod !== 'default') return userMethod === method;
      tenantMethod = known.tenantDefault ?? 'native';
    } else {
      const user = await this.store.getUser(userUuid);
      if (user === null) return false;
      userMethod = user.authenticationMethod;
      if (userMethod !== 'default') return userMethod === method;
      tenantMethod = (await this.store.getTenant(user.tenantUuid))?.defaultAuthenticationMethod ?? 'native';
    }
    // Compatibility with xivo-auth before issue 23 (a deviation from
    // wazo-auth, which refuses it): in a tenant still defaulting to native,
    // a user left at `default` may also log in through LDAP (POST /token
    // with domain_name), as such users always could. Setting the user's
    // method (native, or anything else) or the tenant's default to ldap,
    // saml or oidc removes it.
    if (method === 'ldap' && tenantMethod === 'native') return true;
    return tenantMethod === method;
  }
}
