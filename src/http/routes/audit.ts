// /0.1/audit: the audit trail (src/security/audit.ts), newest first.
//   GET /audit   auth.audit.read   tenant-scoped (Wazo-Tenant, recurse), paginated
// Records attached to no tenant (failed logins of unknown users, throttled
// addresses, revocations of unknown tokens) are shown to the top tenant only.
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TenantTree } from '../../identity/tenant-tree.js';
import { auditRecordJson, type AuditRecorder } from '../../security/audit.js';
import { AUDIT_ORDER_COLUMNS } from '../../store/security-verbs.js';
import type { AuditRecord } from '../../store/types.js';
import { authOf, type RequireAccess } from '../auth.js';
import { listQuery } from '../list-params.js';
import { ApiError, AuthHeaders, ListParams, listOf } from '../schemas/common.js';

const Nullable = <T extends ReturnType<typeof Type.String | typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()]);

export const AuditView = Type.Object({
  uuid: Type.String(),
  timestamp: Type.String({ description: 'UTC, ISO 8601' }),
  action: Type.String({ description: 'login, token.revoke, users.create, users.password.change, ...' }),
  outcome: Type.String({ description: 'success, failure, denied, throttled or error' }),
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
  requireAccess: RequireAccess;
}

export async function auditRoutes(app: FastifyInstance, deps: AuditRouteDeps): Promise<void> {
  app.get('/audit', {
    schema: {
      summary: 'Audit records of the tenant (and its sub-tenants with recurse), newest first',
      tags: ['audit'],
      headers: AuthHeaders,
      querystring: ListParams,
      response: { 200: listOf(AuditView), 400: ApiError, 401: ApiError, 503: ApiError },
    },
    preHandler: deps.requireAccess('auth.audit.read'),
  }, async function listAudit(request) {
    const q = listQuery(request.query as Static<typeof ListParams>, AUDIT_ORDER_COLUMNS);
    const scope = authOf(request).tenantUuid;
    const tenantUuids = q.recurse ? await deps.tenants.subtree(scope) : [scope];
    const includeUntenanted = scope === await deps.topTenantUuid();
    const result = await deps.audit.list({ tenantUuids, includeUntenanted }, {
      order: q.order, direction: q.direction ?? 'desc', limit: q.limit, offset: q.offset, search: q.search,
    });
    return { ...result, items: result.items.map(auditView) };
  });
}
