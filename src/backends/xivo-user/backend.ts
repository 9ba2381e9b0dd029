// xivo_user (alias wazo_user): users of xivo-auth's own store.
import type { PasswordHasher } from '../../passwords/hasher.js';
import { needsRehash, type Argon2Params } from '../../passwords/rehash.js';
import type { Store, User } from '../../store/types.js';
import type { Backend, Identity } from '../types.js';

export const XIVO_USER = 'xivo_user';

function isPlausibleLogin(login: string): boolean {
  return login.length <= 256 && !login.includes('\u0000');
}

export function identityOf(user: User): Identity {
  return {
    authId: user.uuid,
    userUuid: user.uuid,
    tenantUuid: user.tenantUuid,
    pbxUserUuid: null,
    purpose: user.purpose,
    metadata: {},
    acl: [],
  };
}

export function createXivoUserBackend(deps: {
  store: Store;
  hasher: PasswordHasher;
  /** The configured argon2 parameters: a successful login re-hashes a password stored with others. */
  rehashTo?: Argon2Params;
}): Backend {
  const { store, hasher, rehashTo } = deps;
  /** Best effort: the login succeeds whatever happens here; a concurrent password change wins. */
  async function rehash(userUuid: string, oldHash: string, password: string): Promise<void> {
    try {
      await store.replacePasswordHash(userUuid, oldHash, await hasher.hash(password));
    } catch {
      // Hashing pool busy or store hiccup: the next login tries again.
    }
  }

  return {
    name: XIVO_USER,
    async verifyPassword(login, password) {
      // A login no user can have (NUL, absurd length) never reaches the store.
      const user = isPlausibleLogin(login) ? await store.findUserByLogin(login) : null;
      if (user === null || user.passwordHash === null || !user.enabled) {
        // Same work as a real check, so unknown and disabled users cannot be told apart by timing.
        await hasher.verifyDummy(password);
        return null;
      }
      const ok = await hasher.verify(user.passwordHash, password);
      if (!ok) return null;
      if (rehashTo !== undefined && needsRehash(user.passwordHash, rehashTo)) await rehash(user.uuid, user.passwordHash, password);
      return identityOf(user);
    },
    async identify(login) {
      const user = isPlausibleLogin(login) ? await store.findUserByLogin(login) : null;
      return user !== null && user.enabled ? identityOf(user) : null;
    },
  };
}
