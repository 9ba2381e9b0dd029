// Wraps a login (POST /0.1/token) with the brute-force protection and the
// audit trail, around TokenService.issue, which stays unaware of both:
//  1. password logins reserve an attempt (LoginThrottle) before any hashing:
//     throttled → 429 + Retry-After, audited, no hash spent;
//  2. a password longer than MAX_PASSWORD_LENGTH fails at once (401, counted);
//  3. the outcome settles the reservation and is audited.
import { AuthenticationFailedError, TooManySessionsError } from '../errors.js';
import { outsideDbBudget, withDbBudget } from '../db-budget.js';
import type { AuditRecord } from '../security/types.js';
import type { LoginGuardStore } from '../security/store.js';
import type { TokenRecord } from '../tokens/types.js';
import type { Credentials, WithinIssueCommit } from './token-service.js';
import type { AuditEntry, AuditRecorder } from '../security/audit.js';
import { TooManyAttemptsError } from '../security/errors.js';
import type { LoginThrottle, LoginTicket } from '../security/login-throttle.js';
import { MAX_PASSWORD_LENGTH } from '../security/password-policy.js';
import { MfaInvalidError, MfaRequiredError } from '../mfa/errors.js';

function plausibleLogin(login: string): boolean {
  return login.length <= 256 && !login.includes('\u0000');
}

export class LoginGuard {
  constructor(
    private readonly store: LoginGuardStore,
    private readonly throttle: LoginThrottle | null,
    private readonly audit: AuditRecorder | null,
  ) {}

  /**
   * `issue` should call `withinCommit` inside the transaction that stores the
   * token: the success's writes (throttle counters cleared, trust mark, audit
   * record) then commit with it, in one commit per login. An `issue` that does
   * not call it gets them written afterwards.
   */
  async run<T extends { record: TokenRecord }>(
    credentials: Credentials,
    remoteAddr: string | null,
    issue: (withinCommit: WithinIssueCommit) => Promise<T>,
  ): Promise<T> {
    // One database budget for the whole login (the HTTP request's when
    // there is one): its statements together wait at most db_timeout_seconds.
    return withDbBudget(() => this.guarded(credentials, remoteAddr, issue));
  }

  private async guarded<T extends { record: TokenRecord }>(
    credentials: Credentials,
    remoteAddr: string | null,
    issue: (withinCommit: WithinIssueCommit) => Promise<T>,
  ): Promise<T> {
    // The second step of a single sign-on login with a second factor (issue
    // 24): its codes count in the throttle of the login the IdP proved.
    const ssoFactorStep =
      credentials.kind === 'sso' && (credentials.provenUntil ?? null) !== null ? credentials.principal.login : null;
    const login = credentials.kind === 'password' ? credentials.login : ssoFactorStep;
    const method = credentials.kind === 'password' ? 'password' : 'refresh_token';
    let ticket: LoginTicket | null = null;
    if (login !== null && this.throttle !== null) {
      try {
        ticket = await this.throttle.begin(login, remoteAddr);
      } catch (err) {
        // Refusals are audited 1st, 2nd, 4th, 8th... per counter: a flood of
        // refused attempts cannot turn into a flood of audit writes.
        if (err instanceof TooManyAttemptsError && isPowerOfTwo(err.refused)) {
          this.record({
            action: 'login',
            outcome: 'throttled',
            login,
            remoteAddr,
            statusCode: 429,
            tenantUuid: await this.tenantOf(login),
            details: { method, scope: err.scope, retry_after: err.retryAfterSeconds, refused: err.refused },
          });
        }
        throw err;
      }
    }
    try {
      if (credentials.kind === 'password' && credentials.password.length > MAX_PASSWORD_LENGTH) {
        // Never hashed: no password that long can be set.
        throw new AuthenticationFailedError();
      }
      const success = (record: TokenRecord) =>
        ({
          action: 'login',
          outcome: 'success',
          login,
          remoteAddr,
          statusCode: 200,
          tenantUuid: record.tenantUuid,
          actorUuid: record.userUuid,
          actorAuthId: record.authId,
          targetType: 'sessions',
          targetId: record.sessionUuid,
          details: { method },
        }) as const;
      let stored: { audit: AuditRecord | null } | null = null;
      const issued = await issue(async (tx, record) => {
        const audit = this.audit?.prepare(success(record)) ?? null;
        const writes = ticket?.successWrites() ?? { clearKeys: [], mark: null };
        await tx.settleLogin({ ...writes, audit });
        stored = { audit };
      });
      const committed = stored as { audit: AuditRecord | null } | null;
      if (committed !== null) {
        await settle(ticket?.committed());
        if (committed.audit !== null) this.audit?.announce(committed.audit);
      } else {
        await settle(ticket?.succeeded());
        this.record(success(issued.record));
      }
      return issued;
    } catch (err) {
      if (err instanceof MfaRequiredError) {
        // The password was right and a second factor is asked: neither a
        // failure nor a success (the counters are not cleared before the factor).
        await settle(ticket?.abandoned());
        this.record({
          action: 'login',
          outcome: 'mfa_required',
          login,
          remoteAddr,
          statusCode: 401,
          tenantUuid: await this.tenantOf(login),
          details: { method },
        });
      } else if (err instanceof AuthenticationFailedError || err instanceof MfaInvalidError) {
        await settle(ticket?.failed());
        this.record({
          action: 'login',
          outcome: 'failure',
          login,
          remoteAddr,
          statusCode: 401,
          tenantUuid: await this.tenantOf(login),
          details: err instanceof MfaInvalidError ? { method, reason: 'mfa_invalid' } : { method },
        });
      } else if (err instanceof TooManySessionsError) {
        // The password was right: the limit hit is the session cap.
        await settle(ticket?.succeeded());
        this.record({
          action: 'login',
          outcome: 'denied',
          login,
          remoteAddr,
          statusCode: 429,
          tenantUuid: await this.tenantOf(login),
          details: { method, reason: 'too_many_sessions' },
        });
      } else {
        // No verdict on the password (hashing pool busy, store down): give
        // the attempt back; store down: the attempts queued behind fail now.
        await settle(ticket?.abandoned(err));
        this.record({
          action: 'login',
          outcome: 'error',
          login,
          remoteAddr,
          statusCode: (err as { status?: number }).status ?? null,
          details: { method },
        });
      }
      throw err;
    }
  }

  /**
   * Audits without waiting: the write is not the login's, so it does not
   * spend what the login has left of its database time (src/db-budget.ts).
   */
  private record(entry: AuditEntry): void {
    if (this.audit !== null) outsideDbBudget(() => this.audit?.record(entry));
  }

  /** The tenant of the user a login names (failures of known users are visible to their tenant). */
  private async tenantOf(login: string | null): Promise<string | null> {
    if (this.audit === null || !this.audit.enabled || login === null || !plausibleLogin(login)) return null;
    try {
      return (await this.store.findUserByLogin(login))?.tenantUuid ?? null;
    } catch {
      return null;
    }
  }
}

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && Number.isInteger(n) && (n & (n - 1)) === 0;
}

/** Settling a ticket is best effort: the answer to the client is already decided. */
async function settle(p: Promise<void> | undefined): Promise<void> {
  try {
    await p;
  } catch {
    // A counter not cleared only costs a later delay; never fail the login for it.
  }
}
