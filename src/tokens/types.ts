// The token domain's records: sessions, access tokens (stored as their
// SHA-256 only), refresh tokens, and what removing them leaves behind.
// All times are epoch milliseconds (integers).
import type { ListQuery } from '../lists.js';

export interface SessionFilter {
  tenantUuids: string[];
  userUuid?: string;
}

export interface Session {
  uuid: string;
  tenantUuid: string;
  userUuid: string | null;
  mobile: boolean;
  createdAt: number;
}

/** A stored access token. The token string itself is never stored, only its SHA-256 (hex). */
export interface TokenRecord {
  hash: string;
  sessionUuid: string;
  authId: string;
  userUuid: string | null;
  tenantUuid: string | null;
  pbxUserUuid: string | null;
  xivoUuid: string | null;
  issuedAt: number;
  expiresAt: number;
  acl: string[];
  metadata: Record<string, unknown>;
  remoteAddr: string | null;
  userAgent: string | null;
  refreshTokenUuid: string | null;
}

export interface RefreshToken {
  uuid: string;
  /** SHA-256 hex of the refresh token string. */
  hash: string;
  clientId: string;
  userUuid: string;
  tenantUuid: string;
  backend: string;
  login: string;
  mobile: boolean;
  createdAt: number;
  /** The last refresh-token login with it (its creation before any): the idle timeout counts from it. */
  lastUsedAt: number;
}

/**
 * A refresh-token login's write to its refresh token, in the login's
 * transaction. It applies only while `hash` is still the token's: a
 * concurrent rotation, deletion or replacement wins, and the login fails.
 */
export interface RefreshTokenUse {
  uuid: string;
  /** The hash presented. */
  hash: string;
  /** The new lastUsedAt. */
  at: number;
  /**
   * Rotation: the refresh token's new hash (its uuid, created_at and family
   * stay). The presented hash is kept as retired, with the newest
   * `keepRetired` of the family (older ones are forgotten).
   */
  rotateTo?: { hash: string; keepRetired: number };
}

/** A refresh token rotated away (only its hash is kept). */
export interface RetiredRefreshToken {
  hash: string;
  /** The uuid of the family's refresh token (it keeps its uuid through rotations). */
  familyUuid: string;
  retiredAt: number;
}

/** Refresh tokens past their idle timeout or absolute lifetime (null: that limit is off). */
export interface RefreshTokenExpiry {
  /** Refresh tokens last used at or before this time are expired. */
  lastUsedBefore: number | null;
  /** Refresh tokens created at or before this time are expired. */
  createdBefore: number | null;
}

export interface RefreshTokenFilter extends ListQuery {
  userUuid?: string;
  tenantUuids?: string[];
  /** Exact client_id. */
  clientId?: string;
  mobile?: boolean;
}

/** What removing tokens left behind: sessions that became empty and were deleted. */
export interface Removal {
  tokenHashes: string[];
  sessions: Session[];
}

/** What revoking a user removed. */
export interface UserRevocation extends Removal {
  refreshTokens: RefreshToken[];
}

/** A batch of the reaper. */
export interface ExpiredRemoval extends Removal {
  /** Latest expiresAt among the tokens deleted (absent when none was, or when the engine does not say). */
  lastExpiresAt?: number;
}

export interface IssueRequest {
  backend: string;
  expiration: number | null;
  accessType: 'online' | 'offline';
  clientId: string | null;
  tenantId: string | null;
  domainName: string | null;
  remoteAddr: string | null;
  userAgent: string | null;
  mobile: boolean;
  /** The second step of a login with a second factor (issue 24): the challenge and what answers it. */
  secondFactor?: SecondFactorProof | null;
}

/** What POST /token carries besides Basic credentials when the user has a second factor. */
export interface SecondFactorProof {
  challenge: string;
  totp: string | null;
  recoveryCode: string | null;
  webauthn: unknown;
}
