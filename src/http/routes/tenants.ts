// /0.1/tenants: the tenant tree under the top tenant.
//   GET    /tenants                 auth.tenants.read
//   POST   /tenants                 auth.tenants.create
//   GET    /tenants/:tenant_uuid    auth.tenants.{tenant_uuid}.read
//   PUT    /tenants/:tenant_uuid    auth.tenants.{tenant_uuid}.update
//   DELETE /tenants/:tenant_uuid    auth.tenants.{tenant_uuid}.delete
//   GET    /tenants/:tenant_uuid/domains                     auth.tenants.{tenant_uuid}.domains.read
//   PUT    /tenants/:tenant_uuid/parent/:parent_tenant_uuid  auth.tenants.{tenant_uuid}.parent.{parent_tenant_uuid}.update
import type { Static } from '@sinclair/typebox';
import { Type, type TSchema } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { SLUG_PATTERN } from '../../identity/scope.js';
import type { TenantDetails, TenantService } from '../../identity/tenants.js';
import { TENANT_AUTHENTICATION_METHODS, type Tenant } from '../../identity/types.js';
import { authOf, type RequireAccess } from '../auth.js';
import { listQuery } from '../list-params.js';
import { ApiError, AuthHeaders, ListParams, listOf, NoContent, SafeString, Uuid, UUID_PATTERN } from '../schemas/common.js';

const Name = Type.Union([SafeString({ maxLength: 128 }), Type.Null()]);
const Slug = Type.String({ pattern: SLUG_PATTERN, description: 'Unique; derived from the name when absent' });
const DomainName = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$' });
const DomainNames = Type.Array(DomainName, {
  maxItems: 100,
  uniqueItems: true,
  description: 'Stored lower-cased; each belongs to one tenant at most, case-insensitively (409 on domain_names otherwise)',
});

const nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Text = (maxLength: number) => nullable(SafeString({ minLength: 1, maxLength }));
const Address = Type.Object(
  {
    line_1: Type.Optional(Text(256)),
    line_2: Type.Optional(Text(256)),
    city: Type.Optional(Text(128)),
    state: Type.Optional(Text(128)),
    country: Type.Optional(Text(128)),
    zip_code: Type.Optional(Text(16)),
  },
  { description: 'Absent fields are null' },
);
const AuthenticationMethod = Type.Union(
  TENANT_AUTHENTICATION_METHODS.map((m) => Type.Literal(m)),
  {
    description:
      "How the tenant's users whose authentication_method is default log in (POST /token refuses any other way). Default native. " +
      'On update, a change requires that the caller grants every access of the tokens of those users (401 otherwise)',
  },
);
const Details = {
  contact: Type.Optional(nullable(Type.String({ pattern: UUID_PATTERN, description: 'uuid of a user the caller can see' }))),
  phone: Type.Optional(Text(32)),
  address: Type.Optional(Address),
  default_authentication_method: Type.Optional(AuthenticationMethod),
};
const TenantCreate = Type.Object({
  uuid: Type.Optional(Uuid),
  name: Type.Optional(Name),
  slug: Type.Optional(Slug),
  parent_uuid: Type.Optional(Uuid),
  domain_names: Type.Optional(DomainNames),
  ...Details,
});
const TenantUpdate = Type.Object(
  {
    name: Type.Optional(Name),
    slug: Type.Optional(Slug),
    domain_names: Type.Optional(DomainNames),
    ...Details,
  },
  {
    description:
      'Replaces the tenant: an absent field becomes null ([] for domain_names, native for default_authentication_method); slug stays when absent',
  },
);
const AddressView = Type.Object({
  line_1: nullable(Type.String()),
  line_2: nullable(Type.String()),
  city: nullable(Type.String()),
  state: nullable(Type.String()),
  country: nullable(Type.String()),
  zip_code: nullable(Type.String()),
});
export const TenantView = Type.Object({
  uuid: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  slug: Type.Union([Type.String(), Type.Null()]),
  parent_uuid: Type.Union([Type.String(), Type.Null()]),
  domain_names: Type.Array(Type.String()),
  contact: nullable(Type.String()),
  phone: nullable(Type.String()),
  address: AddressView,
  default_authentication_method: Type.String(),
});
const DomainsView = Type.Object({
  total: Type.Integer(),
  items: Type.Array(Type.Object({ uuid: Type.String(), name: Type.String() })),
});
const TenantParams = Type.Object({ tenant_uuid: SafeString({ maxLength: 64 }) });
const ParentParams = Type.Object({
  tenant_uuid: SafeString({ maxLength: 64 }),
  parent_tenant_uuid: SafeString({ maxLength: 64 }),
});
const errors = { 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError, 503: ApiError };
const ORDER_COLUMNS = ['uuid', 'name', 'slug'];

function tenantView(t: Tenant): Static<typeof TenantView> {
  const a = t.address;
  return {
    uuid: t.uuid,
    name: t.name,
    slug: t.slug,
    parent_uuid: t.parentUuid,
    domain_names: t.domainNames ?? [],
    contact: t.contactUuid ?? null,
    phone: t.phone ?? null,
    address: {
      line_1: a?.line1 ?? null,
      line_2: a?.line2 ?? null,
      city: a?.city ?? null,
      state: a?.state ?? null,
      country: a?.country ?? null,
      zip_code: a?.zipCode ?? null,
    },
    default_authentication_method: t.defaultAuthenticationMethod ?? 'native',
  };
}

