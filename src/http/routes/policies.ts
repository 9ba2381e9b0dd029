// /0.1/policies, and the policies of a user.
//   GET    /policies                              auth.policies.read
//   POST   /policies                              auth.policies.create
// :policy_uuid is a policy's uuid or slug (PolicyId below), everywhere.
//   GET    /policies/:policy_uuid                 auth.policies.{policy_uuid}.read
//   PUT    /policies/:policy_uuid                 auth.policies.{policy_uuid}.update
//   DELETE /policies/:policy_uuid                 auth.policies.{policy_uuid}.delete
//   PUT    /policies/:policy_uuid/acl/:access     auth.policies.{policy_uuid}.update
//   DELETE /policies/:policy_uuid/acl/:access     auth.policies.{policy_uuid}.update
//   GET    /users/:user_uuid/policies             auth.users.{user_uuid}.policies.read
//   PUT    /users/:user_uuid/policies/:policy_uuid     auth.users.{user_uuid}.policies.{policy_uuid}.create
//   DELETE /users/:user_uuid/policies/:policy_uuid     auth.users.{user_uuid}.policies.{policy_uuid}.delete
// Granting rules (no privilege escalation): src/identity/privileges.ts.
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { PolicyService } from '../../identity/policies.js';
import { SLUG_PATTERN } from '../../identity/scope.js';
import type { Policy } from '../../identity/types.js';
import { InvalidDataError } from '../../errors.js';
import {
  ACCESS_LIMITS_TEXT,
  MAX_ACCESS_LENGTH,
  MAX_ACCESS_WILDCARDS,
  MAX_ACL_ENTRIES,
  accessWildcards,
} from '../../access-limits.js';
import { authOf, type RequireAccess } from '../auth.js';
import { listQuery } from '../list-params.js';
import { ApiError, AuthHeaders, ListParams, listOf, NoContent, SafeString, Uuid } from '../schemas/common.js';

// The wildcard count is checked in code (assertAccessLimits), for a message
// that says what is wrong; the schema documents it.
const Access = SafeString({
  minLength: 1,
  maxLength: MAX_ACCESS_LENGTH,
  description: `ACL pattern: ${ACCESS_LIMITS_TEXT}`,
});

/** 400 invalid-data naming the field (`acl.3`, `access`) when an access has too many wildcards. */
function assertAccessLimits(accesses: readonly string[], field: (index: number) => string): void {
  const details: Record<string, { constraint_id: string; message: string }> = {};
  accesses.forEach((access, i) => {
    const wildcards = accessWildcards(access);
    if (wildcards > MAX_ACCESS_WILDCARDS) {
      details[field(i)] = {
        constraint_id: 'max_wildcards',
        message: `${wildcards} wildcards, at most ${MAX_ACCESS_WILDCARDS} (*, # and the segments me, my_session, edit)`,
      };
    }
  });
  if (Object.keys(details).length > 0) {
    throw new InvalidDataError(`An access holds at most ${MAX_ACCESS_WILDCARDS} wildcards`, details);
  }
}
const Slug = Type.String({ pattern: SLUG_PATTERN, description: 'Unique in the tenant; derived from the name when absent' });
const PolicyBody = Type.Object({
  uuid: Type.Optional(Uuid),
  name: SafeString({ minLength: 1, maxLength: 128 }),
  slug: Type.Optional(Slug),
  description: Type.Optional(Type.Union([SafeString({ maxLength: 1024 }), Type.Null()])),
  acl: Type.Optional(Type.Array(Access, { maxItems: MAX_ACL_ENTRIES })),
  shared: Type.Optional(Type.Boolean({ description: 'Visible (linkable) from the sub-tenants too' })),
});
const PolicyUpdate = Type.Omit(PolicyBody, ['uuid']);
export const PolicyView = Type.Object({
  uuid: Type.String(),
  tenant_uuid: Type.String(),
  name: Type.String(),
  slug: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  acl: Type.Array(Type.String()),
  shared: Type.Boolean(),
  read_only: Type.Boolean(),
});
/**
 * A policy in a path: its uuid, or its slug (up to 80 characters here; longer
 * ones, possible in default_policies, by uuid). The required access names it
 * as given: auth.policies.{policy_uuid}.read is auth.policies.<slug>.read.
 */
export const PolicyId = SafeString({
  minLength: 1,
  maxLength: 128,
  description:
    "The policy's uuid, or its slug: the acting tenant's own policy of that slug, else the nearest ancestor's shared one",
});
const PolicyParams = Type.Object({ policy_uuid: PolicyId });
const AccessParams = Type.Object({ policy_uuid: PolicyId, access: Access });
const UserParams = Type.Object({ user_uuid: SafeString({ maxLength: 64 }) });
const UserPolicyParams = Type.Object({ user_uuid: SafeString({ maxLength: 64 }), policy_uuid: PolicyId });
const errors = { 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError, 503: ApiError };
export const POLICY_ORDER_COLUMNS = ['uuid', 'name', 'slug', 'description'];

export function policyView(p: Policy): Static<typeof PolicyView> {
  return {
    uuid: p.uuid,
    tenant_uuid: p.tenantUuid,
    name: p.name,
    slug: p.slug,
    description: p.description,
    acl: p.acl,
    shared: p.shared,
    read_only: p.readOnly,
  };
}

