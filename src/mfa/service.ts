// Multi-factor authentication (issue 24): enrolment of a user's factors
// (TOTP, recovery codes), their listing and removal, and the second step of
// password logins (the SecondFactorGate of the token service).
//
// Login with a confirmed TOTP factor (README "Multi-factor authentication"):
//   1. POST /token with Basic credentials: the password is verified, then
//      401 mfa-required with {mfa_challenge, factors}; the challenge (256
//      random bits, stored as its SHA-256) lives challenge_lifetime_seconds,
//      is single use, and is bound to the user and to the login's
//      parameters (backend, expiration, access_type, client_id, tenant): the
//      second call cannot widen them.
//   2. POST /token with Basic credentials again (the password is checked
//      before any factor) and {mfa_challenge, totp | recovery_code}. A wrong
//      or replayed code is a failed login (throttle) and answers 401
//      mfa-invalid with a fresh challenge.
// Single sign-on logins (POST /token {oidc_session_id | saml_session_id})
// take the same gate, unless mfa.trust_identity_provider: the first call
// consumes the SSO session and answers 401 mfa-required; the challenge
// carries what the identity provider proved (the user, the session's
// reference), so the second call is {mfa_challenge, totp | ...} alone, with
// the same parameters. The proof lasts challenge_lifetime_seconds from the
// first call: the fresh challenges of mfa-invalid never extend it.
// mfa.required_for: the configuration's rule, and the tenant's own and each
// of its ancestors' (PUT /tenants/{uuid}/mfa): a tenant adds, never removes.
// Refresh-token logins never get here (the refresh token was issued with the factor).
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Identity } from '../backends/types.js';
import type { Clock } from '../clock.js';
import { AuthenticationFailedError, InvalidDataError, NotFoundError } from '../errors.js';
import type { AuditEntry } from '../security/audit.js';
import type { ProvenPrincipal } from '../backends/types.js';
import type { IssueRequest, SecondFactorProof } from '../tokens/types.js';
import type { SecondFactorGate, SsoProven } from './types.js';
import type { MfaConfig } from '../config/sections/mfa.js';
import { MfaInvalidError, MfaRequiredError } from './errors.js';
import { newTotpSecret, totpMatch, totpQrSvg, totpUri } from './totp.js';
import type { MfaFactorRecord, MfaFactorType, MfaStore, MfaTenantPolicy } from './types.js';
import { matchAccess } from './required-for.js';
import { WebAuthnFactors } from './webauthn.js';

