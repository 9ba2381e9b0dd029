// Protected endpoints: X-Auth-Token must grant the route's required access,
// and Wazo-Tenant must name the caller's tenant or one of its descendants.
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { DomainError, NoSuchTokenError, UnauthorizedError, UnauthorizedTenantError } from '../errors.js';
import type { TenantTree } from '../identity/tenant-tree.js';
import type { TokenRecord } from '../tokens/types.js';
import type { TokenService } from '../login/token-service.js';

export interface AuthContext {
  token: TokenRecord;
  /** The tenant the request acts on (Wazo-Tenant, or the caller's own). */
  tenantUuid: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

/** `auth.users.{user_uuid}.read` → the access for this request (dots in values become `_`). */
export function requiredAccessFor(template: string, params: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? '').replace(/\./g, '_'));
}

/**
 * `requireAccess('auth.users.{user_uuid}.password.update')`: the access is
 * matched by @xivo-auth/acl, where an ACL segment `edit` also matches
 * `update` (wazo-auth's alias for the deprecated suffix): a token granting
 * `...password.edit` passes, and a negative `!...edit` denies `...update`
 * too. Routes name the current `update` form, as wazo-auth does.
 */
export function createAuthGuard(tokens: TokenService, tenants: TenantTree) {
  return function requireAccess(template: string): preHandlerAsyncHookHandler {
    return async function checkAccess(request: FastifyRequest, _reply: FastifyReply) {
      const access = requiredAccessFor(template, (request.params ?? {}) as Record<string, string>);
      const header = request.headers['x-auth-token'];
      const token = typeof header === 'string' && header.length > 0 ? header : null;
      if (token === null) throw new UnauthorizedError(null, 'not_found_or_expired', access);
      let record: TokenRecord;
      try {
        const entry = await tokens.lookup(token);
        if (!entry.acl.matches(access, entry.record)) {
          throw new UnauthorizedError(token, 'missing_permission_or_invalid_tenant', access);
        }
        record = entry.record;
      } catch (err) {
        if (err instanceof NoSuchTokenError) throw new UnauthorizedError(token, 'not_found_or_expired', access);
        throw err;
      }
      const own = record.tenantUuid;
      const wanted = request.headers['wazo-tenant'];
      let tenantUuid = own ?? '';
      if (typeof wanted === 'string' && wanted.length > 0 && wanted !== own) {
        if (own === null || wanted.length > 256 || !(await tenants.isSameOrDescendant(own, wanted))) {
          throw new UnauthorizedTenantError(wanted.slice(0, 256));
        }
        tenantUuid = wanted;
      }
      request.auth = { token: record, tenantUuid };
    };
  };
}

export type RequireAccess = ReturnType<typeof createAuthGuard>;

export function authOf(request: FastifyRequest): AuthContext {
  if (request.auth === null) throw new DomainError(500, 'internal-error', 'route has no access guard');
  return request.auth;
}
