// The live part of a reloaded configuration that security applies without a
// restart (src/config/reload.ts): the per-address rate limits and the login throttle.
import type { Config } from '../config/types.js';
import { changedUnder } from '../config/changes.js';
import type { SecurityDeps } from '../app.js';

export function reconfigureSecurity(
  security: Pick<SecurityDeps, 'http' | 'throttle'>,
  next: Config,
  changed: readonly string[],
): void {
  if (changedUnder(changed, 'security.rate_limits')) security.http.reconfigureRateLimits(next.security.rate_limits);
  if (changedUnder(changed, 'security.login_throttle')) security.throttle.reconfigure(next.security.login_throttle);
}
