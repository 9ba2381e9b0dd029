// What identity changes need of the token domain, in identity's words:
// ending a user's sessions (password change, user disabled) and dropping
// removed tokens from the caches. The token service provides it; identity
// does not depend on how tokens are issued or checked.
import type { Removal, UserRevocation } from '../tokens/types.js';

export interface TokenRevocations {
  /** Deletes every session, token and refresh token of the user. */
  revokeUser(userUuid: string): Promise<UserRevocation>;
  /** Drops what a store deletion removed from the token caches. */
  forget(removal: Removal | null): void;
}
