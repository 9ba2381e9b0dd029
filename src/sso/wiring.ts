// Single sign-on (issue 23), built by the composition root: the
// authentication-method check plugged into the token service, /idp, and
// the OpenID Connect relying party. The OIDC client secret is sealed with
// the external-auth key (external_auth.encryption_key_file).
import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/types.js';
import { AuthenticationFailedError } from '../errors.js';
import { SecretBox } from '../external/secret-box.js';
import type { SsoLogins } from '../http/routes/token.js';
import type { Store, User } from '../store/types.js';
import type { TokenService } from '../tokens/service.js';
import { AuthenticationMethods } from './authentication-methods.js';
import { IdpService } from './idp-service.js';
import { OidcService } from './oidc-service.js';

export interface Sso {
  idp: IdpService;
  oidc: OidcService;
  logins: SsoLogins;
}

export function createSso(deps: {
  config: Config;
  store: Store;
  tokens: TokenService;
  users: { get(uuid: string, scopeRoot: string | null): Promise<User> };
  clock: Clock;
  logger: Logger;
}): Sso {
  const { config, store, logger } = deps;
  deps.tokens.enforceLoginMethodsWith(new AuthenticationMethods(store));
  const box = new SecretBox({
    keyFile: config.external_auth.encryption_key_file,
    defaultFile: path.join(config.data_dir, 'external-auth.key'),
    onGenerated: (file) => logger.warn({ file }, 'sso: generated the encryption key of stored secrets (shared with external auth)'),
  });
  const oidc = new OidcService(store, box, deps.clock, config.oidc);
  const logins: SsoLogins = {
    async consume(kind, sessionId) {
      if (kind !== 'oidc') throw new AuthenticationFailedError();
      const { principal, idHash } = await oidc.consume(sessionId);
      return { principal, ref: idHash };
    },
    async issued(ref, sessionUuid) {
      await store.attachSsoTokenSession(ref, sessionUuid);
    },
  };
  return { idp: new IdpService(store, deps.users), oidc, logins };
}
