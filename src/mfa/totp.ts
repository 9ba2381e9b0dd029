// TOTP (RFC 6238) as authenticator apps expect it: SHA-1, 6 digits, 30-second
// steps, a 160-bit secret in base32. The time comes from the injected clock.
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';

export const TOTP_PERIOD_SECONDS = 30;
const DIGITS = 6;
const ALGORITHM = 'SHA1';

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totpOf(secretBase32: string, issuer = '', label = 'OTPAuth'): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: ALGORITHM,
    digits: DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

export function totpUri(secretBase32: string, issuer: string, label: string): string {
  return totpOf(secretBase32, issuer, label).toString();
}

export async function totpQrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

/** The time step of `at` (epoch ms). */
export function totpStep(at: number): number {
  return Math.floor(at / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code of `at` (tests, and nothing else, compute codes). */
export function totpCode(secretBase32: string, at: number): string {
  return totpOf(secretBase32).generate({ timestamp: at });
}

/**
 * The time step `code` belongs to, within ±`drift` steps of `at`; null when
 * it matches none. Compared in constant time by otpauth.
 */
export function totpMatch(secretBase32: string, code: string, at: number, drift: number): number | null {
  if (!/^[0-9]{6}$/.test(code)) return null;
  const delta = totpOf(secretBase32).validate({ token: code, timestamp: at, window: drift });
  return delta === null ? null : totpStep(at) + delta;
}
