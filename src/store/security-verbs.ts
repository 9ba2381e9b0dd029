// Store verbs of the security features (issue 7): login-throttle counters,
// audit records, password re-hashing. Raw SQL over Kysely, the same
// statements on both engines (the tables come from migrations/security.ts).
// Spread into the store by kysely-store.ts; declared in types.ts.
import { AUDIT_ORDER_COLUMNS } from '../security/types.js';
import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { DatabaseSchema } from './database-schema.js';
import { mappingErrors } from './mapped-errors.js';
import { containsAny, orderTerms, pageLimit, type OrderColumn } from './list-query.js';
import type {
  AuditFilter,
  AuditRecord,
  BlockedLogin,
  ListQuery,
  ListResult,
  LoginAttempt,
  LoginThrottleRule,
  SecurityStoreVerbs,
} from './types.js';
import type { LoginMarkQuery, ReservedLoginAttempt } from '../security/store.js';

type Db = Kysely<DatabaseSchema>;

interface AuditRow {
  uuid: string;
  at: number | string;
  action: string;
  outcome: string;
  tenant_uuid: string | null;
  actor_uuid: string | null;
  actor_auth_id: string | null;
  login: string | null;
  remote_addr: string | null;
  target_type: string | null;
  target_id: string | null;
  status_code: number | null;
  details: string;
}

const auditOrders: Readonly<Record<(typeof AUDIT_ORDER_COLUMNS)[number], OrderColumn>> &
  Readonly<Record<string, OrderColumn | undefined>> = {
  at: { column: 'at', text: false },
  action: { column: 'action', text: true },
  outcome: { column: 'outcome', text: true },
  login: { column: 'login', text: true },
  remote_addr: { column: 'remote_addr', text: true },
};
const auditSearchColumns = ['action', 'outcome', 'login', 'remote_addr', 'target_id', 'actor_uuid'] as const;

function auditFromRow(row: AuditRow): AuditRecord {
  let details: Record<string, unknown> = {};
  try {
    details = JSON.parse(row.details) as Record<string, unknown>;
  } catch {
    // A row written by hand: show it without details rather than fail the list.
  }
  return {
    uuid: row.uuid,
    at: Number(row.at),
    action: row.action,
    outcome: row.outcome,
    tenantUuid: row.tenant_uuid,
    actorUuid: row.actor_uuid,
    actorAuthId: row.actor_auth_id,
    login: row.login,
    remoteAddr: row.remote_addr,
    targetType: row.target_type,
    targetId: row.target_id,
    statusCode: row.status_code === null ? null : Number(row.status_code),
    details,
  };
}

function int(n: number): number {
  if (!Number.isFinite(n)) throw new RangeError('not a finite number');
  return Math.max(0, Math.trunc(n));
}

/**
 * `now + delay(failures)` as SQL, 0 below the threshold: the delay is looked
 * up in the rule's table (a CASE, portable to both engines), its last entry
 * being the cap.
 */
function nextAttemptAt(failures: RawBuilder<unknown>, now: RawBuilder<unknown>, rule: LoginThrottleRule): RawBuilder<unknown> {
  const threshold = int(rule.threshold);
  const delays = rule.delaysMs.map(int);
  const cap = delays[delays.length - 1] ?? 0;
  const steps = delays
    .slice(0, -1)
    .map((d, i) => `when ${i} then ${d}`)
    .join(' ');
  const delay =
    steps.length === 0
      ? sql.raw(String(cap))
      : sql`case (${failures}) - ${sql.raw(String(threshold))} ${sql.raw(steps)} else ${sql.raw(String(cap))} end`;
  return sql`case when ${failures} < ${sql.raw(String(threshold))} then 0 else ${now} + ${delay} end`;
}

/** Deletes the counters `keys` (not empty). */
export function clearLoginFailuresSql(keys: readonly string[]): RawBuilder<unknown> {
  return sql`delete from login_throttle where key in (${sql.join(keys)})`;
}

/** Sets (or refreshes) the dated mark `key`. */
export function touchLoginMarkSql(key: string, now: number): RawBuilder<unknown> {
  const at = sql`cast(${int(now)} as bigint)`;
  return sql`
    insert into login_throttle (key, failures, attempts, next_attempt_at, allowed, updated_at)
    values (${key}, 0, 0, 0, 1, ${at})
    on conflict (key) do update set updated_at = ${at}`;
}

