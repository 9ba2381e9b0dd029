// What the single sign-on services need of the storage: their own records
// (./types.ts SsoStore), the tenants and users an identity provider's answer
// names (the identity domain's verbs), and what single logout revokes (the
// token domain's).
import type { IdentityStoreTx } from '../identity/store.js';
import type { TokenStoreTx } from '../tokens/store.js';
import type { SsoStore } from './types.js';

/** The tenant a login's domain names, and the user the IdP's answer designates. */
export type SsoIdentityLookup = Pick<IdentityStoreTx, 'findTenantByDomainName' | 'findUserByLogin'>;

/** What the OIDC service uses (./oidc-service.ts): and the groups the ID token's claims put the user in. */
export interface OidcServiceStore extends SsoStore, SsoIdentityLookup, Pick<IdentityStoreTx, 'getGroup' | 'addGroupUser'> {}

/** What the SAML service uses (./saml-service.ts): and the session and refresh token a single logout revokes. */
export interface SamlServiceStore
  extends SsoStore, SsoIdentityLookup, Pick<TokenStoreTx, 'deleteSession' | 'revokeRefreshTokenFamily'> {}
