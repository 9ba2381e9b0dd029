// Rules for new passwords (user creation, password change): a minimum
// length, at most MAX_PASSWORD_LENGTH characters, and optionally not one of
// the bundled most common passwords (./common-passwords.ts, compiled in).
import { InvalidDataError } from '../errors.js';
import { COMMON_PASSWORDS } from './common-passwords.js';
import type { PasswordPolicyConfig } from '../config/sections/security.js';

/** Longest password ever accepted (set or checked); longer logins fail without hashing. */
export const MAX_PASSWORD_LENGTH = 1024;

let commonSet: ReadonlySet<string> | null = null;

/** True when the password (compared case-insensitively) is in the bundled list. */
export function isCommonPassword(password: string): boolean {
  commonSet ??= new Set(COMMON_PASSWORDS.map((p) => p.toLowerCase()));
  return commonSet.has(password.toLowerCase());
}

export class PasswordPolicy {
  constructor(private readonly config: PasswordPolicyConfig) {}

  /** Throws InvalidDataError (400 invalid-data, details naming `field`) for a password the policy refuses. */
  assertAcceptable(password: string, field = 'password'): void {
    // Length in code points, as a user counts characters.
    const length = [...password].length;
    if (length < this.config.min_length) {
      throw new InvalidDataError(`Password too short (at least ${this.config.min_length} characters)`, {
        [field]: { constraint_id: 'min_length', message: `at least ${this.config.min_length} characters` },
      });
    }
    if (password.length > MAX_PASSWORD_LENGTH) {
      throw new InvalidDataError(`Password too long (at most ${MAX_PASSWORD_LENGTH} characters)`, {
        [field]: { constraint_id: 'max_length', message: `at most ${MAX_PASSWORD_LENGTH} characters` },
      });
    }
    if (this.config.reject_common && isCommonPassword(password)) {
      throw new InvalidDataError('Password too common', {
        [field]: { constraint_id: 'common_password', message: 'one of the most common passwords' },
      });
    }
  }
}
