// Single sign-on as one service runs it (built by src/wiring/sso.ts).
import type { SsoEscalationGuard } from './escalation.js';
import type { IdpService } from './idp-service.js';
import type { OidcService } from './oidc-service.js';
import type { SamlService } from './saml-service.js';
import type { SsoLogins } from './types.js';

export interface Sso {
  idp: IdpService;
  oidc: OidcService;
  saml: SamlService;
  /** No escalation through the tenant's IdP settings (PUT/DELETE /backends/oidc, /backends/saml). */
  escalation: SsoEscalationGuard;
  logins: SsoLogins;
}
