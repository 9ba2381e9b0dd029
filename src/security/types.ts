// The security domain's records: login-throttle counters, audit records.
// All times are epoch milliseconds (integers).

/** The writes that follow a successful login, committed with its token (StoreTx.settleLogin). */
export interface LoginSettlement {
  /** login_throttle counters to delete. */
  clearKeys: string[];
  /** Trust mark to set (login_throttle row), or null. */
  mark: { key: string; at: number } | null;
  /** Audit record to insert (with its event when events are recorded), or null. */
  audit: AuditRecord | null;
}

/** How one login-throttle counter backs off. */
export interface LoginThrottleRule {
  /** Failures allowed before a delay applies. */
  threshold: number;
  /** Delay (ms) after failure threshold, threshold+1, ...; the last one is the cap. */
  delaysMs: number[];
  /** A counter last touched at or before this time starts again from zero. */
  staleBefore: number;
}

/** A counter after one attempt (or as stored). */
export interface LoginAttempt {
  /** False when the attempt arrived before nextAttemptAt: refused, not counted as a failure. */
  allowed: boolean;
  /** Consecutive attempts let through (each counts as a failure until a success clears it). */
  failures: number;
  /** Every attempt, refused ones included. */
  attempts: number;
  /** No attempt is let through before this time (0: none pending). */
  nextAttemptAt: number;
}

/** A login-throttle counter that is backing off (GET /security/throttles). */
export interface BlockedLogin extends Omit<LoginAttempt, 'allowed'> {
  /** The counter's key: `p:` (login, address) or `a:` (login, account-wide), then a hash. */
  key: string;
  updatedAt: number;
}

/** The orders of an audit listing (GET /audit?order=), in the API's words. */
export const AUDIT_ORDER_COLUMNS = ['at', 'action', 'outcome', 'login', 'remote_addr'] as const;

export type AuditOutcome = 'success' | 'failure' | 'denied' | 'throttled' | 'error';

/** One audit record; never holds a secret (password, token, Authorization). */
export interface AuditRecord {
  uuid: string;
  at: number;
  /** What: e.g. `login`, `token.revoke`, `users.create`, `users.password.change`. */
  action: string;
  outcome: AuditOutcome | string;
  tenantUuid: string | null;
  /** Who: the acting user (the token's user, or the user who logged in). */
  actorUuid: string | null;
  actorAuthId: string | null;
  /** The login name given (login attempts only). */
  login: string | null;
  /** From where. */
  remoteAddr: string | null;
  targetType: string | null;
  targetId: string | null;
  statusCode: number | null;
  details: Record<string, unknown>;
}

export interface AuditFilter {
  tenantUuids: string[];
  /** Also records attached to no tenant (failed logins of unknown users): top tenant only. */
  includeUntenanted: boolean;
  /** Only records at or after this instant (ms since the epoch); narrows `filtered`, never `total`. */
  from?: number;
  /** Only records before this instant (ms since the epoch, exclusive); narrows `filtered`, never `total`. */
  until?: number;
  /** Only this action (exact: `login`, `users.create`, ...); narrows `filtered`. */
  action?: string;
  /** Only this outcome (exact: `success`, `failure`, ...); narrows `filtered`. */
  outcome?: string;
  /**
   * Only records of this actor: its user uuid or auth id (a service
   * account's name) among `ids`, or the login given among `logins`
   * (lower-cased, compared case-insensitively); narrows `filtered`.
   */
  actor?: { ids: string[]; logins: string[] };
}