/** Seals TOTP secrets at rest (src/external/secret-box.ts). */
export interface SecretSealer {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

export interface MfaAudit {
  record(entry: AuditEntry): unknown;
}

/** Counts second-factor verifications (metrics `xivo_auth_mfa_verifications_total`). */
export type MfaObserver = (
  factor: MfaFactorType | 'challenge' | 'none',
  result: 'success' | 'failure' | 'challenged' | 'enrolment_required',
) => void;

export const RECOVERY_CODE_COUNT = 10;
/** The ACL of a token whose user must enrol first. */
export const ENROLMENT_ACL = ['auth.users.me.mfa.#'];
/** Alphabet of recovery codes: no 0/O, 1/I/L. */
const RECOVERY_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const RECOVERY_LENGTH = 10;

export interface MfaFactorView {
  uuid: string;
  type: MfaFactorType;
  name: string | null;
  confirmed: boolean;
  createdAt: number;
  confirmedAt: number | null;
  /** recovery_code: unused codes left. */
  remaining: number | null;
}

export interface TotpEnrolment {
  uuid: string;
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const secretContext = (uuid: string) => `mfa_factors:${uuid}:secret`;

function normaliseRecoveryCode(code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase();
}

function recoveryCode(): string {
  const bytes = randomBytes(RECOVERY_LENGTH * 2);
  let out = '';
  // Rejection sampling: every character equally likely.
  for (const b of bytes) {
    if (b >= 256 - (256 % RECOVERY_ALPHABET.length)) continue;
    out += RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length];
    if (out.length === RECOVERY_LENGTH) break;
  }
  return out.length === RECOVERY_LENGTH ? `${out.slice(0, 5)}-${out.slice(5)}` : recoveryCode();
}

/** The login parameters a challenge is bound to (and, for single sign-on, the way: never usable by a password login). */
function bindingOf(backend: string, req: IssueRequest, sso: SsoProven | null = null): string {
  const params = [backend, req.expiration, req.accessType, req.clientId, req.tenantId, req.domainName, req.mobile];
  return sha256(JSON.stringify(sso === null ? params : ['sso', sso.method, ...params]));
}

/** What a single sign-on challenge carries (mfa_challenges.sso). */
interface SsoCarried {
  method: 'saml' | 'oidc';
  user_uuid: string;
  tenant_uuid: string;
  login: string;
  ref: string | null;
  /** Epoch ms: the identity provider's proof runs out. */
  until: number;
}

function ssoCarriedOf(json: string | null): SsoCarried | null {
  if (json === null) return null;
  try {
    const v = JSON.parse(json) as Partial<SsoCarried>;
    if (
      (v.method !== 'saml' && v.method !== 'oidc') ||
      typeof v.user_uuid !== 'string' ||
      typeof v.tenant_uuid !== 'string' ||
      typeof v.login !== 'string' ||
      typeof v.until !== 'number'
    )
      return null;
    return {
      method: v.method,
      user_uuid: v.user_uuid,
      tenant_uuid: v.tenant_uuid,
      login: v.login,
      ref: typeof v.ref === 'string' ? v.ref : null,
      until: v.until,
    };
  } catch {
    return null;
  }
}

/** A `mfa.required_for` rule: ACL patterns and purposes. */
export interface RequiredForRule {
  acl: string[];
  purposes: string[];
}

/** GET /tenants/{uuid}/mfa: the tenant's own rule, and the one its users get (configuration ∪ ancestors' ∪ own). */
export interface TenantMfaPolicyView {
  tenantUuid: string;
  requiredFor: RequiredForRule;
  effectiveRequiredFor: RequiredForRule;
  updatedAt: number | null;
}

function unionOf(rules: readonly RequiredForRule[]): RequiredForRule {
  return {
    acl: [...new Set(rules.flatMap((r) => r.acl))],
    purposes: [...new Set(rules.flatMap((r) => r.purposes))],
  };
}

function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

const STRONG: ReadonlySet<MfaFactorType> = new Set(['totp', 'webauthn']);

export class MfaService implements SecondFactorGate {
  private readonly webauthn: WebAuthnFactors;

  constructor(
    private readonly store: MfaStore,
    private readonly box: SecretSealer,
    private readonly clock: Clock,
    private readonly config: MfaConfig,
    private readonly audit: MfaAudit | null,
    private readonly observe: MfaObserver = () => {},
  ) {
    this.webauthn = new WebAuthnFactors(store, clock, config);
  }

  /** WebAuthn registration options for the user's authenticator (navigator.credentials.create). */
  async webauthnRegistrationOptions(user: { uuid: string; label: string }): Promise<Record<string, unknown>> {
    return this.webauthn.registrationOptions(user);
  }

  /** Verifies the authenticator's registration response; the passkey is then a confirmed factor. */
  async webauthnRegister(user: { uuid: string; tenantUuid: string }, response: unknown, name: string | null): Promise<string> {
    const entry = { action: 'users.mfa.create', tenantUuid: user.tenantUuid, actorUuid: user.uuid, targetType: 'mfa' } as const;
    try {
      const uuid = await this.webauthn.register(user, response, name);
      this.record({ ...entry, outcome: 'success', targetId: uuid, details: { type: 'webauthn', confirmed: true } });
      return uuid;
    } catch (err) {
      this.record({ ...entry, outcome: 'failure', statusCode: 400, details: { type: 'webauthn' } });
      throw err;
    }
  }

