// What the security domain needs of the storage: login-throttle counters,
// audit records, re-hashing (src/store/security-verbs.ts). Below the verbs,
// what each security module uses of them.
import type { ListQuery, ListResult } from '../lists.js';
import type { AuditFilter, AuditRecord, BlockedLogin, LoginAttempt, LoginThrottleRule } from './types.js';

/** A dated mark to read with a reservation: is `key` marked since `since`? (hasLoginMark in the same statement) */
export interface LoginMarkQuery {
  key: string;
  since: number;
}

/** A reservation; `marked` is set when a mark was asked with it (a store that cannot leaves it out: ask hasLoginMark). */
export type ReservedLoginAttempt = LoginAttempt & { marked?: boolean };

export interface SecurityStoreVerbs {
  /**
   * Counts one login attempt on `key` atomically (INSERT ... ON CONFLICT DO
   * UPDATE ... RETURNING): let through and counted as a failure, or refused
   * while the back-off runs. Concurrent calls never lose a count. With
   * `mark`, also says whether that mark is set (one statement for both).
   */
  reserveLoginAttempt(key: string, now: number, rule: LoginThrottleRule, mark?: LoginMarkQuery): Promise<ReservedLoginAttempt>;
  /** Gives back one counted failure (the attempt was refused elsewhere, or never checked a password). */
  releaseLoginAttempt(key: string): Promise<void>;
  clearLoginFailures(keys: string[]): Promise<void>;
  getLoginAttempts(key: string): Promise<LoginAttempt | null>;
  /** A dated mark (e.g. "this address logged in successfully"), refreshed on each call. */
  touchLoginMark(key: string, now: number): Promise<void>;
  hasLoginMark(key: string, since: number): Promise<boolean>;
  /** Deletes counters and marks whose key starts with `prefix`, untouched since `before`. */
  purgeLoginThrottle(prefix: string, before: number): Promise<number>;
  /** Counters backing off at `now` (next_attempt_at later than now), soonest unblocked last; at most `limit` (issue 25). */
  listBlockedLogins(now: number, limit: number): Promise<BlockedLogin[]>;
  /** Deletes one counter (an administrator's unlock); false when there was none. */
  deleteLoginThrottle(key: string): Promise<boolean>;
  insertAuditRecord(r: AuditRecord): Promise<void>;
  /** Newest first by default (order `at`, direction desc). */
  listAuditRecords(f: AuditFilter, q: ListQuery): Promise<ListResult<AuditRecord>>;
  /** Deletes up to `limit` records older than `before`; returns how many. */
  purgeAuditRecords(before: number, limit: number): Promise<number>;
  /** Sets a new hash only if the stored one is still `oldHash` (a concurrent password change wins). */
  replacePasswordHash(userUuid: string, oldHash: string, newHash: string): Promise<boolean>;
}

/** The counters and marks of the login throttle (./login-throttle.ts). */
export type LoginThrottleStore = Pick<
  SecurityStoreVerbs,
  'reserveLoginAttempt' | 'releaseLoginAttempt' | 'clearLoginFailures' | 'touchLoginMark' | 'hasLoginMark' | 'purgeLoginThrottle'
>;

/** The audit trail (./audit.ts). */
export type AuditStore = Pick<SecurityStoreVerbs, 'insertAuditRecord' | 'listAuditRecords' | 'purgeAuditRecords'>;

/** The administrators' view of the throttle (./throttle-admin.ts). */
export type ThrottleAdminStore = Pick<SecurityStoreVerbs, 'listBlockedLogins' | 'deleteLoginThrottle'>;

/** What the login guard looks up (./login-guard.ts): the tenant of the user a login names, for the audit of its failures. */
export interface LoginGuardStore {
  /** The user a login names (its username, or a confirmed email), or null. */
  findUserByLogin(login: string): Promise<{ tenantUuid: string } | null>;
}
