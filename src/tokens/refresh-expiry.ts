// When refresh tokens expire (config `refresh_tokens`): the one rule shared by
// the login (src/login/token-service.ts) and the reaper (src/tokens/reaper.ts).
import type { RefreshTokenExpiry } from './types.js';

/** The limits of config `refresh_tokens`, in seconds; 0 turns one off. */
export interface RefreshTokenLimits {
  idleTimeoutSeconds: number;
  absoluteLifetimeSeconds: number;
}

/** Refresh tokens last used, or created, at or before these times are expired at `now` (null: that limit is off). */
export function refreshTokenExpiry(limits: RefreshTokenLimits, now: number): RefreshTokenExpiry {
  return {
    lastUsedBefore: limits.idleTimeoutSeconds > 0 ? now - limits.idleTimeoutSeconds * 1000 : null,
    createdBefore: limits.absoluteLifetimeSeconds > 0 ? now - limits.absoluteLifetimeSeconds * 1000 : null,
  };
}
