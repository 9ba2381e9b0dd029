// PBKDF2-HMAC-SHA512 password hashes imported from wazo-auth (`xivo-auth
// import wazo-auth`), in one string:
//
//   pbkdf2-sha512$<iterations>$<salt, base64>$<derived key, base64>
//
// wazo-auth keeps the salt (64 random bytes) and the hex of the derived key
// (64 bytes) in two columns, and the iteration count (250,000) in its code;
// the import writes all three here, so a changed count stays verifiable.
// These hashes are only ever verified, never made: a successful login
// re-hashes the password to argon2id in its own commit (needsRehash is true
// for anything that is not argon2id).
//
// Verification runs on the hashing threads (hash-threads.ts), off the event
// loop, and compares the keys with timingSafeEqual.

export const PBKDF2_SHA512_SCHEME = 'pbkdf2-sha512';

/** wazo-auth's iteration count (PasswordEncrypter). */
export const WAZO_PBKDF2_ITERATIONS = 250_000;

/** Bounds of what a stored hash may ask for: a malformed one must not buy minutes of CPU. */
const MIN_ITERATIONS = 1;
const MAX_ITERATIONS = 10_000_000;
const MIN_KEY_BYTES = 16;
const MAX_KEY_BYTES = 128;
const MAX_SALT_BYTES = 1024;

export interface Pbkdf2Sha512Hash {
  iterations: number;
  salt: Buffer;
  /** The derived key; its length is the key length to derive. */
  key: Buffer;
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

export function formatPbkdf2Sha512(h: Pbkdf2Sha512Hash): string {
  return `${PBKDF2_SHA512_SCHEME}$${h.iterations}$${b64(h.salt)}$${b64(h.key)}`;
}

const B64 = /^[A-Za-z0-9+/]*$/;

/** The parts of a stored `pbkdf2-sha512$…` hash; null for anything else or anything malformed. */
export function parsePbkdf2Sha512(stored: string): Pbkdf2Sha512Hash | null {
  const parts = stored.split('$');
  if (parts.length !== 4 || parts[0] !== PBKDF2_SHA512_SCHEME) return null;
  const [, rawIterations, rawSalt, rawKey] = parts;
  if (!/^\d{1,8}$/.test(rawIterations)) return null;
  const iterations = Number(rawIterations);
  if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) return null;
  if (!B64.test(rawSalt) || !B64.test(rawKey)) return null;
  const salt = Buffer.from(rawSalt, 'base64');
  const key = Buffer.from(rawKey, 'base64');
  if (salt.length === 0 || salt.length > MAX_SALT_BYTES) return null;
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) return null;
  return { iterations, salt, key };
}

export function isPbkdf2Sha512(stored: string): boolean {
  return stored.startsWith(`${PBKDF2_SHA512_SCHEME}$`);
}

/**
 * wazo-auth's two columns (password_salt bytea, password_hash hex) as one
 * stored hash; null when they are absent or do not look like what wazo-auth
 * writes.
 */
export function fromWazoColumns(salt: Buffer | null, hexKey: string | null, iterations = WAZO_PBKDF2_ITERATIONS): string | null {
  if (salt === null || hexKey === null || salt.length === 0) return null;
  if (!/^[0-9a-fA-F]+$/.test(hexKey) || hexKey.length % 2 !== 0) return null;
  const key = Buffer.from(hexKey, 'hex');
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES || salt.length > MAX_SALT_BYTES) return null;
  return formatPbkdf2Sha512({ iterations, salt, key });
}
