// Token material: 256 bits from the CSPRNG, base64url (43 chars). Only the
// SHA-256 of a token is ever stored or used as a cache key.
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_BYTES = 32;

/** Longest token string we bother to hash; anything longer is simply unknown. */
export const MAX_TOKEN_LENGTH = 512;

export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
