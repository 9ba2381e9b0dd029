// WebAuthn / passkeys (issue 24) with @simplewebauthn/server: registration
// of a user's credential, and the assertion answering a login's challenge.
// The relying party (id, name, origins) comes from `mfa.webauthn`. A
// credential's public key and counter are stored in mfa_factors.secret as
// JSON (public data: nothing to seal). The WebAuthn challenges live in
// mfa_challenges (hashed, single use) bound to what they were asked for:
// `webauthn-registration`, or `webauthn-login:<digest of the mfa_challenge>`.
import { createHash, randomUUID } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Clock } from '../clock.js';
import { InvalidDataError } from '../errors.js';
import type { MfaConfig } from '../config/sections/mfa.js';
import type { MfaFactorRecord, MfaStore } from './types.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const REGISTRATION = 'webauthn-registration';
export const loginBinding = (mfaChallenge: string) => `webauthn-login:${sha256(mfaChallenge)}`;

interface StoredCredential {
  id: string;
  publicKey: string;
  counter: number;
  transports: AuthenticatorTransportFuture[];
}

/** The challenge a response signed (clientDataJSON.challenge); null when unreadable. */
function signedChallenge(response: unknown): string | null {
  try {
    const data = (response as { response?: { clientDataJSON?: unknown } }).response?.clientDataJSON;
    if (typeof data !== 'string' || data.length > 8192) return null;
    const challenge = (JSON.parse(Buffer.from(data, 'base64url').toString('utf8')) as { challenge?: unknown }).challenge;
    return typeof challenge === 'string' && challenge.length <= 512 ? challenge : null;
  } catch {
    return null;
  }
}

function credentialOf(f: MfaFactorRecord): StoredCredential | null {
  try {
    return JSON.parse(f.secret ?? '') as StoredCredential;
  } catch {
    return null;
  }
}

export class WebAuthnFactors {
  constructor(
    private readonly store: MfaStore,
    private readonly clock: Clock,
    private readonly config: MfaConfig,
  ) {}

  private get rp() {
    return this.config.webauthn;
  }

  private expiry(): number {
    return this.clock.now() + this.config.challenge_lifetime_seconds * 1000;
  }

  async registrationOptions(user: { uuid: string; label: string }): Promise<Record<string, unknown>> {
    const existing = (await this.store.listMfaFactors(user.uuid))
      .filter((f) => f.type === 'webauthn' && f.confirmed)
      .map(credentialOf);
    const options = await generateRegistrationOptions({
      rpName: this.rp.rp_name,
      rpID: this.rp.rp_id,
      userName: user.label,
      userID: Buffer.from(user.uuid, 'utf8'),
      attestationType: 'none',
      excludeCredentials: existing
        .filter((c): c is StoredCredential => c !== null)
        .map((c) => ({ id: c.id, transports: c.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    await this.store.insertMfaChallenge(sha256(options.challenge), user.uuid, REGISTRATION, this.expiry());
    return options as unknown as Record<string, unknown>;
  }

  /** Verifies a registration response and stores the credential (confirmed); returns its factor uuid. 400 when it does not verify. */
  async register(user: { uuid: string; tenantUuid: string }, response: unknown, name: string | null): Promise<string> {
    const challenge = signedChallenge(response);
    const invalid = () =>
      new InvalidDataError('The WebAuthn registration does not verify', { response: { constraint_id: 'invalid' } });
    if (challenge === null) throw invalid();
    const stored = await this.store.useMfaChallenge(sha256(challenge), this.clock.now());
    if (stored === null || stored.userUuid !== user.uuid || stored.binding !== REGISTRATION) throw invalid();
    let verification;
    try {
      verification = await verifyRegistrationResponse({
        response: response as RegistrationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.rp.origins,
        expectedRPID: this.rp.rp_id,
        requireUserVerification: false,
      });
    } catch {
      throw invalid();
    }
    if (!verification.verified) throw invalid();
    const { credential } = verification.registrationInfo;
    const secret: StoredCredential = {
      id: credential.id,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      transports: credential.transports ?? [],
    };
    const uuid = randomUUID();
    const now = this.clock.now();
    await this.store.insertMfaFactor({
      uuid,
      userUuid: user.uuid,
      tenantUuid: user.tenantUuid,
      type: 'webauthn',
      name,
      secret: JSON.stringify(secret),
      confirmed: false,
      lastStep: null,
      createdAt: now,
      confirmedAt: null,
    });
    // Confirmed at once (the registration proved the authenticator): the event goes with it.
    await this.store.confirmMfaFactor(uuid, now, null);
    return uuid;
  }

  /** Options of an assertion answering `mfaChallenge` (left unused); null when the challenge is not live or the user has no passkey. */
  async loginOptions(mfaChallenge: string): Promise<Record<string, unknown> | null> {
    const live = await this.store.peekMfaChallenge(sha256(mfaChallenge), this.clock.now());
    if (live === null) return null;
    const credentials = (await this.store.listMfaFactors(live.userUuid))
      .filter((f) => f.type === 'webauthn' && f.confirmed)
      .map(credentialOf)
      .filter((c): c is StoredCredential => c !== null);
    if (credentials.length === 0) return null;
    const options = await generateAuthenticationOptions({
      rpID: this.rp.rp_id,
      allowCredentials: credentials.map((c) => ({ id: c.id, transports: c.transports })),
      userVerification: 'preferred',
    });
    await this.store.insertMfaChallenge(sha256(options.challenge), live.userUuid, loginBinding(mfaChallenge), this.expiry());
    return options as unknown as Record<string, unknown>;
  }

  /** The factor an assertion verifies for (its counter moved forward), or null. */
  async verifyAssertion(
    userUuid: string,
    mfaChallenge: string,
    factors: MfaFactorRecord[],
    assertion: unknown,
  ): Promise<MfaFactorRecord | null> {
    const challenge = signedChallenge(assertion);
    if (challenge === null) return null;
    const stored = await this.store.useMfaChallenge(sha256(challenge), this.clock.now());
    if (stored === null || stored.userUuid !== userUuid || stored.binding !== loginBinding(mfaChallenge)) return null;
    const id = (assertion as { id?: unknown }).id;
    const factor = factors.find((f) => f.type === 'webauthn' && credentialOf(f)?.id === id);
    const credential = factor === undefined ? null : credentialOf(factor);
    if (factor === undefined || credential === null) return null;
    try {
      const verification = await verifyAuthenticationResponse({
        response: assertion as AuthenticationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.rp.origins,
        expectedRPID: this.rp.rp_id,
        credential: {
          id: credential.id,
          publicKey: Buffer.from(credential.publicKey, 'base64url'),
          counter: credential.counter,
          transports: credential.transports,
        },
        requireUserVerification: false,
      });
      if (!verification.verified) return null;
      await this.store.updateMfaFactorSecret(
        factor.uuid,
        JSON.stringify({ ...credential, counter: verification.authenticationInfo.newCounter }),
      );
      return factor;
    } catch {
      return null;
    }
  }
}