export function insertAuditRecordSql(r: AuditRecord): RawBuilder<unknown> {
  return sql`
    insert into audit_records (uuid, at, action, outcome, tenant_uuid, actor_uuid, actor_auth_id, login,
      remote_addr, target_type, target_id, status_code, details)
    values (${r.uuid}, cast(${int(r.at)} as bigint), ${r.action}, ${r.outcome}, ${r.tenantUuid}, ${r.actorUuid},
      ${r.actorAuthId}, ${r.login}, ${r.remoteAddr}, ${r.targetType}, ${r.targetId}, ${r.statusCode},
      ${JSON.stringify(r.details)})`;
}

/** The verbs over `db`, each turning driver errors into typed store errors. */
export function securityVerbs(db: Db, mapError: (err: unknown) => unknown): SecurityStoreVerbs {
  return mappingErrors(rawSecurityVerbs(db), mapError);
}

function rawSecurityVerbs(db: Db): SecurityStoreVerbs {
  return {
    async reserveLoginAttempt(
      key: string,
      now: number,
      rule: LoginThrottleRule,
      mark?: LoginMarkQuery,
    ): Promise<ReservedLoginAttempt> {
      const at = sql`cast(${int(now)} as bigint)`;
      const stale = sql`cast(${int(rule.staleBefore)} as bigint)`;
      const blocked = sql`login_throttle.next_attempt_at > ${at}`;
      const failures = sql`(case when login_throttle.updated_at <= ${stale} then 1 else login_throttle.failures + 1 end)`;
      // One statement: the row lock (PostgreSQL) or the single writer
      // (SQLite) makes concurrent attempts see each other's count, so N
      // parallel attempts count N and at most `threshold` get through. The
      // trust mark asked with it is read in the same statement (another
      // row: its value as of the statement's start, as a select before it).
      const marked =
        mark === undefined
          ? sql``
          : sql`, case when exists (select 1 from login_throttle m
          where m.key = ${mark.key} and m.updated_at >= cast(${int(mark.since)} as bigint)) then 1 else 0 end as marked`;
      const result = await sql<{
        failures: number;
        attempts: number;
        next_attempt_at: number | string;
        allowed: number;
        marked?: number | boolean;
      }>`
        insert into login_throttle (key, failures, attempts, next_attempt_at, allowed, updated_at)
        values (${key}, 1, 1, ${nextAttemptAt(sql`1`, at, rule)}, 1, ${at})
        on conflict (key) do update set
          allowed = case when ${blocked} then 0 else 1 end,
          attempts = case when login_throttle.updated_at <= ${stale} and not (${blocked}) then 1 else login_throttle.attempts + 1 end,
          failures = case when ${blocked} then login_throttle.failures else ${failures} end,
          next_attempt_at = case when ${blocked} then login_throttle.next_attempt_at else ${nextAttemptAt(failures, at, rule)} end,
          updated_at = ${at}
        returning failures, attempts, next_attempt_at, allowed${marked}`.execute(db);
      const row = result.rows[0];
      return {
        allowed: Number(row.allowed) === 1,
        failures: Number(row.failures),
        attempts: Number(row.attempts),
        nextAttemptAt: Number(row.next_attempt_at),
        ...(mark === undefined ? {} : { marked: Number(row.marked) === 1 }),
      };
    },

    async releaseLoginAttempt(key: string): Promise<void> {
      await sql`update login_throttle set failures = failures - 1 where key = ${key} and failures > 0`.execute(db);
    },

    async clearLoginFailures(keys: string[]): Promise<void> {
      if (keys.length === 0) return;
      await clearLoginFailuresSql(keys).execute(db);
    },

    async getLoginAttempts(key: string): Promise<LoginAttempt | null> {
      const result = await sql<{ failures: number; attempts: number; next_attempt_at: number | string; allowed: number }>`
        select failures, attempts, next_attempt_at, allowed from login_throttle where key = ${key}`.execute(db);
      const row = result.rows[0];
      return row === undefined
        ? null
        : {
            allowed: Number(row.allowed) === 1,
            failures: Number(row.failures),
            attempts: Number(row.attempts),
            nextAttemptAt: Number(row.next_attempt_at),
          };
    },

    async touchLoginMark(key: string, now: number): Promise<void> {
      await touchLoginMarkSql(key, now).execute(db);
    },

    async hasLoginMark(key: string, since: number): Promise<boolean> {
      const result = await sql<{ one: number }>`
        select 1 as one from login_throttle where key = ${key} and updated_at >= cast(${int(since)} as bigint)`.execute(db);
      return result.rows.length > 0;
    },

    async purgeLoginThrottle(prefix: string, before: number): Promise<number> {
      const result = await sql`
        delete from login_throttle where key like ${`${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`} escape '\\'
        and updated_at < cast(${int(before)} as bigint)`.execute(db);
      return Number(result.numAffectedRows ?? 0n);
    },

    async listBlockedLogins(now: number, limit: number): Promise<BlockedLogin[]> {
      const result = await sql<{
        key: string;
        failures: number;
        attempts: number;
        next_attempt_at: number | string;
        updated_at: number | string;
      }>`
        select key, failures, attempts, next_attempt_at, updated_at from login_throttle
        where next_attempt_at > cast(${int(now)} as bigint) and (key like 'p:%' or key like 'a:%')
        order by next_attempt_at desc, key limit ${int(limit)}`.execute(db);
      return result.rows.map((row) => ({
        key: row.key,
        failures: Number(row.failures),
        attempts: Number(row.attempts),
        nextAttemptAt: Number(row.next_attempt_at),
        updatedAt: Number(row.updated_at),
      }));
    },

    async deleteLoginThrottle(key: string): Promise<boolean> {
      const result = await sql`delete from login_throttle where key = ${key}`.execute(db);
      return Number(result.numAffectedRows ?? 0n) > 0;
    },

    async insertAuditRecord(r: AuditRecord): Promise<void> {
      await insertAuditRecordSql(r).execute(db);
    },

    async listAuditRecords(f: AuditFilter, q: ListQuery): Promise<ListResult<AuditRecord>> {
      if (f.tenantUuids.length === 0 && !f.includeUntenanted) return { total: 0, filtered: 0, items: [] };
      const scopes: RawBuilder<unknown>[] = [];
      if (f.tenantUuids.length > 0) scopes.push(sql`tenant_uuid in (${sql.join(f.tenantUuids)})`);
      if (f.includeUntenanted) scopes.push(sql`tenant_uuid is null`);
      const scoped = sql`(${sql.join(scopes, sql` or `)})`;
      // Search and the time window narrow `filtered`; `total` is the whole scope.
      const narrowing: Expression<SqlBool>[] = [];
      if (q.search) narrowing.push(containsAny(auditSearchColumns, q.search));
      if (f.from !== undefined) narrowing.push(sql`at >= cast(${int(f.from)} as bigint)`);
      if (f.until !== undefined) narrowing.push(sql`at < cast(${int(f.until)} as bigint)`);
      if (f.action !== undefined) narrowing.push(sql`action = ${f.action}`);
      if (f.outcome !== undefined) narrowing.push(sql`outcome = ${f.outcome}`);
      if (f.actor !== undefined) {
        const { ids, logins } = f.actor;
        narrowing.push(
          sql`(actor_uuid in (${sql.join(ids)}) or actor_auth_id in (${sql.join(ids)}) or lower(login) in (${sql.join(logins)}))`,
        );
      }
      const matching = narrowing.length > 0 ? sql`${scoped} and ${sql.join(narrowing, sql` and `)}` : scoped;
      const count = async (where: RawBuilder<unknown>) =>
        Number(
          (
            await sql<{ n: number | string }>`
        select count(*) as n from audit_records where ${where}`.execute(db)
          ).rows[0].n,
        );
      const total = await count(scoped);
      const filtered = narrowing.length > 0 ? await count(matching) : total;
      const order = auditOrders[q.order ?? ''] ?? auditOrders.at;
      const direction = sql.raw(q.direction === 'asc' ? 'asc' : 'desc');
      const terms = orderTerms(order, 'uuid').map((t) => sql`${t} ${direction}`);
      const limit = pageLimit(q.limit, q.offset);
      const rows = await sql<AuditRow>`
        select * from audit_records where ${matching}
        order by ${sql.join(terms)}
        ${limit === undefined ? sql`` : sql`limit ${limit}`}
        ${q.offset !== undefined && q.offset > 0 ? sql`offset ${q.offset}` : sql``}`.execute(db);
      return { total, filtered, items: rows.rows.map(auditFromRow) };
    },

    async purgeAuditRecords(before: number, limit: number): Promise<number> {
      const result = await sql`
        delete from audit_records where uuid in (
          select uuid from audit_records where at < cast(${int(before)} as bigint) order by at limit ${int(limit)})`.execute(db);
      return Number(result.numAffectedRows ?? 0n);
    },

    async replacePasswordHash(userUuid: string, oldHash: string, newHash: string): Promise<boolean> {
      const result = await sql`
        update users set password_hash = ${newHash} where uuid = ${userUuid} and password_hash = ${oldHash}`.execute(db);
      return Number(result.numAffectedRows ?? 0n) > 0;
    },
  };
}
