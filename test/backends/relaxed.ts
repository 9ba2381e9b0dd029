// The backend tests fail many logins on purpose: login throttling and rate
// limits (issue 7, tested on their own) are off here.
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import type { Config } from '../../src/config/types.js';

export function withoutThrottling(): Pick<Config, 'security'> {
  const security = structuredClone(DEFAULT_CONFIG.security);
  security.login_throttle.enabled = false;
  security.rate_limits.enabled = false;
  return { security };
}
