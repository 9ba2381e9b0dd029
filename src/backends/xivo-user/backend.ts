// xivo_user (alias wazo_user): users of xivo-auth's own store.
import type { PasswordHasher } from '../../passwords/hasher.js';
import { isPbkdf2Sha512 } from '../../passwords/pbkdf2.js';
import { needsRehash, type Argon2Params } from '../../passwords/rehash.js';
import type { IdentityStoreTx } from '../../identity/store.js';
import type { User } from '../../identity/types.js';
import type { LocalUserStore } from '../store.js';
import type { Backend, Identity } from '../types.js';

export const XIVO_USER = 'xivo_user';

function isPlausibleLogin(login: string): boolean {
  return login.length <= 256 && !login.includes('\u0000');
}

/**
 * A local user's identity. `pbxUserUuid` (metadata.pbx_user_uuid, top-level
 * xivo_user_uuid) is the user's uuid for purpose `user` and null for
 * `internal` / `external_api`, as wazo-auth's default metadata plugins set it:
 * daemons such as wazo-call-logd refuse a user token without it.
 */
export function identityOf(user: User): Identity {
  return {
    authId: user.uuid,
    userUuid: user.uuid,
    tenantUuid: user.tenantUuid,
    pbxUserUuid: user.purpose === 'user' ? user.uuid : null,
    purpose: user.purpose,
    metadata: {},
    acl: [],
  };
}

export function createXivoUserBackend(deps: {
  /** findLoginUser, when the store has it: the user, its addresses and its tenant's default method in one statement. */
  store: Pick<LocalUserStore, 'findUserByLogin' | 'getUser'> & Partial<Pick<IdentityStoreTx, 'findLoginUser'>>;
  hasher: PasswordHasher;
  /** The configured argon2 parameters: a successful login re-hashes a password stored with others. */
  rehashTo?: Argon2Params;
}): Backend {
  const { store, hasher, rehashTo } = deps;
  /**
   * The password hashed anew, written in the login's own commit (Identity.settle)
   * only if the stored hash is still `oldHash` (a concurrent password change
   * wins). Best effort: with the hashing pool busy the login goes on
   * without it, and the next one tries again.
   */
  async function rehashed(user: User, oldHash: string, password: string, identity: Identity): Promise<Identity> {
    let newHash: string;
    try {
      newHash = await hasher.hash(password);
    } catch {
      return identity;
    }
    identity.settle = async (tx) => {
      await tx.replacePasswordHash(user.uuid, oldHash, newHash);
    };
    return identity;
  }

  /** An imported wazo-auth hash (PBKDF2) always; an argon2 one made with other parameters than the configured ones. */
  function isStale(hash: string): boolean {
    return isPbkdf2Sha512(hash) || (rehashTo !== undefined && needsRehash(hash, rehashTo));
  }

  return {
    name: XIVO_USER,
    async verifyPassword(login, password, ctx) {
      // A login no user can have (NUL, absurd length) never reaches the store.
      const found = !isPlausibleLogin(login)
        ? null
        : store.findLoginUser !== undefined
          ? await store.findLoginUser(login, ctx?.liveSessions)
          : await store
              .findUserByLogin(login)
              .then((u) => (u === null ? null : { user: u, tenantAuthenticationMethod: undefined, liveSessions: undefined }));
      const user = found?.user ?? null;
      if (found === null || user === null || user.passwordHash === null || !user.enabled) {
        // Same work as a real check, so unknown and disabled users cannot be told apart by timing.
        await hasher.verifyDummy(password);
        return null;
      }
      const ok = await hasher.verify(user.passwordHash, password);
      if (!ok) return null;
      const identity = identityOf(user);
      // Read with the user: the method check does not fetch it again.
      if (found.tenantAuthenticationMethod !== undefined) {
        identity.authentication = { method: user.authenticationMethod, tenantDefault: found.tenantAuthenticationMethod };
      }
      if (found.liveSessions !== undefined) identity.liveSessions = found.liveSessions;
      if (isStale(user.passwordHash)) return rehashed(user, user.passwordHash, password, identity);
      return identity;
    },
    // By uuid, never by the stored login: a username renamed since (to
    // another user's email, say) must not turn the refresh token into theirs.
    async identify(principal) {
      const user = await store.getUser(principal.userUuid);
      return user !== null && user.enabled && user.tenantUuid === principal.tenantUuid ? identityOf(user) : null;
    },
  };
}
