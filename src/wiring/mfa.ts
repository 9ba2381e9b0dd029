// Builds multi-factor authentication (issue 24) for the composition root:
// the secret box of TOTP secrets (the external accounts' AES-256-GCM box,
// src/external/secret-box.ts, with its key file: external_auth.encryption_key_file,
// default <data_dir>/external-auth.key), the metrics, the service, and
// plugs it into the token service as the second factor of password logins.
import path from 'node:path';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Config } from '../config/types.js';
import { SecretBox } from '../external/secret-box.js';
import { METRIC_PREFIX } from '../metrics/metrics.js';
import type { Store } from '../store/types.js';
import type { TokenService } from '../login/token-service.js';
import { MfaService, type MfaAudit, type MfaObserver } from '../mfa/service.js';

export function createMfa(deps: {
  config: Config;
  store: Store;
  tokens: TokenService;
  clock: Clock;
  logger: Logger;
  audit: MfaAudit | null;
  registry: Registry | null;
}): MfaService {
  const { config, store, logger } = deps;
  const box = new SecretBox({
    keyFile: config.external_auth.encryption_key_file,
    defaultFile: path.join(config.data_dir, 'external-auth.key'),
    onGenerated: (file) =>
      logger.warn(
        { file },
        'mfa: generated the encryption key of stored secrets (copy it to every instance sharing this database)',
      ),
  });
  let observe: MfaObserver = () => {};
  if (deps.registry !== null) {
    const counter = new Counter({
      name: `${METRIC_PREFIX}mfa_verifications_total`,
      help: 'Second-factor steps of logins by factor (totp, recovery_code, webauthn, challenge, none) and result (success, failure, challenged, enrolment_required).',
      labelNames: ['factor', 'result'],
      registers: [deps.registry],
    });
    observe = (factor, result) => counter.inc({ factor, result });
  }
  const mfa = new MfaService(store, box, deps.clock, config.mfa, deps.audit, observe);
  deps.tokens.requireSecondFactorWith(mfa);
  return mfa;
}
