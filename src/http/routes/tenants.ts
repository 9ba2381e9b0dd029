// /0.1/tenants: the tenant tree under the top tenant.
//   GET    /tenants                 auth.tenants.read
//   POST   /tenants                 auth.tenants.create
//   GET    /tenants/:tenant_uuid    auth.tenants.{tenant_uuid}.read
//   PUT    /tenants/:tenant_uuid    auth.tenants.{tenant_uuid}.update
//   DELETE /tenants/:tenant_uuid    auth.tenants.{tenant_uuid}.delete
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { SLUG_PATTERN } from '../../identity/scope.js';
import type { TenantService } from '../../identity/tenants.js';
import type { Tenant } from '../../store/types.js';
import { authOf, type RequireAccess } from '../auth.js';
import { listQuery } from '../list-params.js';
import { ApiError, AuthHeaders, ListParams, listOf, SafeString, Uuid } from '../schemas/common.js';

const Name = Type.Union([SafeString({ maxLength: 128 }), Type.Null()]);
const Slug = Type.String({ pattern: SLUG_PATTERN, description: 'Unique; derived from the name when absent' });
const DomainName = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$' });
const DomainNames = Type.Array(DomainName, { maxItems: 100, uniqueItems: true });

const TenantCreate = Type.Object({
  uuid: Type.Optional(Uuid),
  name: Type.Optional(Name),
  slug: Type.Optional(Slug),
  parent_uuid: Type.Optional(Uuid),
  domain_names: Type.Optional(DomainNames),
});
const TenantUpdate = Type.Object({
  name: Type.Optional(Name),
  slug: Type.Optional(Slug),
  domain_names: Type.Optional(DomainNames),
});
const TenantView = Type.Object({
  uuid: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  slug: Type.Union([Type.String(), Type.Null()]),
  parent_uuid: Type.Union([Type.String(), Type.Null()]),
  domain_names: Type.Array(Type.String()),
});
const TenantParams = Type.Object({ tenant_uuid: SafeString({ maxLength: 64 }) });
const errors = { 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError, 503: ApiError };
const ORDER_COLUMNS = ['uuid', 'name', 'slug'];

function tenantView(t: Tenant): Static<typeof TenantView> {
  return { uuid: t.uuid, name: t.name, slug: t.slug, parent_uuid: t.parentUuid, domain_names: t.domainNames ?? [] };
}

export async function tenantRoutes(app: FastifyInstance, deps: { tenants: TenantService; requireAccess: RequireAccess }): Promise<void> {
  const { tenants, requireAccess } = deps;
  const tags = ['tenants'];

  app.get('/tenants', {
    schema: { summary: 'List the acting tenant and its sub-tenants', tags, headers: AuthHeaders, querystring: ListParams, response: { 200: listOf(TenantView), ...errors } },
    preHandler: requireAccess('auth.tenants.read'),
  }, async function listTenants(request) {
    const result = await tenants.list(authOf(request), listQuery(request.query as Static<typeof ListParams>, ORDER_COLUMNS));
    return { ...result, items: result.items.map(tenantView) };
  });

  app.post('/tenants', {
    schema: { summary: 'Create a tenant (under parent_uuid, by default the acting tenant)', tags, headers: AuthHeaders, body: TenantCreate, response: { 200: TenantView, ...errors } },
    preHandler: requireAccess('auth.tenants.create'),
  }, async function createTenant(request) {
    const b = request.body as Static<typeof TenantCreate>;
    return tenantView(await tenants.create(authOf(request), {
      uuid: b.uuid?.toLowerCase(),
      name: b.name ?? null,
      slug: b.slug,
      parentUuid: b.parent_uuid?.toLowerCase(),
      domainNames: b.domain_names ?? [],
    }));
  });

  app.get('/tenants/:tenant_uuid', {
    schema: { summary: 'Get a tenant', tags, headers: AuthHeaders, params: TenantParams, response: { 200: TenantView, ...errors } },
    preHandler: requireAccess('auth.tenants.{tenant_uuid}.read'),
  }, async function getTenant(request) {
    const { tenant_uuid } = request.params as Static<typeof TenantParams>;
    return tenantView(await tenants.get(authOf(request), tenant_uuid));
  });

  app.put('/tenants/:tenant_uuid', {
    schema: { summary: 'Update a tenant', tags, headers: AuthHeaders, params: TenantParams, body: TenantUpdate, response: { 200: TenantView, ...errors } },
    preHandler: requireAccess('auth.tenants.{tenant_uuid}.update'),
  }, async function updateTenant(request) {
    const { tenant_uuid } = request.params as Static<typeof TenantParams>;
    const b = request.body as Static<typeof TenantUpdate>;
    return tenantView(await tenants.update(authOf(request), tenant_uuid, {
      name: b.name ?? null, slug: b.slug, domainNames: b.domain_names ?? [],
    }));
  });

  app.delete('/tenants/:tenant_uuid', {
    schema: { summary: 'Delete a tenant without sub-tenants, its users (revoking their tokens), groups and policies', tags, headers: AuthHeaders, params: TenantParams, response: { 204: Type.Null(), ...errors } },
    preHandler: requireAccess('auth.tenants.{tenant_uuid}.delete'),
  }, async function deleteTenant(request, reply) {
    const { tenant_uuid } = request.params as Static<typeof TenantParams>;
    await tenants.delete(authOf(request), tenant_uuid);
    return reply.code(204).send();
  });
}
