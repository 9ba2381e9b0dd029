// xivo_service: service accounts for service-to-service calls, declared in
// the configuration (service_accounts), each with its own ACL.
import type { ServiceAccountConfig } from '../../config/types.js';
import type { PasswordHasher } from '../../passwords/hasher.js';
import type { Backend, Identity } from '../types.js';

export const XIVO_SERVICE = 'xivo_service';

interface Account {
  passwordHash: string;
  acl: string[];
}

/**
 * Plain `password` entries are hashed here, once, at start-up: afterwards
 * only hashes are held, as for `password_hash` entries.
 */
export async function createXivoServiceBackend(deps: {
  accounts: Record<string, ServiceAccountConfig>;
  hasher: PasswordHasher;
  /** Service accounts act in the top tenant. */
  tenantUuid: string;
}): Promise<Backend> {
  const { hasher, tenantUuid } = deps;
  const accounts = new Map<string, Account>();
  for (const [name, account] of Object.entries(deps.accounts)) {
    const passwordHash = 'password_hash' in account ? account.password_hash : await hasher.hash(account.password);
    accounts.set(name, { passwordHash, acl: [...account.acl] });
  }
  return {
    name: XIVO_SERVICE,
    async verifyPassword(login, password) {
      const account = accounts.get(login);
      if (account === undefined) {
        // Same work as a real check: unknown accounts cannot be told apart by timing.
        await hasher.verifyDummy(password);
        return null;
      }
      if (!(await hasher.verify(account.passwordHash, password))) return null;
      const identity: Identity = {
        authId: login,
        userUuid: null,
        tenantUuid,
        pbxUserUuid: null,
        purpose: 'internal',
        metadata: { service_account: login },
        acl: [...account.acl],
      };
      return identity;
    },
  };
}
