// /0.1/audit: the audit trail (src/security/audit.ts), newest first.
//   GET /audit   auth.audit.read   tenant-scoped (Wazo-Tenant, recurse), paginated, from/until (a time window),
//                                  action, outcome, actor
// Records attached to no tenant (failed logins of unknown users, throttled
// addresses, revocations of unknown tokens) are shown to the top tenant only.
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { TenantTree } from '../../identity/tenant-tree.js';
import { auditRecordJson, type AuditRecorder } from '../../security/audit.js';
import { AUDIT_ORDER_COLUMNS, type AuditRecord } from '../../security/types.js';
import { InvalidListParamError } from '../../errors.js';
import { authOf, type RequireAccess } from '../auth.js';
import { listQuery } from '../list-params.js';
import { ApiError, AuthHeaders, ListParams, listOf } from '../schemas/common.js';

const Nullable = <T extends ReturnType<typeof Type.String | typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()]);

// ISO 8601 with a time zone (Z or ±hh:mm), so that an instant never depends on
// the server's zone; the handler also rejects impossible dates (month 13).
const INSTANT = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2})$';
const AuditListParams = Type.Object({
  ...ListParams.properties,
  from: Type.Optional(
    Type.String({
      maxLength: 40,
      pattern: INSTANT,
      description:
        'Only records at or after this instant (ISO 8601 with a zone, e.g. 2026-12-07T09:00:00Z); narrows `filtered`, never `total`',
    }),
  ),
  until: Type.Optional(
    Type.String({
      maxLength: 40,
      pattern: INSTANT,
      description: 'Only records before this instant (exclusive; ISO 8601 with a zone); must not be before `from`',
    }),
  ),
  action: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'Only this action (exact: login, token.revoke, users.create, ...)',
    }),
  ),
  outcome: Type.Optional(
    Type.String({
      pattern: '^[a-z_]{1,32}$',
      description: 'Only this outcome (success, failure, denied, throttled, error, mfa_required, ...)',
    }),
  ),
  actor: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 256,
      description:
        "Only records of this actor: a user uuid, an auth id (a service account's name) or the login given (case-insensitive). " +
        "A user of the caller's subtree named by its uuid or a login also matches its records under its other logins and its uuid",
    }),
  ),
});

/** The time window of a query, in ms since the epoch (400 for an impossible date or an inverted window). */
function timeWindow(q: Static<typeof AuditListParams>): { from?: number; until?: number } {
  const instant = (name: 'from' | 'until'): number | undefined => {
    const text = q[name];
    if (text === undefined) return undefined;
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) {
      throw new InvalidListParamError(`Invalid ${name}`, {
        [name]: { constraint_id: 'date_time', message: 'not a valid date and time' },
      });
    }
    return ms;
  };
  const from = instant('from');
  const until = instant('until');
  if (from !== undefined && until !== undefined && until < from) {
    throw new InvalidListParamError('Invalid time window', {
      until: { constraint_id: 'range', message: 'must not be before from' },
    });
  }
  return { from, until };
}

/** The records an actor filter keeps: as given, and those of the user it names. */
function actorFilter(actor: string, user: { uuid: string; logins: string[] } | null): { ids: string[]; logins: string[] } {
  const ids = new Set([actor]);
  const logins = new Set([actor.toLowerCase()]);
  if (user !== null) {
    ids.add(user.uuid);
    for (const l of user.logins) logins.add(l);
  }
  return { ids: [...ids], logins: [...logins] };
}

export const AuditView = Type.Object({
  uuid: Type.String(),
  timestamp: Type.String({ description: 'UTC, ISO 8601' }),
  action: Type.String({ description: 'login, token.revoke, users.create, users.password.change, ...' }),
  outcome: Type.String({ description: 'success, failure, denied, throttled, error, mfa_required, ...' }),
  tenant_uuid: Nullable(Type.String()),
  user_uuid: Nullable(Type.String({ description: 'Who: the acting (or logging-in) user' })),
  auth_id: Nullable(Type.String()),
  login: Nullable(Type.String({ description: 'Login name given, for login attempts' })),
  remote_addr: Nullable(Type.String()),
  target_type: Nullable(Type.String()),
  target_id: Nullable(Type.String()),
  status_code: Nullable(Type.Integer()),
  details: Type.Object({}, { additionalProperties: true }),
});

function auditView(r: AuditRecord): Static<typeof AuditView> {
  return auditRecordJson(r);
}

export interface AuditRouteDeps {
  audit: AuditRecorder;
  tenants: TenantTree;
  /** The top tenant's uuid (sees the records attached to no tenant). */
  topTenantUuid: () => Promise<string | null>;
  /** The user an `actor` filter names, in the caller's subtree (UserService.auditActor). */
  auditActor: (actor: string, scopeRoot: string) => Promise<{ uuid: string; logins: string[] } | null>;
  requireAccess: RequireAccess;
}

export async function auditRoutes(instance: FastifyInstance, deps: AuditRouteDeps): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/audit',
    {
      schema: {
        summary: 'Audit records of the tenant (and its sub-tenants with recurse), newest first',
        description:
          'search, from, until, action, outcome and actor narrow `filtered` (and the items); `total` counts every record of the scope.',
        tags: ['audit'],
        headers: AuthHeaders,
        querystring: AuditListParams,
        response: { 200: listOf(AuditView), 400: ApiError, 401: ApiError, 503: ApiError },
      },
      preHandler: deps.requireAccess('auth.audit.read'),
    },
    async function listAudit(request) {
      const query = request.query;
      const window = timeWindow(query);
      const q = listQuery(query, AUDIT_ORDER_COLUMNS);
      const scope = authOf(request).tenantUuid;
      const tenantUuids = q.recurse ? await deps.tenants.subtree(scope) : [scope];
      const includeUntenanted = scope === (await deps.topTenantUuid());
      const actor = query.actor === undefined ? undefined : actorFilter(query.actor, await deps.auditActor(query.actor, scope));
      const result = await deps.audit.list(
        { tenantUuids, includeUntenanted, ...window, action: query.action, outcome: query.outcome, actor },
        {
          order: q.order,
          direction: q.direction ?? 'desc',
          limit: q.limit,
          offset: q.offset,
          search: q.search,
        },
      );
      return { ...result, items: result.items.map(auditView) };
    },
  );
}
