// What the token domain needs of the storage: sessions, access tokens,
// refresh tokens, the reaper's deletions. Implemented over Kysely in
// src/store/ (both engines); part of the store's transaction (StoreTx).
// Below the verbs, what the token service uses (./service.ts), with its
// transactions (../storage.ts).
import type { ListQuery, ListResult } from '../lists.js';
import type { LoginSettlement } from '../security/types.js';
import type {
  ExpiredRemoval,
  RefreshToken,
  RefreshTokenExpiry,
  RefreshTokenFilter,
  RefreshTokenUse,
  Removal,
  RetiredRefreshToken,
  Session,
  SessionFilter,
  TokenRecord,
  UserRevocation,
} from './types.js';

export interface TokenStoreTx {
  // sessions and tokens
  createSession(s: Session): Promise<void>;
  getSession(uuid: string): Promise<Session | null>;
  listSessions(f: SessionFilter, q: ListQuery): Promise<ListResult<Session>>;
  /** Deletes the session and its tokens. Null when unknown. */
  deleteSession(uuid: string): Promise<Removal | null>;
  /** A successful login's other writes, in the transaction that stores its token: one commit per login. */
  settleLogin(s: LoginSettlement): Promise<void>;
  insertToken(t: TokenRecord): Promise<void>;
  /**
   * Sessions of the user holding at least one token that expires after `now`.
   * Counting stops at `atMost` (the configured cap): a login never pays for
   * more than the cap, however many sessions the user holds.
   */
  countLiveSessions(userUuid: string, now: number, atMost?: number): Promise<number>;
  findTokenByHash(hash: string): Promise<TokenRecord | null>;
  /** Deletes one token; its session too when it was the session's last token. Null when unknown. */
  deleteToken(hash: string): Promise<Removal | null>;
  /** Deletes every session and token of the user. */
  /**
   * Every session and token of a user; with `refreshTokens`, its refresh
   * tokens too (password change, disable: nothing taken before may mint more).
   */
  deleteUserSessions(userUuid: string, options?: { refreshTokens?: boolean }): Promise<UserRevocation>;
  /** Deletes the access tokens issued from a refresh token, and the sessions left empty. */
  deleteTokensOfRefreshToken(refreshTokenUuid: string): Promise<Removal>;
  /** Deletes a refresh token by its hash; returns it, or null when unknown. */
  deleteRefreshTokenByHash(hash: string): Promise<RefreshToken | null>;
  /**
   * Deletes up to `limit` tokens with expiresAt <= now, oldest first, and the
   * sessions left empty. `from` (the `lastExpiresAt` of the previous batch of
   * a pass) skips tokens expiring before it: on PostgreSQL the rows a pass
   * already deleted stay in the expiry index as dead entries until VACUUM,
   * and a batch that starts its index scan at the lowest expiry reads all of
   * them again (a 1,000,000-row purge slowed from ~13,000 to ~400 rows/s).
   * A pass starts without `from`, so nothing skipped is missed for long.
   */
  deleteExpired(now: number, limit: number, from?: number): Promise<ExpiredRemoval>;

  // refresh tokens
  /** Replaces any refresh token of (userUuid, clientId); returns the replaced one. */
  replaceRefreshToken(rt: RefreshToken): Promise<RefreshToken | null>;
  /**
   * A mobile offline login supersedes the user's mobile refresh tokens:
   * deletes every mobile refresh token of the user, with the access tokens
   * issued from them and the sessions left empty (their events written, the
   * revocations notified). Serialised per user (the user row is locked where
   * the engine can), so two concurrent mobile logins leave one mobile
   * refresh token, not two.
   */
  deleteMobileRefreshTokens(userUuid: string): Promise<UserRevocation>;
  findRefreshTokenByHash(hash: string): Promise<RefreshToken | null>;
  listRefreshTokens(f: RefreshTokenFilter): Promise<ListResult<RefreshToken>>;
  deleteRefreshToken(userUuid: string, clientId: string): Promise<RefreshToken | null>;
  /**
   * Records a refresh-token login's use (RefreshTokenUse): false, changing
   * nothing, when the token no longer has `use.hash`.
   */
  useRefreshToken(use: RefreshTokenUse): Promise<boolean>;
  /** The retired refresh token of this hash (rotated away, its family still alive), or null. */
  findRetiredRefreshToken(hash: string): Promise<RetiredRefreshToken | null>;
  /**
   * Reuse of a retired refresh token: deletes the family's refresh token, its
   * retired hashes, every access token issued from the family and the
   * sessions left empty (their events written, the revocations notified).
   */
  revokeRefreshTokenFamily(familyUuid: string): Promise<UserRevocation>;
  /**
   * Deletes up to `limit` expired refresh tokens (with their retired hashes),
   * writing `auth_refresh_token_deleted` for each; returns them. The access
   * tokens issued from them are left to their own expiry. PostgreSQL: two
   * reapers take disjoint batches (SKIP LOCKED).
   */
  deleteExpiredRefreshTokens(expiry: RefreshTokenExpiry, limit: number): Promise<RefreshToken[]>;
}

/** How a login's transaction may run (the second argument of the store's transaction). */
export interface IssueTransactionOptions {
  /**
   * The callback writes only through createSession, insertToken and
   * settleLogin (each at most once) and reads nothing through the
   * transaction: the store may gather those writes and send them when the
   * callback returns, as one statement atomic by itself (PostgreSQL: no
   * BEGIN/COMMIT). If the callback throws, nothing is written. A store that
   * cannot runs an ordinary transaction.
   */
  deferWrites?: boolean;
}