  /** Assertion options answering a login's mfa_challenge (POST /mfa/webauthn/options); 404 when the challenge is not live or names no passkey. */
  async webauthnLoginOptions(mfaChallenge: string): Promise<Record<string, unknown>> {
    const options = await this.webauthn.loginOptions(mfaChallenge);
    if (options === null) throw new NotFoundError('unknown-mfa-challenge', 'mfa', 'mfa_challenge');
    return options;
  }

  // ---- enrolment

  async listFactors(userUuid: string): Promise<MfaFactorView[]> {
    const factors = await this.store.listMfaFactors(userUuid);
    return factors.map((f) => ({
      uuid: f.uuid,
      type: f.type,
      name: f.name,
      confirmed: f.confirmed,
      createdAt: f.createdAt,
      confirmedAt: f.confirmedAt,
      remaining: f.remaining,
    }));
  }

  /** A new, unconfirmed TOTP factor (replacing the user's other unconfirmed ones). */
  async enrolTotp(user: { uuid: string; tenantUuid: string; label: string }, name: string | null): Promise<TotpEnrolment> {
    for (const f of await this.store.listMfaFactors(user.uuid)) {
      if (f.type === 'totp' && !f.confirmed) await this.store.deleteMfaFactor(f.uuid);
    }
    const uuid = randomUUID();
    const secret = newTotpSecret();
    const now = this.clock.now();
    await this.store.insertMfaFactor({
      uuid,
      userUuid: user.uuid,
      tenantUuid: user.tenantUuid,
      type: 'totp',
      name,
      secret: this.box.seal(secret, secretContext(uuid)),
      confirmed: false,
      lastStep: null,
      createdAt: now,
      confirmedAt: null,
    });
    const otpauthUri = totpUri(secret, this.config.issuer, user.label);
    this.record({
      action: 'users.mfa.create',
      outcome: 'success',
      tenantUuid: user.tenantUuid,
      actorUuid: user.uuid,
      targetType: 'mfa',
      targetId: uuid,
      details: { type: 'totp', confirmed: false },
    });
    return { uuid, secret, otpauthUri, qrSvg: await totpQrSvg(otpauthUri) };
  }

  /** Confirms a TOTP factor with a valid code (400 otherwise); the code is then used. */
  async confirmTotp(userUuid: string, factorUuid: string, code: string): Promise<void> {
    const factor = await this.store.getMfaFactor(factorUuid);
    if (factor === null || factor.userUuid !== userUuid || factor.type !== 'totp')
      throw new NotFoundError('unknown-mfa-factor', 'mfa', factorUuid);
    if (factor.confirmed) throw new InvalidDataError('The factor is already confirmed', { uuid: { constraint_id: 'confirmed' } });
    const step = totpMatch(this.openSecret(factor), code, this.clock.now(), this.config.totp_drift_steps);
    const entry = {
      action: 'users.mfa.confirm',
      tenantUuid: factor.tenantUuid,
      actorUuid: userUuid,
      targetType: 'mfa',
      targetId: factorUuid,
    } as const;
    if (step === null || !(await this.store.confirmMfaFactor(factorUuid, this.clock.now(), step))) {
      this.record({ ...entry, outcome: 'failure', statusCode: 400, details: { type: 'totp' } });
      throw new InvalidDataError('Invalid code', {
        code: { constraint_id: 'invalid', message: 'not the current code of this factor' },
      });
    }
    this.record({ ...entry, outcome: 'success', statusCode: 204, details: { type: 'totp' } });
  }

