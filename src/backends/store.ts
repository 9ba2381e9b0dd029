// What the login backends need of the storage, in their own words: the
// local users and tenants a login names (the identity domain's verbs), the
// tenants' LDAP configurations (./ldap/store.ts), and the writes a backend
// commits with a login's token.
import type { IdentityStoreTx } from '../identity/store.js';
import type { LdapLoginStore } from './ldap/store.js';

/** The local users a backend vouches for (xivo_user, the plugins' lookups). */
export type LocalUserStore = Pick<IdentityStoreTx, 'findUserByLogin' | 'getUser' | 'getTenant'>;

/** What the configured backends use together: ldap_user's and the plugins' (./factories.ts). */
export interface BackendStore extends LocalUserStore, LdapLoginStore {}

/** What a backend may write in the transaction that stores a login's token (Identity.settle): a password re-hashed. */
export type LoginSettleTx = Pick<IdentityStoreTx, 'replacePasswordHash'>;
