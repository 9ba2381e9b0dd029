// Single sign-on (issue 23), built by the composition root: the
// authentication-method check plugged into the token service, /idp, the
// OpenID Connect relying party and the SAML service provider. The OIDC
// client secret is sealed with the external-auth key
// (external_auth.encryption_key_file); the SAML SP key and certificate come
// from saml.key_file/cert_file or are generated under data_dir.
import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/types.js';
import { AuthenticationFailedError } from '../errors.js';
import { SecretBox } from '../external/secret-box.js';
import type { SsoLogins } from '../sso/types.js';
import type { Sso } from '../sso/services.js';
import type { User } from '../identity/types.js';
import type { Store } from '../store/types.js';
import type { TokenService } from '../login/token-service.js';
import type { GrantedAcls } from '../identity/privileges.js';
import { AuthenticationMethods } from '../sso/authentication-methods.js';
import { SsoEscalationGuard } from '../sso/escalation.js';
import { IdpService } from '../sso/idp-service.js';
import { OidcService } from '../sso/oidc-service.js';
import { SamlService } from '../sso/saml-service.js';
import { SpKeyStore } from '../sso/saml-sp-key.js';

export function createSso(deps: {
  config: Config;
  store: Store;
  tokens: TokenService;
  users: { get(uuid: string, scopeRoot: string | null): Promise<User> };
  /** What users' tokens get (the token service's AclBuilder): weighed before how they log in changes. */
  grantedAcls: GrantedAcls;
  clock: Clock;
  logger: Logger;
}): Sso {
  const { config, store, logger } = deps;
  deps.tokens.enforceLoginMethodsWith(new AuthenticationMethods(store));
  const box = new SecretBox({
    keyFile: config.external_auth.encryption_key_file,
    defaultFile: path.join(config.data_dir, 'external-auth.key'),
    onGenerated: (file) =>
      logger.warn({ file }, 'sso: generated the encryption key of stored secrets (shared with external auth)'),
  });
  const oidc = new OidcService(store, box, deps.clock, config.oidc);
  const keys = new SpKeyStore({
    keyFile: config.saml.key_file ?? null,
    certFile: config.saml.cert_file ?? null,
    dataDir: config.data_dir,
    onGenerated: (file) =>
      logger.warn(
        { file },
        'sso: generated the SAML service provider key and certificate (instances sharing a database need the same files)',
      ),
  });
  const saml = new SamlService(store, deps.tokens, deps.clock, config.saml, keys);
  const logins: SsoLogins = {
    async consume(kind, sessionId) {
      const { principal, idHash } =
        kind === 'saml' ? await saml.consume(sessionId) : kind === 'oidc' ? await oidc.consume(sessionId) : fail();
      return { principal, ref: idHash };
    },
    async issued(ref, sessionUuid) {
      await store.attachSsoTokenSession(ref, sessionUuid);
    },
  };
  return {
    idp: new IdpService(store, deps.users, deps.grantedAcls),
    oidc,
    saml,
    escalation: new SsoEscalationGuard(store, deps.grantedAcls),
    logins,
  };
}

function fail(): never {
  throw new AuthenticationFailedError();
}