  /** 10 new single-use codes, replacing the previous ones; shown once, stored hashed. */
  async newRecoveryCodes(user: { uuid: string; tenantUuid: string }): Promise<{ uuid: string; codes: string[] }> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, recoveryCode);
    const now = this.clock.now();
    const uuid = randomUUID();
    const factor: MfaFactorRecord = {
      uuid,
      userUuid: user.uuid,
      tenantUuid: user.tenantUuid,
      type: 'recovery_code',
      name: null,
      secret: null,
      confirmed: true,
      lastStep: null,
      createdAt: now,
      confirmedAt: now,
    };
    await this.store.replaceRecoveryCodes(
      factor,
      codes.map((c) => sha256(normaliseRecoveryCode(c))),
    );
    this.record({
      action: 'users.mfa.create',
      outcome: 'success',
      tenantUuid: user.tenantUuid,
      actorUuid: user.uuid,
      targetType: 'mfa',
      targetId: uuid,
      details: { type: 'recovery_code', count: codes.length },
    });
    return { uuid, codes };
  }

  async deleteFactor(
    userUuid: string,
    factorUuid: string,
    actor: { uuid: string | null; tenantUuid: string | null },
  ): Promise<void> {
    const factor = await this.store.getMfaFactor(factorUuid);
    if (factor === null || factor.userUuid !== userUuid) throw new NotFoundError('unknown-mfa-factor', 'mfa', factorUuid);
    await this.store.deleteMfaFactor(factorUuid);
    this.record({
      action: 'users.mfa.delete',
      outcome: 'success',
      tenantUuid: factor.tenantUuid,
      actorUuid: actor.uuid,
      targetType: 'mfa',
      targetId: factorUuid,
      statusCode: 204,
      details: { type: factor.type, user_uuid: userUuid },
    });
  }

  // ---- per-tenant required_for

  async tenantPolicy(tenantUuid: string): Promise<TenantMfaPolicyView> {
    const own = await this.store.getMfaTenantPolicy(tenantUuid);
    const lineage = await this.store.listMfaTenantPolicies(tenantUuid);
    return {
      tenantUuid,
      requiredFor: { acl: own?.acl ?? [], purposes: own?.purposes ?? [] },
      effectiveRequiredFor: unionOf([this.config.required_for, ...lineage]),
      updatedAt: own?.updatedAt ?? null,
    };
  }

  /** Sets the tenant's own rule (an empty one clears it); 400 for a negative access (a rule only names what calls for a factor). */
  async setTenantPolicy(tenantUuid: string, rule: RequiredForRule): Promise<TenantMfaPolicyView> {
    const negative = rule.acl.findIndex((a) => a.startsWith('!'));
    if (negative >= 0) {
      throw new InvalidDataError('required_for.acl names accesses that call for a second factor: no negative access', {
        [`required_for.acl.${negative}`]: { constraint_id: 'negative', message: 'a negative access (!) has no meaning here' },
      });
    }
    const policy: MfaTenantPolicy = {
      tenantUuid,
      acl: [...new Set(rule.acl)],
      purposes: [...new Set(rule.purposes)],
      updatedAt: this.clock.now(),
    };
    await this.store.putMfaTenantPolicy(policy);
    return this.tenantPolicy(tenantUuid);
  }

  // ---- single sign-on

  /**
   * The principal a single sign-on challenge carries (POST /token with
   * mfa_challenge and no credentials), the challenge left unused for the
   * gate to verify; null: not a live single sign-on challenge.
   */
  async ssoChallenge(
    mfaChallenge: string,
  ): Promise<{ method: 'saml' | 'oidc'; principal: ProvenPrincipal; ref: string | null; provenUntil: number } | null> {
    if (mfaChallenge.length === 0 || mfaChallenge.length > 512) return null;
    const challenge = await this.store.peekMfaChallenge(sha256(mfaChallenge), this.clock.now());
    const carried = ssoCarriedOf(challenge?.sso ?? null);
    if (challenge === null || carried === null || carried.user_uuid !== challenge.userUuid) return null;
    return {
      method: carried.method,
      principal: { userUuid: carried.user_uuid, tenantUuid: carried.tenant_uuid, login: carried.login },
      ref: carried.ref,
      provenUntil: carried.until,
    };
  }

  // ---- login (SecondFactorGate)

  async afterPassword(
    identity: Identity,
    acl: string[],
    login: { backend: string; request: IssueRequest; sso?: SsoProven | null },
  ): Promise<{ acl: string[]; restricted: string | null }> {
    const userUuid = identity.userUuid;
    if (userUuid === null || this.config.exempt_backends.includes(login.backend)) return { acl, restricted: null };
    const sso = login.sso ?? null;
    // The operator trusts the identity provider's own second factor.
    if (sso !== null && this.config.trust_identity_provider) return { acl, restricted: null };
    // Audit records name the way of a single sign-on login.
    const via = sso === null ? {} : { sso: sso.method };
    // One statement for the factors and the tenant rules when the store can.
    const state = this.store.loginMfaState !== undefined ? await this.store.loginMfaState(userUuid, identity.tenantUuid) : null;
    const factors = (state?.factors ?? (await this.store.listMfaFactors(userUuid))).filter((f) => f.confirmed);
    if (!factors.some((f) => STRONG.has(f.type))) {
      if (!(await this.mustEnrol(identity, acl, state?.tenantPolicies))) return { acl, restricted: null };
      this.observe('none', 'enrolment_required');
      this.record({
        action: 'login.mfa',
        outcome: 'enrolment_required',
        tenantUuid: identity.tenantUuid,
        actorUuid: userUuid,
        statusCode: 401,
        details: { ...via },
      });
      return { acl: ENROLMENT_ACL, restricted: 'mfa-enrolment-required' };
    }
    const types = [...new Set(factors.filter((f) => f.type !== 'recovery_code' || (f.remaining ?? 0) > 0).map((f) => f.type))];
    const binding = bindingOf(login.backend, login.request, sso);
    // A single sign-on challenge carries the proven principal, until the proof runs out.
    const now = this.clock.now();
    const carried: SsoCarried | null =
      sso === null
        ? null
        : {
            method: sso.method,
            user_uuid: userUuid,
            tenant_uuid: sso.principal.tenantUuid,
            login: sso.principal.login,
            ref: sso.ref,
            until: sso.provenUntil ?? now + this.config.challenge_lifetime_seconds * 1000,
          };
    const proof = login.request.secondFactor ?? null;
    if (proof === null) {
      const challenge = await this.challenge(userUuid, binding, carried);
      this.observe('challenge', 'challenged');
      this.record({
        action: 'login.mfa',
        outcome: 'challenged',
        tenantUuid: identity.tenantUuid,
        actorUuid: userUuid,
        statusCode: 401,
        details: { factors: types, ...via },
      });
      throw new MfaRequiredError(challenge, types, this.lifetimeOf(carried));
    }
    const verdict = await this.verify(userUuid, binding, factors, proof);
    const entry = { action: 'login.mfa', tenantUuid: identity.tenantUuid, actorUuid: userUuid } as const;
    if (verdict.ok) {
      this.observe(verdict.factor, 'success');
      this.record({
        ...entry,
        outcome: 'success',
        statusCode: 200,
        targetType: 'mfa',
        targetId: verdict.factorUuid,
        details: { factor: verdict.factor, ...via },
      });
      return { acl, restricted: null };
    }
    this.observe(verdict.factor, 'failure');
    this.record({
      ...entry,
      outcome: 'failure',
      statusCode: 401,
      details: { factor: verdict.factor, reason: verdict.reason, ...via },
    });
    if (carried !== null && carried.until <= this.clock.now()) {
      // The identity provider's proof ran out: log in through it again.
      throw new AuthenticationFailedError();
    }
    const fresh = await this.challenge(userUuid, binding, carried);
    throw new MfaInvalidError(fresh, types, this.lifetimeOf(carried));
  }

  /**
   * mfa.required_for: the identity's purpose, or an access of its ACL, calls
   * for a second factor, by the configuration's rule or by the rule of its
   * tenant or of one of the tenant's ancestors.
   */
  private async mustEnrol(identity: Identity, acl: string[], tenantPolicies?: readonly RequiredForRule[]): Promise<boolean> {
    if (this.config.exempt_purposes.includes(identity.purpose)) return false;
    const rules: RequiredForRule[] = [this.config.required_for];
    if (tenantPolicies !== undefined) rules.push(...tenantPolicies);
    else if (identity.tenantUuid !== null) rules.push(...(await this.store.listMfaTenantPolicies(identity.tenantUuid)));
    return rules.some((rule) => rule.purposes.includes(identity.purpose) || (rule.acl.length > 0 && matchAccess(rule.acl, acl)));
  }

  /** Seconds a new challenge lives: the configured lifetime, cut to the single sign-on proof's end. */
  private lifetimeOf(carried: SsoCarried | null): number {
    const full = this.config.challenge_lifetime_seconds;
    return carried === null ? full : Math.max(0, Math.min(full, Math.floor((carried.until - this.clock.now()) / 1000)));
  }

  private async challenge(userUuid: string, binding: string, carried: SsoCarried | null = null): Promise<string> {
    const value = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const expiresAt =
      carried === null
        ? now + this.config.challenge_lifetime_seconds * 1000
        : Math.min(now + this.config.challenge_lifetime_seconds * 1000, carried.until);
    await this.store.insertMfaChallenge(
      sha256(value),
      userUuid,
      binding,
      expiresAt,
      carried === null ? null : JSON.stringify(carried),
    );
    return value;
  }

  private async verify(
    userUuid: string,
    binding: string,
    factors: MfaFactorRecord[],
    proof: SecondFactorProof,
  ): Promise<
    | { ok: true; factor: MfaFactorType; factorUuid: string }
    | { ok: false; factor: MfaFactorType | 'challenge' | 'none'; reason: string }
  > {
    const factorOf = (): MfaFactorType | 'none' =>
      proof.totp !== null
        ? 'totp'
        : proof.recoveryCode !== null
          ? 'recovery_code'
          : proof.webauthn !== undefined && proof.webauthn !== null
            ? 'webauthn'
            : 'none';
    // Used whatever follows: a challenge answers one attempt.
    const challenge =
      proof.challenge.length > 0 && proof.challenge.length <= 512
        ? await this.store.useMfaChallenge(sha256(proof.challenge), this.clock.now())
        : null;
    if (challenge === null || challenge.userUuid !== userUuid)
      return { ok: false, factor: 'challenge', reason: 'unknown_or_expired_challenge' };
    if (!sameDigest(challenge.binding, binding)) return { ok: false, factor: 'challenge', reason: 'login_parameters_changed' };
    const now = this.clock.now();
    if (proof.totp !== null) {
      for (const f of factors) {
        if (f.type !== 'totp') continue;
        const step = totpMatch(this.openSecret(f), proof.totp, now, this.config.totp_drift_steps);
        if (step === null) continue;
        // Accepted once: a code of a step at or before the last accepted one is a replay.
        if (await this.store.acceptTotpStep(f.uuid, step)) return { ok: true, factor: 'totp', factorUuid: f.uuid };
        return { ok: false, factor: 'totp', reason: 'replayed_code' };
      }
      return { ok: false, factor: 'totp', reason: 'invalid_code' };
    }
    if (proof.recoveryCode !== null) {
      const code = normaliseRecoveryCode(proof.recoveryCode);
      const set = factors.find((f) => f.type === 'recovery_code');
      if (set !== undefined && code.length <= 64 && (await this.store.useRecoveryCode(userUuid, sha256(code), now))) {
        return { ok: true, factor: 'recovery_code', factorUuid: set.uuid };
      }
      return { ok: false, factor: 'recovery_code', reason: 'invalid_code' };
    }
    if (proof.webauthn !== undefined && proof.webauthn !== null) {
      const factor = await this.webauthn.verifyAssertion(userUuid, proof.challenge, factors, proof.webauthn);
      return factor === null
        ? { ok: false, factor: 'webauthn', reason: 'invalid_assertion' }
        : { ok: true, factor: 'webauthn', factorUuid: factor.uuid };
    }
    return { ok: false, factor: factorOf(), reason: 'no_factor_given' };
  }

  private openSecret(f: MfaFactorRecord): string {
    return this.box.open(f.secret ?? '', secretContext(f.uuid));
  }

  private record(entry: AuditEntry): void {
    try {
      this.audit?.record(entry);
    } catch {
      // The audit trail never fails a login or an enrolment.
    }
  }
}