/** The details of a POST or PUT body; absent ones take their defaults (PUT replaces them). */
function detailsOf(b: Pick<Static<typeof TenantUpdate>, keyof typeof Details>): TenantDetails {
  const a = b.address ?? {};
  return {
    contactUuid: b.contact?.toLowerCase() ?? null,
    phone: b.phone ?? null,
    address: {
      line1: a.line_1 ?? null,
      line2: a.line_2 ?? null,
      city: a.city ?? null,
      state: a.state ?? null,
      country: a.country ?? null,
      zipCode: a.zip_code ?? null,
    },
    defaultAuthenticationMethod: b.default_authentication_method ?? 'native',
  };
}

export async function tenantRoutes(
  instance: FastifyInstance,
  deps: { tenants: TenantService; requireAccess: RequireAccess },
): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { tenants, requireAccess } = deps;
  const tags = ['tenants'];

  app.get(
    '/tenants',
    {
      schema: {
        summary: 'List the acting tenant and its sub-tenants',
        tags,
        headers: AuthHeaders,
        querystring: ListParams,
        response: { 200: listOf(TenantView), ...errors },
      },
      preHandler: requireAccess('auth.tenants.read'),
    },
    async function listTenants(request) {
      const result = await tenants.list(authOf(request), listQuery(request.query, ORDER_COLUMNS));
      return { ...result, items: result.items.map(tenantView) };
    },
  );

  app.post(
    '/tenants',
    {
      schema: {
        summary: 'Create a tenant (under parent_uuid, by default the acting tenant)',
        tags,
        headers: AuthHeaders,
        body: TenantCreate,
        response: { 200: TenantView, ...errors },
      },
      preHandler: requireAccess('auth.tenants.create'),
    },
    async function createTenant(request) {
      const b = request.body;
      return tenantView(
        await tenants.create(authOf(request), {
          uuid: b.uuid?.toLowerCase(),
          name: b.name ?? null,
          slug: b.slug,
          parentUuid: b.parent_uuid?.toLowerCase(),
          domainNames: b.domain_names ?? [],
          ...detailsOf(b),
        }),
      );
    },
  );

  app.get(
    '/tenants/:tenant_uuid',
    {
      schema: {
        summary: 'Get a tenant',
        tags,
        headers: AuthHeaders,
        params: TenantParams,
        response: { 200: TenantView, ...errors },
      },
      preHandler: requireAccess('auth.tenants.{tenant_uuid}.read'),
    },
    async function getTenant(request) {
      const { tenant_uuid } = request.params;
      return tenantView(await tenants.get(authOf(request), tenant_uuid));
    },
  );

  app.put(
    '/tenants/:tenant_uuid',
    {
      schema: {
        summary: 'Update a tenant',
        tags,
        headers: AuthHeaders,
        params: TenantParams,
        body: TenantUpdate,
        response: { 200: TenantView, ...errors },
      },
      preHandler: requireAccess('auth.tenants.{tenant_uuid}.update'),
    },
    async function updateTenant(request) {
      const { tenant_uuid } = request.params;
      const b = request.body;
      return tenantView(
        await tenants.update(authOf(request), tenant_uuid, {
          name: b.name ?? null,
          slug: b.slug,
          domainNames: b.domain_names ?? [],
          ...detailsOf(b),
        }),
      );
    },
  );

  app.get(
    '/tenants/:tenant_uuid/domains',
    {
      schema: {
        summary: "The tenant's domain names",
        tags,
        headers: AuthHeaders,
        params: TenantParams,
        response: { 200: DomainsView, ...errors },
      },
      preHandler: requireAccess('auth.tenants.{tenant_uuid}.domains.read'),
    },
    async function listTenantDomains(request) {
      const { tenant_uuid } = request.params;
      const items = await tenants.domains(authOf(request), tenant_uuid);
      return { total: items.length, items };
    },
  );

  app.put(
    '/tenants/:tenant_uuid/parent/:parent_tenant_uuid',
    {
      schema: {
        summary: "Move a tenant (with its sub-tenants) under another tenant of the acting tenant's subtree",
        description:
          "Refused (400) when the new parent is the tenant or one of its sub-tenants; 403 for the caller's own tenant and the top tenant; " +
          '409 while users or groups of the subtree are linked to policies of tenants it would leave.',
        tags,
        headers: AuthHeaders,
        params: ParentParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.tenants.{tenant_uuid}.parent.{parent_tenant_uuid}.update'),
    },
    async function setTenantParent(request, reply) {
      const { tenant_uuid, parent_tenant_uuid } = request.params;
      await tenants.setParent(authOf(request), tenant_uuid, parent_tenant_uuid);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/tenants/:tenant_uuid',
    {
      schema: {
        summary: 'Delete a tenant without sub-tenants, its users (revoking their tokens), groups and policies',
        tags,
        headers: AuthHeaders,
        params: TenantParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.tenants.{tenant_uuid}.delete'),
    },
    async function deleteTenant(request, reply) {
      const { tenant_uuid } = request.params;
      await tenants.delete(authOf(request), tenant_uuid);
      return reply.code(204).send();
    },
  );
}
