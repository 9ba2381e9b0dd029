// Multi-factor authentication (issue 24): the records and the storage verbs
// the MFA service needs, in its own words. Implemented by
// src/store/mfa-verbs.ts (both engines); times are epoch milliseconds.
import type { Identity, ProvenPrincipal } from '../backends/types.js';
import type { IssueRequest } from '../tokens/types.js';

export type MfaFactorType = 'totp' | 'webauthn' | 'recovery_code';
export const MFA_FACTOR_TYPES: readonly MfaFactorType[] = ['totp', 'webauthn', 'recovery_code'];

export interface MfaFactorRecord {
  uuid: string;
  userUuid: string;
  tenantUuid: string;
  type: MfaFactorType;
  name: string | null;
  /** totp: the sealed secret; webauthn: the credential (public); recovery_code: null. Never leaves the service. */
  secret: string | null;
  confirmed: boolean;
  /** totp: the time step last accepted. */
  lastStep: number | null;
  createdAt: number;
  confirmedAt: number | null;
}

export interface MfaChallengeRecord {
  userUuid: string;
  /** Digest of the login parameters the challenge was given for. */
  binding: string;
  /** Single sign-on logins: the principal the identity provider proved (JSON, src/mfa/service.ts); null for password logins. */
  sso: string | null;
}

/** A tenant's own `mfa.required_for` (PUT /tenants/{uuid}/mfa); it only adds to the configuration's. */
export interface MfaTenantPolicy {
  tenantUuid: string;
  acl: string[];
  purposes: string[];
  updatedAt: number;
}

export interface MfaLoginState {
  factors: (MfaFactorRecord & { remaining: number | null })[];
  tenantPolicies: MfaTenantPolicy[];
}

export interface MfaStore {
  /** The user's factors, oldest first (recovery_code with `remaining` codes). */
  listMfaFactors(userUuid: string): Promise<(MfaFactorRecord & { remaining: number | null })[]>;
  getMfaFactor(uuid: string): Promise<MfaFactorRecord | null>;
  /** Inserts an unconfirmed factor (no event: it is not usable yet). */
  insertMfaFactor(f: MfaFactorRecord): Promise<void>;
  /** Confirms an unconfirmed factor, recording `step` as used; writes `auth_user_mfa_added`. False: no such unconfirmed factor. */
  confirmMfaFactor(uuid: string, at: number, step: number | null): Promise<boolean>;
  /**
   * Replaces the user's recovery codes by a new set (one confirmed
   * recovery_code factor holding `codeHashes`); writes `auth_user_mfa_deleted`
   * for the set replaced, if any, and `auth_user_mfa_added`.
   */
  replaceRecoveryCodes(f: MfaFactorRecord, codeHashes: string[]): Promise<void>;
  /** Deletes a factor (and its codes); writes `auth_user_mfa_deleted` when it was confirmed. Null: none. */
  deleteMfaFactor(uuid: string): Promise<MfaFactorRecord | null>;
  /** Records `step` as the factor's last accepted step if it is later than the stored one; false: replayed (or earlier). */
  acceptTotpStep(uuid: string, step: number): Promise<boolean>;
  /** Marks one unused code of the user's as used; false: no such unused code. */
  useRecoveryCode(userUuid: string, codeHash: string, at: number): Promise<boolean>;
  /** Replaces a factor's stored secret (webauthn: the signature counter moved). */
  updateMfaFactorSecret(uuid: string, secret: string): Promise<void>;
  /** `sso`: the proven principal of a single sign-on login (JSON), null otherwise. */
  insertMfaChallenge(hash: string, userUuid: string, binding: string, expiresAt: number, sso?: string | null): Promise<void>;
  /** A live, unused challenge, left unused; null otherwise. */
  peekMfaChallenge(hash: string, now: number): Promise<MfaChallengeRecord | null>;
  /** Marks a live, unused challenge used and returns it; null: unknown, expired or used. Deletes expired ones on the way. */
  useMfaChallenge(hash: string, now: number): Promise<MfaChallengeRecord | null>;
  /** The policies of a tenant and of each of its ancestors (those that have one), in no particular order. */
  listMfaTenantPolicies(tenantUuid: string): Promise<MfaTenantPolicy[]>;
  /**
   * What a login's second-factor step reads, in one statement: the user's
   * factors (listMfaFactors) and the policies of `tenantUuid` and its
   * ancestors (listMfaTenantPolicies; none for a null tenant). Optional: a
   * store without it answers the two verbs.
   */
  loginMfaState?(userUuid: string, tenantUuid: string | null): Promise<MfaLoginState>;
  /** A tenant's own policy; null: none set. */
  getMfaTenantPolicy(tenantUuid: string): Promise<MfaTenantPolicy | null>;
  /** Creates or replaces a tenant's policy; writes `auth_tenant_mfa_updated`. */
  putMfaTenantPolicy(p: MfaTenantPolicy): Promise<void>;
}

/**
 * The second factor of password logins (MfaService, ./service.ts). Called after
 * the password is verified and the ACL built, before anything is written:
 * it throws to refuse (a challenge to answer, a wrong code), or returns the
 * ACL to issue (restricted, with the reason, for a user who must enrol first).
 * Single sign-on logins reach it too (with `sso`). Refresh-token logins
 * never do: the refresh token was obtained with the factor.
 */
export interface SecondFactorGate {
  afterPassword(
    identity: Identity,
    acl: string[],
    login: { backend: string; request: IssueRequest; sso?: SsoProven | null },
  ): Promise<{ acl: string[]; restricted: string | null }>;
}

/** What an identity provider proved, for the second-factor gate of single sign-on logins. */
export interface SsoProven {
  method: 'saml' | 'oidc';
  principal: ProvenPrincipal;
  /** The SSO session's reference (single logout); null: none. */
  ref: string | null;
  /** Set when the principal comes from an mfa_challenge: the time (epoch ms) the IdP's proof runs out. */
  provenUntil: number | null;
}
