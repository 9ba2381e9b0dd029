// Store verbs of external accounts (issue 22): tenant configurations, user
// connections and pending device authorizations. Raw SQL over Kysely, the
// same statements on both engines (the tables come from
// migrations/external-auth.ts). Spread into the store by kysely-store.ts;
// declared in ../external/types.ts. Values in `secrets` and `device_code`
// arrive sealed: nothing here sees a secret in clear.
import { sql, type Kysely } from 'kysely';
import { externalAuthEvent, type PendingEvent } from '../events/catalog.js';
import type {
  ConnectionWrite,
  ConnectionWritten,
  DeviceFlowRecord,
  DeviceFlowStatus,
  ExternalAuthConfigRecord,
  ExternalAuthStore,
  ExternalConnectionRecord,
} from '../external/types.js';
import type { DatabaseSchema } from './database-schema.js';
import { mappingErrors } from './mapped-errors.js';
import { eventsTransaction } from './verb-kit.js';
import { pageLimit } from './list-query.js';

type Db = Kysely<DatabaseSchema>;

export interface ExternalVerbsDeps {
  /** Write events with the changes (amqp.enabled). */
  recordEvents: boolean;
  /** Inserts events into the outbox, in the given transaction. */
  writeEvents(db: Db, events: PendingEvent[]): Promise<void>;
  /** After a commit that wrote events: wakes the relay. */
  committed(): void;
  mapError(err: unknown): unknown;
}

interface ConfigRow {
  tenant_uuid: string;
  auth_type: string;
  data: string;
  secrets: string | null;
  created_at: number | string;
  updated_at: number | string;
}

interface ConnectionRow {
  user_uuid: string;
  auth_type: string;
  data: string;
  secrets: string | null;
  expires_at: number | string | null;
  created_at: number | string;
  updated_at: number | string;
}

interface FlowRow {
  user_uuid: string;
  auth_type: string;
  tenant_uuid: string;
  status: string;
  error: string | null;
  device_code: string;
  scope: string;
  interval_ms: number | string;
  next_poll_at: number | string;
  expires_at: number | string;
  created_at: number | string;
}

function int(n: number): number {
  if (!Number.isFinite(n)) throw new RangeError('not a finite number');
  return Math.trunc(n);
}

/** An epoch-ms parameter, typed for PostgreSQL's comparisons with BIGINT columns. */
const ms = (n: number) => sql`cast(${int(n)} as bigint)`;

