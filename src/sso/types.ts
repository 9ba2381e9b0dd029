// Single sign-on (issue 23): what the SSO domain stores, in its own words.
// Implemented by src/store/sso-verbs.ts (both engines); the tables come from
// src/store/migrations/sso.ts (migration 16).
import type { ProvenPrincipal } from '../backends/types.js';

export type SsoKind = 'saml' | 'oidc';

/** A tenant's identity provider of one kind. */
export interface SsoConfigRecord {
  tenantUuid: string;
  kind: SsoKind;
  /** What GET returns (never a secret). */
  data: Record<string, unknown>;
  /** Write-only fields, sealed (src/external/secret-box.ts); null: none. */
  secrets: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A login in progress with an identity provider, then its outcome. */
export interface SsoSessionRecord {
  /** SHA-256 of the session id given to the client (never the id itself). */
  idHash: string;
  /** SHA-256 of what the IdP sends back (OIDC state, SAML AuthnRequest ID). */
  requestKeyHash: string;
  kind: SsoKind;
  tenantUuid: string;
  redirectUrl: string;
  /** Kind-specific values (OIDC: PKCE verifier, nonce; SAML: NameID, SessionIndex). */
  data: Record<string, unknown>;
  /** Set when the IdP's answer matched a user. */
  userUuid: string | null;
  login: string | null;
  /** The token session issued from it (single logout). */
  tokenSessionUuid: string | null;
  createdAt: number;
  expiresAt: number;
  completedAt: number | null;
  consumedAt: number | null;
}

/** A completed login with what its single logout revokes. */
export interface SsoLoginRecord extends SsoSessionRecord {
  /**
   * The refresh tokens (family uuids) its token session came with: those
   * recorded when it was issued and those its live tokens name.
   */
  refreshTokenUuids: string[];
}

export interface SsoCompletion {
  userUuid: string;
  login: string;
  at: number;
  /** Kept until the session's end (may move it: saml_session_lifetime_seconds). */
  expiresAt: number;
  data: Record<string, unknown>;
}

export interface SsoStore {
  getSsoConfig(tenantUuid: string, kind: SsoKind): Promise<SsoConfigRecord | null>;
  /** Creates or replaces. */
  putSsoConfig(record: SsoConfigRecord): Promise<void>;
  /** false when there was none. */
  deleteSsoConfig(tenantUuid: string, kind: SsoKind): Promise<boolean>;
  createSsoSession(record: SsoSessionRecord): Promise<void>;
  /** The pending (not completed, not expired) session the IdP's answer names. */
  findPendingSsoSession(kind: SsoKind, requestKeyHash: string, now: number): Promise<SsoSessionRecord | null>;
  /** Completes a pending session once; false if it was completed meanwhile or expired. */
  completeSsoSession(idHash: string, completion: SsoCompletion): Promise<boolean>;
  /**
   * Marks a completed, unexpired, unconsumed session consumed and returns
   * it: of two POST /token with one session id, one gets it.
   */
  consumeSsoSession(kind: SsoKind, idHash: string, now: number): Promise<SsoSessionRecord | null>;
  /**
   * Records which token session an SSO session gave, and the refresh token
   * issued with it (in `data.refreshTokenUuids`): single logout revokes it
   * even once that session's access tokens are gone.
   */
  attachSsoTokenSession(idHash: string, tokenSessionUuid: string): Promise<void>;
  findSsoSessionByTokenSession(tokenSessionUuid: string, now: number): Promise<SsoSessionRecord | null>;
  /**
   * The completed, unexpired logins of `login` (the IdP's NameID) in a
   * tenant, consumed or not (IdP-initiated single logout).
   */
  findCompletedSsoLogins(kind: SsoKind, tenantUuid: string, login: string, now: number): Promise<SsoLoginRecord[]>;
  /** The SAML configurations whose stored IdP metadata has this entity id, by tenant uuid. */
  findSamlConfigsByIdp(idpEntityId: string): Promise<SsoConfigRecord[]>;
  deleteSsoSession(idHash: string): Promise<void>;
  /** Remembers an accepted assertion until `expiresAt`; false when it was already seen (a replay). */
  rememberSsoAssertion(keyHash: string, expiresAt: number, now: number): Promise<boolean>;
  /** Deletes expired sessions and replay entries; returns how many rows went. */
  deleteExpiredSso(now: number): Promise<number>;
}

/** The single sign-on sessions POST /token exchanges for a token (src/http/routes/token.ts). */
export interface SsoLogins {
  /** The session's user, once (401 otherwise); `ref` names the session for `issued`. */
  consume(kind: 'saml' | 'oidc', sessionId: string): Promise<{ principal: ProvenPrincipal; ref: string }>;
  /** The token session issued from it (single logout). */
  issued(ref: string, sessionUuid: string): Promise<void>;
}
