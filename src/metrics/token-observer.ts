// What the token service reports about itself. The service calls these on
// its hot path, so the numbers are plain indexes, never label objects.

export const CHECK_VALID = 0;
export const CHECK_INVALID = 1;
export const CHECK_DENIED = 2;
export const CHECK_ERROR = 3;
export type CheckResult = typeof CHECK_VALID | typeof CHECK_INVALID | typeof CHECK_DENIED | typeof CHECK_ERROR;

export type LoginResult = 'success' | 'failure' | 'throttled' | 'error';
export type Grant = 'password' | 'refresh_token';
/** Why tokens stopped being valid before their expiry (the reaper is counted apart). */
export type RevokeReason = 'revoked' | 'refresh_token_revoked' | 'user_sessions';

export interface TokenObserver {
  /** One token check (HEAD/GET /token, scope checks, /authz, introspection). */
  checked(result: CheckResult, fromCache: boolean, seconds: number): void;
  /** A cache lookup while the cache is active. */
  cacheLookup(hit: boolean): void;
  loggedIn(backend: string, result: LoginResult, seconds: number): void;
  issued(grant: Grant): void;
  revoked(reason: RevokeReason, count: number): void;
}

export const NO_TOKEN_OBSERVER: TokenObserver = {
  checked() {},
  cacheLookup() {},
  loggedIn() {},
  issued() {},
  revoked() {},
};
