// The backend plugin contract: where a login's password is checked.
import type { Purpose } from '../store/types.js';

/** Who a successful login is. */
export interface Identity {
  /** The identity the backend vouches for (the user's uuid for xivo_user). */
  authId: string;
  /** The local user, when the identity maps to one (its policies then join the ACL). */
  userUuid: string | null;
  tenantUuid: string | null;
  pbxUserUuid: string | null;
  purpose: Purpose;
  /** Extra metadata merged into the token's metadata. */
  metadata: Record<string, unknown>;
  /** Extra ACL granted by the backend itself. */
  acl: string[];
}

export interface LoginContext {
  tenantUuid: string | null;
  domainName: string | null;
  remoteAddr: string | null;
}

export interface Backend {
  readonly name: string;
  /** The identity when the password is right, null for any failure. */
  verifyPassword(login: string, password: string, ctx: LoginContext): Promise<Identity | null>;
  /** The identity for a login already proven (refresh tokens); null if it no longer exists. */
  identify?(login: string, ctx: LoginContext): Promise<Identity | null>;
  close?(): Promise<void>;
}
