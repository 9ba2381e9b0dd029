// Store verbs of single sign-on (issue 23): tenant IdP configurations, SSO
// sessions and seen assertions. Raw SQL over Kysely, the same statements on
// both engines (tables: migrations/sso.ts). Spread into the store by
// kysely-store.ts; declared in ../sso/types.ts.
import { sql, type Kysely } from 'kysely';
import type { SsoCompletion, SsoConfigRecord, SsoKind, SsoLoginRecord, SsoSessionRecord, SsoStore } from '../sso/types.js';
import type { DatabaseSchema } from './database-schema.js';
import { mappingErrors } from './mapped-errors.js';

type Db = Kysely<DatabaseSchema>;

interface ConfigRow {
  tenant_uuid: string;
  kind: string;
  data: string;
  secrets: string | null;
  created_at: number | string;
  updated_at: number | string;
}
interface SessionRow {
  id_hash: string;
  request_key_hash: string;
  kind: string;
  tenant_uuid: string;
  redirect_url: string;
  data: string;
  user_uuid: string | null;
  login: string | null;
  token_session_uuid: string | null;
  created_at: number | string;
  expires_at: number | string;
  completed_at: number | string | null;
  consumed_at: number | string | null;
}

/** `text` inside a LIKE pattern, with `!` as the escape character. */
const likeLiteral = (text: string): string => text.replace(/[!%_]/g, '!$&');

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function configOf(r: ConfigRow): SsoConfigRecord {
  return {
    tenantUuid: r.tenant_uuid,
    kind: r.kind as SsoKind,
    data: JSON.parse(r.data) as Record<string, unknown>,
    secrets: r.secrets,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function sessionOf(r: SessionRow): SsoSessionRecord {
  return {
    idHash: r.id_hash,
    requestKeyHash: r.request_key_hash,
    kind: r.kind as SsoKind,
    tenantUuid: r.tenant_uuid,
    redirectUrl: r.redirect_url,
    data: JSON.parse(r.data) as Record<string, unknown>,
    userUuid: r.user_uuid,
    login: r.login,
    tokenSessionUuid: r.token_session_uuid,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    completedAt: num(r.completed_at),
    consumedAt: num(r.consumed_at),
  };
}

/** The verbs over `db`, each turning driver errors into typed store errors. */
export function ssoVerbs(db: Db, mapError: (err: unknown) => unknown): SsoStore {
  return mappingErrors(rawSsoVerbs(db), mapError);
}

function rawSsoVerbs(db: Db): SsoStore {
  return {
    async getSsoConfig(tenantUuid, kind) {
      const r = await sql<ConfigRow>`select * from sso_configs where tenant_uuid = ${tenantUuid} and kind = ${kind}`.execute(db);
      return r.rows[0] ? configOf(r.rows[0]) : null;
    },
    async putSsoConfig(c) {
      await sql`insert into sso_configs (tenant_uuid, kind, data, secrets, created_at, updated_at)
        values (${c.tenantUuid}, ${c.kind}, ${JSON.stringify(c.data)}, ${c.secrets}, ${c.createdAt}, ${c.updatedAt})
        on conflict (tenant_uuid, kind) do update set data = excluded.data, secrets = excluded.secrets, updated_at = excluded.updated_at`.execute(
        db,
      );
    },
    async deleteSsoConfig(tenantUuid, kind) {
      const r = await sql`delete from sso_configs where tenant_uuid = ${tenantUuid} and kind = ${kind}`.execute(db);
      return Number(r.numAffectedRows ?? 0) > 0;
    },
    async createSsoSession(s) {
      await sql`insert into sso_sessions (id_hash, request_key_hash, kind, tenant_uuid, redirect_url, data, user_uuid, login,
          token_session_uuid, created_at, expires_at, completed_at, consumed_at)
        values (${s.idHash}, ${s.requestKeyHash}, ${s.kind}, ${s.tenantUuid}, ${s.redirectUrl}, ${JSON.stringify(s.data)}, ${s.userUuid},
          ${s.login}, ${s.tokenSessionUuid}, ${s.createdAt}, ${s.expiresAt}, ${s.completedAt}, ${s.consumedAt})`.execute(db);
    },
    async findPendingSsoSession(kind, requestKeyHash, now) {
      const r = await sql<SessionRow>`select * from sso_sessions where request_key_hash = ${requestKeyHash} and kind = ${kind}
        and completed_at is null and expires_at > ${now}`.execute(db);
      return r.rows[0] ? sessionOf(r.rows[0]) : null;
    },
    async completeSsoSession(idHash: string, c: SsoCompletion) {
      const r = await sql`update sso_sessions set user_uuid = ${c.userUuid}, login = ${c.login}, completed_at = ${c.at},
          expires_at = ${c.expiresAt}, data = ${JSON.stringify(c.data)}
        where id_hash = ${idHash} and completed_at is null and expires_at > ${c.at}`.execute(db);
      return Number(r.numAffectedRows ?? 0) > 0;
    },
    async consumeSsoSession(kind, idHash, now) {
      const r = await sql<SessionRow>`update sso_sessions set consumed_at = ${now}
        where id_hash = ${idHash} and kind = ${kind} and completed_at is not null and consumed_at is null and expires_at > ${now}
        returning *`.execute(db);
      return r.rows[0] ? sessionOf(r.rows[0]) : null;
    },
    async attachSsoTokenSession(idHash, tokenSessionUuid) {
      // The token was just stored: its refresh token is named now, while the
      // access tokens that name it may be reaped long before the SSO session ends.
      const refresh = await sql<{ refresh_token_uuid: string }>`select distinct refresh_token_uuid from tokens
        where session_uuid = ${tokenSessionUuid} and refresh_token_uuid is not null`.execute(db);
      if (refresh.rows.length === 0) {
        await sql`update sso_sessions set token_session_uuid = ${tokenSessionUuid} where id_hash = ${idHash}`.execute(db);
        return;
      }
      const row = await sql<{ data: string }>`select data from sso_sessions where id_hash = ${idHash}`.execute(db);
      if (!row.rows[0]) return;
      const data = {
        ...(JSON.parse(row.rows[0].data) as Record<string, unknown>),
        refreshTokenUuids: refresh.rows.map((r) => r.refresh_token_uuid),
      };
      await sql`update sso_sessions set token_session_uuid = ${tokenSessionUuid}, data = ${JSON.stringify(data)}
        where id_hash = ${idHash}`.execute(db);
    },
    async findSsoSessionByTokenSession(tokenSessionUuid, now) {
      const r =
        await sql<SessionRow>`select * from sso_sessions where token_session_uuid = ${tokenSessionUuid} and expires_at > ${now}`.execute(
          db,
        );
      return r.rows[0] ? sessionOf(r.rows[0]) : null;
    },
    async findCompletedSsoLogins(kind, tenantUuid, login, now) {
      const r = await sql<SessionRow>`select * from sso_sessions where kind = ${kind} and tenant_uuid = ${tenantUuid}
        and login = ${login} and completed_at is not null and expires_at > ${now} order by created_at`.execute(db);
      const logins: SsoLoginRecord[] = r.rows.map((row) => {
        const s = sessionOf(row);
        const recorded = Array.isArray(s.data.refreshTokenUuids)
          ? s.data.refreshTokenUuids.filter((u): u is string => typeof u === 'string')
          : [];
        return { ...s, refreshTokenUuids: recorded };
      });
      const sessions = logins.map((l) => l.tokenSessionUuid).filter((u): u is string => u !== null);
      if (sessions.length === 0) return logins;
      const live = await sql<{
        session_uuid: string;
        refresh_token_uuid: string;
      }>`select distinct session_uuid, refresh_token_uuid
        from tokens where session_uuid in (${sql.join(sessions)}) and refresh_token_uuid is not null`.execute(db);
      for (const t of live.rows) {
        for (const l of logins) {
          if (l.tokenSessionUuid === t.session_uuid && !l.refreshTokenUuids.includes(t.refresh_token_uuid))
            l.refreshTokenUuids.push(t.refresh_token_uuid);
        }
      }
      return logins;
    },
    async findSamlConfigsByIdp(idpEntityId) {
      // data is JSON text on both engines: LIKE narrows the rows (one per
      // tenant with SAML), the parsed record decides.
      const pattern = `%"entity_id":${likeLiteral(JSON.stringify(idpEntityId))}%`;
      const r = await sql<ConfigRow>`select * from sso_configs where kind = 'saml' and data like ${pattern} escape '!'
        order by tenant_uuid`.execute(db);
      return r.rows.map(configOf).filter((c) => {
        const idp = c.data.idp as { entity_id?: unknown } | undefined;
        return idp?.entity_id === idpEntityId;
      });
    },
    async deleteSsoSession(idHash) {
      await sql`delete from sso_sessions where id_hash = ${idHash}`.execute(db);
    },
    async rememberSsoAssertion(keyHash, expiresAt, now) {
      await sql`delete from sso_replays where key_hash = ${keyHash} and expires_at <= ${now}`.execute(db);
      const r = await sql`insert into sso_replays (key_hash, expires_at) values (${keyHash}, ${expiresAt})
        on conflict (key_hash) do nothing`.execute(db);
      return Number(r.numAffectedRows ?? 0) > 0;
    },
    async deleteExpiredSso(now) {
      const a = await sql`delete from sso_sessions where expires_at <= ${now}`.execute(db);
      const b = await sql`delete from sso_replays where expires_at <= ${now}`.execute(db);
      return Number(a.numAffectedRows ?? 0) + Number(b.numAffectedRows ?? 0);
    },
  };
}
