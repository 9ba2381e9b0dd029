// The security pieces one service runs, as one object (built by
// src/wiring/security.ts; used by buildApp and the token routes).
import type { AuditRecorder, SecurityJanitor } from './audit.js';
import type { SecurityHttp } from './http-hardening.js';
import type { LoginGuard } from './login-guard.js';
import type { LoginThrottle } from './login-throttle.js';
import type { PasswordPolicy } from './password-policy.js';
import type { ThrottleAdmin } from './throttle-admin.js';

export interface SecurityDeps {
  http: SecurityHttp;
  loginGuard: LoginGuard;
  throttle: LoginThrottle;
  /** GET /security/throttles, DELETE /security/throttles/{id} (issue 25). */
  throttles: ThrottleAdmin;
  audit: AuditRecorder;
  passwordPolicy: PasswordPolicy;
  janitor: SecurityJanitor;
  /** The top tenant (sees audit records attached to no tenant). */
  topTenantUuid: () => Promise<string | null>;
}