export async function policyRoutes(
  instance: FastifyInstance,
  deps: { policies: PolicyService; requireAccess: RequireAccess },
): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { policies, requireAccess } = deps;
  const tags = ['policies'];

  app.get(
    '/policies',
    {
      schema: {
        summary: "List policies (the tenant's, and shared ones of its ancestors)",
        tags,
        headers: AuthHeaders,
        querystring: ListParams,
        response: { 200: listOf(PolicyView), ...errors },
      },
      preHandler: requireAccess('auth.policies.read'),
    },
    async function listPolicies(request) {
      const result = await policies.list(authOf(request), listQuery(request.query, POLICY_ORDER_COLUMNS));
      return { ...result, items: result.items.map(policyView) };
    },
  );

  app.post(
    '/policies',
    {
      schema: {
        summary: 'Create a policy (only with accesses the caller holds)',
        tags,
        headers: AuthHeaders,
        body: PolicyBody,
        response: { 200: PolicyView, ...errors },
      },
      preHandler: requireAccess('auth.policies.create'),
    },
    async function createPolicy(request) {
      const b = request.body;
      assertAccessLimits(b.acl ?? [], (i) => `acl.${i}`);
      return policyView(
        await policies.create(authOf(request), {
          uuid: b.uuid?.toLowerCase(),
          name: b.name,
          slug: b.slug,
          description: b.description ?? null,
          acl: b.acl ?? [],
          shared: b.shared ?? false,
        }),
      );
    },
  );

  app.get(
    '/policies/:policy_uuid',
    {
      schema: {
        summary: 'Get a policy',
        tags,
        headers: AuthHeaders,
        params: PolicyParams,
        response: { 200: PolicyView, ...errors },
      },
      preHandler: requireAccess('auth.policies.{policy_uuid}.read'),
    },
    async function getPolicy(request) {
      const { policy_uuid } = request.params;
      return policyView(await policies.get(authOf(request), policy_uuid));
    },
  );

  app.put(
    '/policies/:policy_uuid',
    {
      schema: {
        summary: 'Replace a policy (read-only policies: 403)',
        tags,
        headers: AuthHeaders,
        params: PolicyParams,
        body: PolicyUpdate,
        response: { 200: PolicyView, ...errors },
      },
      preHandler: requireAccess('auth.policies.{policy_uuid}.update'),
    },
    async function updatePolicy(request) {
      const { policy_uuid } = request.params;
      const b = request.body;
      assertAccessLimits(b.acl ?? [], (i) => `acl.${i}`);
      return policyView(
        await policies.update(authOf(request), policy_uuid, {
          name: b.name,
          slug: b.slug,
          description: b.description ?? null,
          acl: b.acl ?? [],
          shared: b.shared ?? false,
        }),
      );
    },
  );

  app.delete(
    '/policies/:policy_uuid',
    {
      schema: {
        summary: 'Delete a policy',
        tags,
        headers: AuthHeaders,
        params: PolicyParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.policies.{policy_uuid}.delete'),
    },
    async function deletePolicy(request, reply) {
      const { policy_uuid } = request.params;
      await policies.delete(authOf(request), policy_uuid);
      return reply.code(204).send();
    },
  );

  app.put(
    '/policies/:policy_uuid/acl/:access',
    {
      schema: {
        summary: 'Add an access to a policy (URL-encode it: # is %23)',
        tags,
        headers: AuthHeaders,
        params: AccessParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.policies.{policy_uuid}.update'),
    },
    async function addAccess(request, reply) {
      const { policy_uuid, access } = request.params;
      assertAccessLimits([access], () => 'access');
      await policies.addAccess(authOf(request), policy_uuid, access);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/policies/:policy_uuid/acl/:access',
    {
      schema: {
        summary: 'Remove an access from a policy',
        tags,
        headers: AuthHeaders,
        params: AccessParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.policies.{policy_uuid}.update'),
    },
    async function removeAccess(request, reply) {
      const { policy_uuid, access } = request.params;
      await policies.removeAccess(authOf(request), policy_uuid, access);
      return reply.code(204).send();
    },
  );

  app.get(
    '/users/:user_uuid/policies',
    {
      schema: {
        summary: 'Policies linked to a user',
        tags: ['users'],
        headers: AuthHeaders,
        params: UserParams,
        querystring: ListParams,
        response: { 200: listOf(PolicyView), ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.policies.read'),
    },
    async function listUserPolicies(request) {
      const { user_uuid } = request.params;
      const result = await policies.listOfUser(authOf(request), user_uuid, listQuery(request.query, POLICY_ORDER_COLUMNS));
      return { ...result, items: result.items.map(policyView) };
    },
  );

  app.put(
    '/users/:user_uuid/policies/:policy_uuid',
    {
      schema: {
        summary: 'Link a policy to a user (only one whose accesses the caller holds)',
        tags: ['users'],
        headers: AuthHeaders,
        params: UserPolicyParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.policies.{policy_uuid}.create'),
    },
    async function linkUserPolicy(request, reply) {
      const { user_uuid, policy_uuid } = request.params;
      await policies.linkUser(authOf(request), user_uuid, policy_uuid);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/users/:user_uuid/policies/:policy_uuid',
    {
      schema: {
        summary: 'Unlink a policy from a user',
        tags: ['users'],
        headers: AuthHeaders,
        params: UserPolicyParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.policies.{policy_uuid}.delete'),
    },
    async function unlinkUserPolicy(request, reply) {
      const { user_uuid, policy_uuid } = request.params;
      await policies.unlinkUser(authOf(request), user_uuid, policy_uuid);
      return reply.code(204).send();
    },
  );
}