function parseObject(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function configFromRow(r: ConfigRow): ExternalAuthConfigRecord {
  return {
    tenantUuid: r.tenant_uuid,
    authType: r.auth_type,
    data: parseObject(r.data),
    secrets: r.secrets,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function connectionFromRow(r: ConnectionRow): ExternalConnectionRecord {
  return {
    userUuid: r.user_uuid,
    authType: r.auth_type,
    data: parseObject(r.data),
    secrets: r.secrets,
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function flowFromRow(r: FlowRow): DeviceFlowRecord {
  let scope: string[] = [];
  try {
    const parsed = JSON.parse(r.scope) as unknown;
    if (Array.isArray(parsed)) scope = parsed.filter((s): s is string => typeof s === 'string');
  } catch {
    // A row written by hand: no scope rather than a failed poll.
  }
  return {
    userUuid: r.user_uuid,
    authType: r.auth_type,
    tenantUuid: r.tenant_uuid,
    status: r.status as DeviceFlowStatus,
    error: r.error,
    deviceCode: r.device_code,
    scope,
    intervalMs: Number(r.interval_ms),
    nextPollAt: Number(r.next_poll_at),
    expiresAt: Number(r.expires_at),
    createdAt: Number(r.created_at),
  };
}

const affected = (result: { numAffectedRows?: bigint }) => Number(result.numAffectedRows ?? 0n);

/** The verbs over `db`, each turning driver errors into typed store errors. */
export function externalAuthVerbs(db: Db, deps: ExternalVerbsDeps): ExternalAuthStore {
  return mappingErrors(rawExternalVerbs(db, deps), deps.mapError);
}

function rawExternalVerbs(db: Db, deps: ExternalVerbsDeps): ExternalAuthStore {
  const inTransaction = eventsTransaction(db, deps);

  async function readConnection(conn: Db, userUuid: string, authType: string): Promise<ExternalConnectionRecord | null> {
    const { rows } = await sql<ConnectionRow>`
      select user_uuid, auth_type, data, secrets, expires_at, created_at, updated_at
      from user_external_auths where user_uuid = ${userUuid} and auth_type = ${authType}`.execute(conn);
    return rows[0] === undefined ? null : connectionFromRow(rows[0]);
  }

  /** Inserts or replaces; the caller's transaction. */
  async function writeConnection(trx: Db, c: ExternalConnectionRecord, mode: ConnectionWrite): Promise<ConnectionWritten> {
    const existing = await readConnection(trx, c.userUuid, c.authType);
    if (existing !== null && mode === 'create') return 'exists';
    if (existing === null && mode === 'update') return 'missing';
    const data = JSON.stringify(c.data);
    const expiresAt = c.expiresAt === null ? null : int(c.expiresAt);
    if (existing === null) {
      await sql`
        insert into user_external_auths (user_uuid, auth_type, data, secrets, expires_at, refreshing_until, created_at, updated_at)
        values (${c.userUuid}, ${c.authType}, ${data}, ${c.secrets}, ${expiresAt}, null, ${ms(c.createdAt)}, ${ms(c.updatedAt)})`.execute(
        trx,
      );
      return 'created';
    }
    await sql`
      update user_external_auths set data = ${data}, secrets = ${c.secrets}, expires_at = ${expiresAt},
        refreshing_until = null, updated_at = ${ms(c.updatedAt)}
      where user_uuid = ${c.userUuid} and auth_type = ${c.authType}`.execute(trx);
    return 'updated';
  }

  const event = (
    verb: 'created' | 'updated' | 'deleted' | 'authorized',
    c: { userUuid: string; authType: string },
    tenantUuid: string,
  ) => externalAuthEvent(verb, { userUuid: c.userUuid, authType: c.authType, tenantUuid });

  return {
    async getExternalAuthConfig(tenantUuid, authType) {
      const { rows } = await sql<ConfigRow>`
        select tenant_uuid, auth_type, data, secrets, created_at, updated_at
        from external_auth_configs where tenant_uuid = ${tenantUuid} and auth_type = ${authType}`.execute(db);
      return rows[0] === undefined ? null : configFromRow(rows[0]);
    },

    async createExternalAuthConfig(c) {
      // A duplicate is no error to map: the caller answers 409 itself.
      const result = await sql`
        insert into external_auth_configs (tenant_uuid, auth_type, data, secrets, created_at, updated_at)
        values (${c.tenantUuid}, ${c.authType}, ${JSON.stringify(c.data)}, ${c.secrets}, ${ms(c.createdAt)}, ${ms(c.updatedAt)})
        on conflict (tenant_uuid, auth_type) do nothing`.execute(db);
      return affected(result) > 0;
    },

    async replaceExternalAuthConfig(c) {
      const result = await sql`
        update external_auth_configs set data = ${JSON.stringify(c.data)}, secrets = ${c.secrets}, updated_at = ${ms(c.updatedAt)}
        where tenant_uuid = ${c.tenantUuid} and auth_type = ${c.authType}`.execute(db);
      return affected(result) > 0;
    },

    async deleteExternalAuthConfig(tenantUuid, authType) {
      const result = await sql`
        delete from external_auth_configs where tenant_uuid = ${tenantUuid} and auth_type = ${authType}`.execute(db);
      return affected(result) > 0;
    },

    getExternalConnection(userUuid, authType) {
      return readConnection(db, userUuid, authType);
    },

    async listExternalConnectionTypes(userUuid) {
      const { rows } = await sql<{ auth_type: string }>`
        select auth_type from user_external_auths where user_uuid = ${userUuid} order by auth_type`.execute(db);
      return rows.map((r) => r.auth_type);
    },

    writeExternalConnection(c, mode, tenantUuid) {
      return inTransaction(async (trx, emit) => {
        const written = await writeConnection(trx, c, mode);
        if (written === 'created' || written === 'updated') await emit([event(written, c, tenantUuid)]);
        return written;
      });
    },

    deleteExternalConnection(userUuid, authType, tenantUuid) {
      return inTransaction(async (trx, emit) => {
        const existing = await readConnection(trx, userUuid, authType);
        await sql`delete from external_auth_device_flows where user_uuid = ${userUuid} and auth_type = ${authType}`.execute(trx);
        if (existing === null) return null;
        await sql`delete from user_external_auths where user_uuid = ${userUuid} and auth_type = ${authType}`.execute(trx);
        await emit([event('deleted', existing, tenantUuid)]);
        return existing;
      });
    },

    async claimExternalRefresh(userUuid, authType, now, until) {
      const result = await sql`
        update user_external_auths set refreshing_until = ${ms(until)}
        where user_uuid = ${userUuid} and auth_type = ${authType}
          and (refreshing_until is null or refreshing_until <= ${ms(now)})`.execute(db);
      return affected(result) > 0;
    },

    async releaseExternalRefresh(userUuid, authType) {
      await sql`
        update user_external_auths set refreshing_until = null
        where user_uuid = ${userUuid} and auth_type = ${authType}`.execute(db);
    },

    async listConnectedUsers(authType, tenantUuids, now, page) {
      if (tenantUuids.length === 0) return { total: 0, items: [] };
      const where = sql`
        e.auth_type = ${authType} and u.tenant_uuid in (${sql.join(tenantUuids)})
        and exists (select 1 from tokens t where t.user_uuid = e.user_uuid and t.expires_at > ${ms(now)})`;
      const count = await sql<{ n: number | string }>`
        select count(*) as n from user_external_auths e join users u on u.uuid = e.user_uuid where ${where}`.execute(db);
      const limit = pageLimit(page.limit, page.offset);
      const offset = page.offset ?? 0;
      const { rows } = await sql<{ user_uuid: string }>`
        select e.user_uuid from user_external_auths e join users u on u.uuid = e.user_uuid where ${where}
        order by e.user_uuid
        ${limit === undefined ? sql`` : sql`limit ${int(limit)}`}
        ${offset > 0 ? sql`offset ${int(offset)}` : sql``}`.execute(db);
      return { total: Number(count.rows[0].n), items: rows.map((r) => r.user_uuid) };
    },

    async putDeviceFlow(f) {
      await sql`
        insert into external_auth_device_flows (user_uuid, auth_type, tenant_uuid, status, error, device_code, scope,
          interval_ms, next_poll_at, expires_at, created_at)
        values (${f.userUuid}, ${f.authType}, ${f.tenantUuid}, ${f.status}, ${f.error}, ${f.deviceCode}, ${JSON.stringify(f.scope)},
          ${ms(f.intervalMs)}, ${ms(f.nextPollAt)}, ${ms(f.expiresAt)}, ${ms(f.createdAt)})
        on conflict (user_uuid, auth_type) do update set
          tenant_uuid = excluded.tenant_uuid, status = excluded.status, error = excluded.error,
          device_code = excluded.device_code, scope = excluded.scope, interval_ms = excluded.interval_ms,
          next_poll_at = excluded.next_poll_at, expires_at = excluded.expires_at, created_at = excluded.created_at`.execute(db);
    },

    async getDeviceFlow(userUuid, authType) {
      const { rows } = await sql<FlowRow>`
        select * from external_auth_device_flows where user_uuid = ${userUuid} and auth_type = ${authType}`.execute(db);
      return rows[0] === undefined ? null : flowFromRow(rows[0]);
    },

    async claimDeviceFlowPoll(userUuid, authType, now) {
      // One conditional UPDATE: of concurrent callers (instances, a GET and
      // the timer), exactly one sees its row updated.
      const { rows } = await sql<FlowRow>`
        update external_auth_device_flows set next_poll_at = ${ms(now)} + interval_ms
        where user_uuid = ${userUuid} and auth_type = ${authType}
          and status = 'pending' and next_poll_at <= ${ms(now)}
        returning *`.execute(db);
      return rows[0] === undefined ? null : flowFromRow(rows[0]);
    },

    async listDueDeviceFlows(now, limit) {
      const { rows } = await sql<{ user_uuid: string; auth_type: string }>`
        select user_uuid, auth_type from external_auth_device_flows
        where status = 'pending' and next_poll_at <= ${ms(now)}
        order by next_poll_at limit ${int(limit)}`.execute(db);
      return rows.map((r) => ({ userUuid: r.user_uuid, authType: r.auth_type }));
    },

    async updateDeviceFlow(userUuid, authType, patch) {
      const sets = [];
      if (patch.status !== undefined) sets.push(sql`status = ${patch.status}`);
      if (patch.error !== undefined) sets.push(sql`error = ${patch.error}`);
      if (patch.intervalMs !== undefined) sets.push(sql`interval_ms = ${ms(patch.intervalMs)}`);
      if (patch.nextPollAt !== undefined) sets.push(sql`next_poll_at = ${ms(patch.nextPollAt)}`);
      if (sets.length === 0) return;
      await sql`
        update external_auth_device_flows set ${sql.join(sets)}
        where user_uuid = ${userUuid} and auth_type = ${authType}`.execute(db);
    },

    completeDeviceFlow(c, tenantUuid) {
      return inTransaction(async (trx, emit) => {
        // The flow is gone when the connection was deleted meanwhile (or
        // another poll completed it): nothing is written then.
        const deleted = await sql`
          delete from external_auth_device_flows where user_uuid = ${c.userUuid} and auth_type = ${c.authType}`.execute(trx);
        if (affected(deleted) === 0) return 'missing';
        const written = await writeConnection(trx, c, 'upsert');
        await emit([event(written === 'created' ? 'created' : 'updated', c, tenantUuid), event('authorized', c, tenantUuid)]);
        return written;
      });
    },
  };
}
