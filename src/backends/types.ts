// The backend plugin contract: where a login's password is checked.
import type { Purpose } from '../identity/types.js';
import type { LiveSessionsAsked } from '../identity/store.js';
import type { LoginSettleTx } from './store.js';

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
  /**
   * The local user's authentication method as the backend read it with the
   * user (`default` or a method) and its tenant's default: the login's
   * method check (src/sso/authentication-methods.ts) then reads neither
   * again. Absent: the check reads them.
   */
  authentication?: { method: string; tenantDefault: string | null };
  /**
   * The local user's live sessions (at most `ctx.liveSessions.atMost`),
   * when the context asked for them and the backend read them with the user:
   * the login's session cap (max_user_sessions) then reads nothing more.
   * Absent: the cap counts them itself.
   */
  liveSessions?: number;
  /**
   * Writes the backend wants committed with the login's token, in the
   * transaction that stores it (xivo_user: the password re-hashed to the
   * configured argon2id): they happen only if the login does.
   */
  settle?: (tx: LoginSettleTx) => Promise<void>;
}

export interface LoginContext {
  tenantUuid: string | null;
  domainName: string | null;
  remoteAddr: string | null;
  /**
   * Count the sessions live at `now` (up to `atMost`) of a user of one of
   * `purposes` with its read (Identity.liveSessions), if the backend can.
   */
  liveSessions?: LiveSessionsAsked;
}

/** Who a refresh token was issued to. */
export interface ProvenPrincipal {
  userUuid: string;
  tenantUuid: string;
  /** The login the refresh token's first login used (LDAP: the directory entry to find again). */
  login: string;
}

export interface Backend {
  readonly name: string;
  /** The identity when the password is right, null for any failure. */
  verifyPassword(login: string, password: string, ctx: LoginContext): Promise<Identity | null>;
  /**
   * The identity of a principal already proven (refresh tokens): the local
   * user `principal.userUuid` of `principal.tenantUuid`, null if it no longer
   * exists, is disabled, or the backend no longer vouches for it. The stored
   * login is a hint for backends that must ask a directory again; it is never
   * resolved to some other user (the service also refuses an identity whose
   * user or tenant differ from the principal's).
   */
  identify?(principal: ProvenPrincipal, ctx: LoginContext): Promise<Identity | null>;
  close?(): Promise<void>;
}
