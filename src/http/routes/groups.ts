// /0.1/groups: groups of users and the policies they confer; a user's groups.
//   GET    /groups                                   auth.groups.read
//   POST   /groups                                   auth.groups.create
//   GET    /groups/:group_uuid                       auth.groups.{group_uuid}.read
//   PUT    /groups/:group_uuid                       auth.groups.{group_uuid}.update
//   DELETE /groups/:group_uuid                       auth.groups.{group_uuid}.delete
//   GET    /groups/:group_uuid/users                 auth.groups.{group_uuid}.users.read
//   PUT    /groups/:group_uuid/users/:user_uuid      auth.groups.{group_uuid}.users.{user_uuid}.create
//   DELETE /groups/:group_uuid/users/:user_uuid      auth.groups.{group_uuid}.users.{user_uuid}.delete
//   GET    /groups/:group_uuid/policies              auth.groups.{group_uuid}.policies.read
//   PUT    /groups/:group_uuid/policies/:policy_uuid auth.groups.{group_uuid}.policies.{policy_uuid}.create
//          (:policy_uuid: the policy's uuid or slug, resolved in the acting tenant)
//   DELETE /groups/:group_uuid/policies/:policy_uuid auth.groups.{group_uuid}.policies.{policy_uuid}.delete
//   GET    /users/:user_uuid/groups                  auth.users.{user_uuid}.groups.read
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { GroupService } from '../../identity/groups.js';
import { SLUG_PATTERN } from '../../identity/scope.js';
import type { Group } from '../../identity/types.js';
import { authOf, type RequireAccess } from '../auth.js';
import { listQuery } from '../list-params.js';
import { ApiError, AuthHeaders, ListParams, listOf, NoContent, SafeString, Uuid } from '../schemas/common.js';
import { POLICY_ORDER_COLUMNS, PolicyId, policyView, PolicyView } from './policies.js';
import { USER_ORDER_COLUMNS, userView, UserView } from './users.js';

const Id = SafeString({ maxLength: 64 });
const GroupBody = Type.Object({
  uuid: Type.Optional(Uuid),
  name: SafeString({ minLength: 1, maxLength: 128 }),
  slug: Type.Optional(
    Type.String({ pattern: SLUG_PATTERN, description: 'Unique in the tenant; derived from the name when absent' }),
  ),
});
const GroupUpdate = Type.Omit(GroupBody, ['uuid']);
const GroupView = Type.Object({
  uuid: Type.String(),
  tenant_uuid: Type.String(),
  name: Type.String(),
  slug: Type.String(),
  system_managed: Type.Boolean(),
});
const GroupParams = Type.Object({ group_uuid: Id });
const MemberParams = Type.Object({ group_uuid: Id, user_uuid: Id });
const GroupPolicyParams = Type.Object({ group_uuid: Id, policy_uuid: PolicyId });
const UserParams = Type.Object({ user_uuid: Id });
const errors = { 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError, 503: ApiError };
const ORDER_COLUMNS = ['uuid', 'name', 'slug'];

function groupView(g: Group): Static<typeof GroupView> {
  return { uuid: g.uuid, tenant_uuid: g.tenantUuid, name: g.name, slug: g.slug, system_managed: g.systemManaged };
}

