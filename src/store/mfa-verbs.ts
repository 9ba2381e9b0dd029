// Store verbs of multi-factor authentication (issue 24): factors, recovery
// codes and login challenges. Raw SQL over Kysely, the same statements on
// both engines (the tables come from migrations/mfa.ts). Spread into the
// store by kysely-store.ts; declared in ../mfa/types.ts. A TOTP secret
// arrives sealed, codes and challenges as their hashes: nothing here sees a
// secret in clear.
import { sql, type Kysely } from 'kysely';
import { mfaFactorEvent, mfaTenantPolicyUpdated, type PendingEvent } from '../events/catalog.js';
import type { MfaFactorRecord, MfaFactorType, MfaStore, MfaTenantPolicy } from '../mfa/types.js';
import type { DatabaseSchema } from './database-schema.js';
import { mappingErrors } from './mapped-errors.js';
import { eventsTransaction } from './verb-kit.js';

type Db = Kysely<DatabaseSchema>;

export interface MfaVerbsDeps {
  recordEvents: boolean;
  writeEvents(db: Db, events: PendingEvent[]): Promise<void>;
  committed(): void;
  mapError(err: unknown): unknown;
}

interface FactorRow {
  uuid: string;
  user_uuid: string;
  tenant_uuid: string;
  type: string;
  name: string | null;
  secret: string | null;
  confirmed: number | string | boolean;
  last_step: number | string | null;
  created_at: number | string;
  confirmed_at: number | string | null;
}

function int(n: number): number {
  if (!Number.isFinite(n)) throw new RangeError('not a finite number');
  return Math.trunc(n);
}

/** An epoch-ms (or step) parameter, typed for PostgreSQL's comparisons with BIGINT columns. */
const big = (n: number) => sql`cast(${int(n)} as bigint)`;

function factorFromRow(r: FactorRow): MfaFactorRecord {
  return {
    uuid: r.uuid,
    userUuid: r.user_uuid,
    tenantUuid: r.tenant_uuid,
    type: r.type as MfaFactorType,
    name: r.name,
    secret: r.secret,
    confirmed: Number(r.confirmed) === 1 || r.confirmed === true,
    lastStep: r.last_step === null ? null : Number(r.last_step),
    createdAt: Number(r.created_at),
    confirmedAt: r.confirmed_at === null ? null : Number(r.confirmed_at),
  };
}

interface TenantPolicyRow {
  tenant_uuid: string;
  acl: string;
  purposes: string;
  updated_at: number | string;
}

