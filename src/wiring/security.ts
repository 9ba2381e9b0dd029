// Builds the security pieces from the configuration, for the composition
// root (src/main.ts) and buildApp (src/app.ts): one call, one object.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/types.js';
import type { Store } from '../store/types.js';
import type { SecurityDeps } from '../app.js';
import { AuditRecorder, SecurityJanitor, type AuditRecorderOptions } from '../security/audit.js';
import { SecurityHttp } from '../http/hardening.js';
import { LoginGuard } from '../login/login-guard.js';
import { LoginThrottle } from '../security/login-throttle.js';
import { PasswordPolicy } from '../security/password-policy.js';
import { ThrottleAdmin } from '../security/throttle-admin.js';

export function createSecurity(deps: {
  config: Config;
  store: Store;
  clock: Clock;
  logger: Logger;
  https: boolean;
  audit?: AuditRecorderOptions;
}): SecurityDeps {
  const { config, store, clock, logger } = deps;
  const audit = new AuditRecorder(store, clock, logger, config.audit, deps.audit);
  const throttle = new LoginThrottle(store, clock, config.security.login_throttle);
  let topTenant: string | null = null;
  return {
    http: new SecurityHttp({ config: config.security, https: deps.https, audit, numProxies: config.rest_api.num_proxies }),
    loginGuard: new LoginGuard(store, throttle, audit),
    throttle,
    throttles: new ThrottleAdmin(store, clock, throttle, audit),
    audit,
    passwordPolicy: new PasswordPolicy(config.password_policy),
    janitor: new SecurityJanitor([() => audit.purge(), () => throttle.purge()], config.audit.purge_interval_seconds, logger),
    async topTenantUuid() {
      topTenant ??= (await store.getTopTenant())?.uuid ?? null;
      return topTenant;
    },
  };
}