export async function groupRoutes(
  instance: FastifyInstance,
  deps: { groups: GroupService; requireAccess: RequireAccess },
): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { groups, requireAccess } = deps;
  const tags = ['groups'];
  const query = (q: Static<typeof ListParams>, columns: readonly string[]) => listQuery(q, columns);

  app.get(
    '/groups',
    {
      schema: {
        summary: 'List groups',
        tags,
        headers: AuthHeaders,
        querystring: ListParams,
        response: { 200: listOf(GroupView), ...errors },
      },
      preHandler: requireAccess('auth.groups.read'),
    },
    async function listGroups(request) {
      const result = await groups.list(authOf(request), query(request.query, ORDER_COLUMNS));
      return { ...result, items: result.items.map(groupView) };
    },
  );

  app.post(
    '/groups',
    {
      schema: {
        summary: 'Create a group in the acting tenant',
        tags,
        headers: AuthHeaders,
        body: GroupBody,
        response: { 200: GroupView, ...errors },
      },
      preHandler: requireAccess('auth.groups.create'),
    },
    async function createGroup(request) {
      const b = request.body;
      return groupView(await groups.create(authOf(request), { uuid: b.uuid?.toLowerCase(), name: b.name, slug: b.slug }));
    },
  );

  app.get(
    '/groups/:group_uuid',
    {
      schema: {
        summary: 'Get a group',
        tags,
        headers: AuthHeaders,
        params: GroupParams,
        response: { 200: GroupView, ...errors },
      },
      preHandler: requireAccess('auth.groups.{group_uuid}.read'),
    },
    async function getGroup(request) {
      const { group_uuid } = request.params;
      return groupView(await groups.get(authOf(request), group_uuid));
    },
  );

  app.put(
    '/groups/:group_uuid',
    {
      schema: {
        summary: 'Rename a group ("all users" groups: 403)',
        tags,
        headers: AuthHeaders,
        params: GroupParams,
        body: GroupUpdate,
        response: { 200: GroupView, ...errors },
      },
      preHandler: requireAccess('auth.groups.{group_uuid}.update'),
    },
    async function updateGroup(request) {
      const { group_uuid } = request.params;
      const b = request.body;
      return groupView(await groups.update(authOf(request), group_uuid, { name: b.name, slug: b.slug }));
    },
  );

  app.delete(
    '/groups/:group_uuid',
    {
      schema: {
        summary: 'Delete a group',
        tags,
        headers: AuthHeaders,
        params: GroupParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.groups.{group_uuid}.delete'),
    },
    async function deleteGroup(request, reply) {
      const { group_uuid } = request.params;
      await groups.delete(authOf(request), group_uuid);
      return reply.code(204).send();
    },
  );

  app.get(
    '/groups/:group_uuid/users',
    {
      schema: {
        summary: 'Members of a group',
        tags,
        headers: AuthHeaders,
        params: GroupParams,
        querystring: ListParams,
        response: { 200: listOf(UserView), ...errors },
      },
      preHandler: requireAccess('auth.groups.{group_uuid}.users.read'),
    },
    async function listMembers(request) {
      const { group_uuid } = request.params;
      const result = await groups.listUsers(authOf(request), group_uuid, query(request.query, USER_ORDER_COLUMNS));
      return { ...result, items: result.items.map(userView) };
    },
  );

  app.put(
    '/groups/:group_uuid/users/:user_uuid',
    {
      schema: {
        summary: 'Add a user of the same tenant to a group',
        tags,
        headers: AuthHeaders,
        params: MemberParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.groups.{group_uuid}.users.{user_uuid}.create'),
    },
    async function addMember(request, reply) {
      const { group_uuid, user_uuid } = request.params;
      await groups.addUser(authOf(request), group_uuid, user_uuid);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/groups/:group_uuid/users/:user_uuid',
    {
      schema: {
        summary: 'Remove a user from a group',
        tags,
        headers: AuthHeaders,
        params: MemberParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.groups.{group_uuid}.users.{user_uuid}.delete'),
    },
    async function removeMember(request, reply) {
      const { group_uuid, user_uuid } = request.params;
      await groups.removeUser(authOf(request), group_uuid, user_uuid);
      return reply.code(204).send();
    },
  );

  app.get(
    '/groups/:group_uuid/policies',
    {
      schema: {
        summary: 'Policies of a group',
        tags,
        headers: AuthHeaders,
        params: GroupParams,
        querystring: ListParams,
        response: { 200: listOf(PolicyView), ...errors },
      },
      preHandler: requireAccess('auth.groups.{group_uuid}.policies.read'),
    },
    async function listGroupPolicies(request) {
      const { group_uuid } = request.params;
      const result = await groups.listPolicies(authOf(request), group_uuid, query(request.query, POLICY_ORDER_COLUMNS));
      return { ...result, items: result.items.map(policyView) };
    },
  );

  app.put(
    '/groups/:group_uuid/policies/:policy_uuid',
    {
      schema: {
        summary: 'Attach a policy to a group (only one whose accesses the caller holds)',
        tags,
        headers: AuthHeaders,
        params: GroupPolicyParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.groups.{group_uuid}.policies.{policy_uuid}.create'),
    },
    async function addGroupPolicy(request, reply) {
      const { group_uuid, policy_uuid } = request.params;
      await groups.addPolicy(authOf(request), group_uuid, policy_uuid);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/groups/:group_uuid/policies/:policy_uuid',
    {
      schema: {
        summary: 'Detach a policy from a group',
        tags,
        headers: AuthHeaders,
        params: GroupPolicyParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.groups.{group_uuid}.policies.{policy_uuid}.delete'),
    },
    async function removeGroupPolicy(request, reply) {
      const { group_uuid, policy_uuid } = request.params;
      await groups.removePolicy(authOf(request), group_uuid, policy_uuid);
      return reply.code(204).send();
    },
  );

  app.get(
    '/users/:user_uuid/groups',
    {
      schema: {
        summary: 'Groups of a user',
        tags: ['users'],
        headers: AuthHeaders,
        params: UserParams,
        querystring: ListParams,
        response: { 200: listOf(GroupView), ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.groups.read'),
    },
    async function listUserGroups(request) {
      const { user_uuid } = request.params;
      const result = await groups.listOfUser(authOf(request), user_uuid, query(request.query, ORDER_COLUMNS));
      return { ...result, items: result.items.map(groupView) };
    },
  );
}