function stringsOf(json: string): string[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function tenantPolicyFromRow(r: TenantPolicyRow): MfaTenantPolicy {
  return { tenantUuid: r.tenant_uuid, acl: stringsOf(r.acl), purposes: stringsOf(r.purposes), updatedAt: Number(r.updated_at) };
}

/** Deeper than any tenant tree (src/identity/tenant-tree.ts walks at most 64 levels). */
const MAX_TENANT_DEPTH = 64;

type LoginStateRow = FactorRow & {
  kind: 'f' | 'p';
  remaining: number | string | null;
  acl: string | null;
  purposes: string | null;
  updated_at: number | string | null;
};

const FACTOR_COLUMNS = sql`uuid, user_uuid, tenant_uuid, type, name, secret, confirmed, last_step, created_at, confirmed_at`;

/** The verbs over `db`, each turning driver errors into typed store errors. */
export function mfaVerbs(db: Db, deps: MfaVerbsDeps): MfaStore {
  return mappingErrors(rawMfaVerbs(db, deps), deps.mapError);
}

function rawMfaVerbs(db: Db, deps: MfaVerbsDeps): MfaStore {
  const inTransaction = eventsTransaction(db, deps);

  async function readFactor(conn: Db, uuid: string): Promise<MfaFactorRecord | null> {
    const { rows } = await sql<FactorRow>`select ${FACTOR_COLUMNS} from mfa_factors where uuid = ${uuid}`.execute(conn);
    return rows[0] === undefined ? null : factorFromRow(rows[0]);
  }

  async function insertFactor(conn: Db, f: MfaFactorRecord): Promise<void> {
    await sql`
      insert into mfa_factors (uuid, user_uuid, tenant_uuid, type, name, secret, confirmed, last_step, created_at, confirmed_at)
      values (${f.uuid}, ${f.userUuid}, ${f.tenantUuid}, ${f.type}, ${f.name}, ${f.secret}, ${f.confirmed ? 1 : 0},
        ${f.lastStep === null ? null : big(f.lastStep)}, ${big(f.createdAt)}, ${f.confirmedAt === null ? null : big(f.confirmedAt)})`.execute(
      conn,
    );
  }

  return {
    async listMfaFactors(userUuid) {
      const { rows } = await sql<FactorRow & { remaining: number | string | null }>`
        select ${FACTOR_COLUMNS},
          (select count(*) from mfa_recovery_codes c where c.factor_uuid = f.uuid and c.used_at is null) as remaining
        from mfa_factors f where user_uuid = ${userUuid} order by created_at, uuid`.execute(db);
      return rows.map((r) => ({ ...factorFromRow(r), remaining: r.type === 'recovery_code' ? Number(r.remaining ?? 0) : null }));
    },

    async getMfaFactor(uuid) {
      return readFactor(db, uuid);
    },

    async insertMfaFactor(f) {
      await insertFactor(db, f);
    },

    async confirmMfaFactor(uuid, at, step) {
      return inTransaction(async (trx, emit) => {
        const { rows } = await sql<FactorRow>`
          update mfa_factors set confirmed = 1, confirmed_at = ${big(at)}, last_step = ${step === null ? null : big(step)}
          where uuid = ${uuid} and confirmed = 0
          returning ${FACTOR_COLUMNS}`.execute(trx);
        if (rows[0] === undefined) return false;
        await emit([mfaFactorEvent('added', factorFromRow(rows[0]))]);
        return true;
      });
    },

    async replaceRecoveryCodes(f, codeHashes) {
      await inTransaction(async (trx, emit) => {
        // The previous set goes, and says so: consumers tracking factors by uuid drop it.
        const { rows } = await sql<FactorRow>`
          delete from mfa_factors where user_uuid = ${f.userUuid} and type = 'recovery_code'
          returning ${FACTOR_COLUMNS}`.execute(trx);
        await insertFactor(trx, f);
        for (const hash of codeHashes) {
          await sql`insert into mfa_recovery_codes (factor_uuid, code_hash, used_at) values (${f.uuid}, ${hash}, null)`.execute(
            trx,
          );
        }
        await emit([...rows.map((r) => mfaFactorEvent('deleted', factorFromRow(r))), mfaFactorEvent('added', f)]);
      });
    },

    async deleteMfaFactor(uuid) {
      return inTransaction(async (trx, emit) => {
        const { rows } = await sql<FactorRow>`delete from mfa_factors where uuid = ${uuid} returning ${FACTOR_COLUMNS}`.execute(
          trx,
        );
        if (rows[0] === undefined) return null;
        const factor = factorFromRow(rows[0]);
        if (factor.confirmed) await emit([mfaFactorEvent('deleted', factor)]);
        return factor;
      });
    },

    async acceptTotpStep(uuid, step) {
      // One statement: of two logins presenting the same code, one wins.
      const { rows } = await sql<{ uuid: string }>`
        update mfa_factors set last_step = ${big(step)}
        where uuid = ${uuid} and confirmed = 1 and (last_step is null or last_step < ${big(step)})
        returning uuid`.execute(db);
      return rows.length === 1;
    },

    async useRecoveryCode(userUuid, codeHash, at) {
      const { rows } = await sql<{ factor_uuid: string }>`
        update mfa_recovery_codes set used_at = ${big(at)}
        where code_hash = ${codeHash} and used_at is null
          and factor_uuid in (select uuid from mfa_factors where user_uuid = ${userUuid} and type = 'recovery_code')
        returning factor_uuid`.execute(db);
      return rows.length > 0;
    },

    async updateMfaFactorSecret(uuid, secret) {
      await sql`update mfa_factors set secret = ${secret} where uuid = ${uuid}`.execute(db);
    },

    async peekMfaChallenge(hash, now) {
      const { rows } = await sql<{ user_uuid: string; binding: string; sso: string | null }>`
        select user_uuid, binding, sso from mfa_challenges
        where hash = ${hash} and used_at is null and expires_at > ${big(now)}`.execute(db);
      return rows[0] === undefined ? null : { userUuid: rows[0].user_uuid, binding: rows[0].binding, sso: rows[0].sso };
    },

    async insertMfaChallenge(hash, userUuid, binding, expiresAt, sso = null) {
      await sql`
        insert into mfa_challenges (hash, user_uuid, binding, expires_at, used_at, sso)
        values (${hash}, ${userUuid}, ${binding}, ${big(expiresAt)}, null, ${sso})`.execute(db);
    },

    async useMfaChallenge(hash, now) {
      // Expired ones go on the way (few rows: a login's lifetime each).
      await sql`delete from mfa_challenges where expires_at <= ${big(now)}`.execute(db);
      const { rows } = await sql<{ user_uuid: string; binding: string; sso: string | null }>`
        update mfa_challenges set used_at = ${big(now)}
        where hash = ${hash} and used_at is null and expires_at > ${big(now)}
        returning user_uuid, binding, sso`.execute(db);
      return rows[0] === undefined ? null : { userUuid: rows[0].user_uuid, binding: rows[0].binding, sso: rows[0].sso };
    },

    async listMfaTenantPolicies(tenantUuid) {
      // The tenant and its ancestors, up the parent links; UNION (not ALL)
      // and the depth bound stop at the top tenant, which may be its own parent.
      const { rows } = await sql<TenantPolicyRow>`
        with recursive lineage (uuid, depth) as (
          select uuid, 0 from tenants where uuid = ${tenantUuid}
          union
          select t.parent_uuid, l.depth + 1 from tenants t join lineage l on t.uuid = l.uuid
          where t.parent_uuid is not null and l.depth < ${MAX_TENANT_DEPTH}
        )
        select p.tenant_uuid, p.acl, p.purposes, p.updated_at from mfa_tenant_policies p
        where p.tenant_uuid in (select uuid from lineage)`.execute(db);
      return rows.map(tenantPolicyFromRow);
    },

    async loginMfaState(userUuid, tenantUuid) {
      // One statement, two kinds of rows ('f': a factor, as listMfaFactors;
      // 'p': a tenant policy, as listMfaTenantPolicies), typed alike for the UNION.
      const factors = sql`
        select 'f' as kind, f.uuid, f.user_uuid, f.tenant_uuid, f.type, f.name, f.secret, f.confirmed, f.last_step,
          f.created_at, f.confirmed_at,
          (select count(*) from mfa_recovery_codes c where c.factor_uuid = f.uuid and c.used_at is null) as remaining,
          cast(null as text) as acl, cast(null as text) as purposes, cast(null as bigint) as updated_at
        from mfa_factors f where f.user_uuid = ${userUuid}`;
      const query =
        tenantUuid === null
          ? sql<LoginStateRow>`${factors} order by created_at, uuid`
          : sql<LoginStateRow>`
          with recursive lineage (uuid, depth) as (
            select uuid, 0 from tenants where uuid = ${tenantUuid}
            union
            select t.parent_uuid, l.depth + 1 from tenants t join lineage l on t.uuid = l.uuid
            where t.parent_uuid is not null and l.depth < ${MAX_TENANT_DEPTH}
          )
          ${factors}
          union all
          select 'p', cast(null as text), cast(null as text), p.tenant_uuid, cast(null as text), cast(null as text),
            cast(null as text), cast(null as integer), cast(null as bigint), cast(null as bigint), cast(null as bigint),
            cast(null as bigint), p.acl, p.purposes, p.updated_at
          from mfa_tenant_policies p where p.tenant_uuid in (select uuid from lineage)
          order by kind, created_at, uuid`;
      const { rows } = await query.execute(db);
      return {
        factors: rows
          .filter((r) => r.kind === 'f')
          .map((r) => ({ ...factorFromRow(r), remaining: r.type === 'recovery_code' ? Number(r.remaining ?? 0) : null })),
        tenantPolicies: rows
          .filter((r) => r.kind === 'p')
          .map((r) =>
            tenantPolicyFromRow({
              tenant_uuid: r.tenant_uuid,
              acl: r.acl ?? '[]',
              purposes: r.purposes ?? '[]',
              updated_at: r.updated_at ?? 0,
            }),
          ),
      };
    },

    async getMfaTenantPolicy(tenantUuid) {
      const { rows } = await sql<TenantPolicyRow>`
        select tenant_uuid, acl, purposes, updated_at from mfa_tenant_policies where tenant_uuid = ${tenantUuid}`.execute(db);
      return rows[0] === undefined ? null : tenantPolicyFromRow(rows[0]);
    },

    async putMfaTenantPolicy(p) {
      await inTransaction(async (trx, emit) => {
        await sql`
          insert into mfa_tenant_policies (tenant_uuid, acl, purposes, updated_at)
          values (${p.tenantUuid}, ${JSON.stringify(p.acl)}, ${JSON.stringify(p.purposes)}, ${big(p.updatedAt)})
          on conflict (tenant_uuid) do update
            set acl = excluded.acl, purposes = excluded.purposes, updated_at = excluded.updated_at`.execute(trx);
        await emit([mfaTenantPolicyUpdated(p)]);
      });
    },
  };
}
