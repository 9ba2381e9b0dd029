// /0.1/security/throttles: the login counters that are backing off, and an
// unlock for administrators (issue 25; src/security/throttle-admin.ts).
//   GET    /security/throttles       auth.security.throttles.read        tenant-scoped (Wazo-Tenant, recurse)
//   DELETE /security/throttles/:id   auth.security.throttles.delete  the acting tenant's subtree; audited (security.throttles.delete)
// The top tenant also sees the counters no audited login of a tenant explains.
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { TenantTree } from '../../identity/tenant-tree.js';
import type { ThrottleAdmin, ThrottleScope } from '../../security/throttle-admin.js';
import { authOf, type RequireAccess } from '../auth.js';
import { ApiError, AuthHeaders, NoContent, SafeString } from '../schemas/common.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const ThrottleView = Type.Object({
  id: Type.String({ description: 'The counter (a hash: names neither login nor address)' }),
  kind: Type.Union([Type.Literal('address'), Type.Literal('account')], {
    description: 'address: one login from one client address; account: one login from everywhere',
  }),
  login: Nullable(Type.String({ description: 'From the audit trail; null when no audited attempt of the tenant explains it' })),
  remote_addr: Nullable(Type.String()),
  tenant_uuid: Nullable(Type.String()),
  failures: Type.Integer(),
  attempts: Type.Integer(),
  blocked_until: Type.String({ description: 'UTC, ISO 8601: no attempt is let through before' }),
  last_attempt_at: Type.String({ description: 'UTC, ISO 8601' }),
});

const ThrottleQuery = Type.Object({
  recurse: Type.Optional(Type.Boolean({ default: false })),
});
const ThrottleParams = Type.Object({ id: SafeString({ maxLength: 80 }) });
const errors = { 400: ApiError, 401: ApiError, 404: ApiError, 503: ApiError };

export interface SecurityThrottleRouteDeps {
  throttles: ThrottleAdmin;
  tenants: TenantTree;
  topTenantUuid: () => Promise<string | null>;
  requireAccess: RequireAccess;
}

export async function securityThrottleRoutes(instance: FastifyInstance, deps: SecurityThrottleRouteDeps): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['security'];
  async function scopeOf(tenantUuid: string, recurse: boolean): Promise<ThrottleScope> {
    const subtree = await deps.tenants.subtree(tenantUuid);
    return { tenantUuids: recurse ? subtree : [tenantUuid], subtree, top: tenantUuid === (await deps.topTenantUuid()) };
  }

  app.get(
    '/security/throttles',
    {
      schema: {
        summary: 'Login counters backing off (brute-force protection), latest unblock first',
        tags,
        headers: AuthHeaders,
        querystring: ThrottleQuery,
        response: { 200: Type.Object({ total: Type.Integer(), items: Type.Array(ThrottleView) }), ...errors },
      },
      preHandler: deps.requireAccess('auth.security.throttles.read'),
    },
    async function listThrottles(request) {
      const { recurse } = request.query;
      const items = await deps.throttles.list(await scopeOf(authOf(request).tenantUuid, recurse === true));
      return { total: items.length, items };
    },
  );

  app.delete(
    '/security/throttles/:id',
    {
      schema: {
        summary: 'Unlock: clear one login counter (the next attempt is let through)',
        tags,
        headers: AuthHeaders,
        params: ThrottleParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: deps.requireAccess('auth.security.throttles.delete'),
    },
    async function unlockThrottle(request, reply) {
      const { id } = request.params;
      await deps.throttles.unlock(await scopeOf(authOf(request).tenantUuid, true), id);
      return reply.code(204).send();
    },
  );
}
