// /0.1/idp: authentication methods (issue 23 §1), as wazo-auth 24.08.
//   GET    /idp                            auth.idp.read
//   PUT    /idp/:idp_type/users            auth.idp.{idp_type}.users.update        (bulk set)
//   PUT    /idp/:idp_type/users/:user_uuid auth.idp.{idp_type}.users.{user_uuid}.create (set)
//   DELETE /idp/:idp_type/users/:user_uuid auth.idp.{idp_type}.users.{user_uuid}.delete (reset to default)
// Changing a user's method also requires that the caller grants every access
// of that user's tokens (401 otherwise; docs/isolation.md, "No escalation").
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { IdpService } from '../../sso/idp-service.js';
import { authOf, type RequireAccess } from '../auth.js';
import { ApiError, AuthHeaders, NoContent, SafeString } from '../schemas/common.js';

export interface IdpRouteDeps {
  idp: IdpService;
  requireAccess: RequireAccess;
}

/** Bounds the work of one bulk PUT. */
const MAX_USERS = 1000;
const TypeParams = Type.Object({ idp_type: SafeString({ maxLength: 64 }) });
const UserParams = Type.Object({ idp_type: SafeString({ maxLength: 64 }), user_uuid: SafeString({ maxLength: 64 }) });
const UsersBody = Type.Object({
  users: Type.Array(Type.Object({ uuid: SafeString({ minLength: 1, maxLength: 64 }) }), { maxItems: MAX_USERS }),
});
const IdpList = Type.Object({ total: Type.Integer(), filtered: Type.Integer(), items: Type.Array(Type.String()) });
/** OpenAPI: the no-escalation rule of method changes. */
const ESCALATION =
  "Changing a user's method decides who may log in as it: the caller must grant every access of the tokens of each user " +
  'whose method changes (401 unauthorized, details.required_access, nothing changed); a user already at that method is left as it is.';
const errors = { 400: ApiError, 401: ApiError, 404: ApiError, 503: ApiError };

export async function idpRoutes(instance: FastifyInstance, deps: IdpRouteDeps): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { idp, requireAccess } = deps;

  app.get(
    '/idp',
    {
      schema: {
        summary: "Authentication methods a user may be given (default: the tenant's)",
        tags: ['idp'],
        headers: AuthHeaders,
        response: { 200: IdpList, ...errors },
      },
      preHandler: requireAccess('auth.idp.read'),
    },
    async function listIdp() {
      const items = [...idp.types()];
      return { total: items.length, filtered: items.length, items };
    },
  );

  app.put(
    '/idp/:idp_type/users',
    {
      schema: {
        summary: 'Set the authentication method of several users (all visible, or none changed)',
        tags: ['idp'],
        headers: AuthHeaders,
        description: ESCALATION,
        params: TypeParams,
        body: UsersBody,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.idp.{idp_type}.users.update'),
    },
    async function setUsersMethod(request, reply) {
      const { idp_type } = request.params;
      const body = request.body;
      const auth = authOf(request);
      await idp.addUsers(
        auth.token,
        idp_type,
        body.users.map((u) => u.uuid),
        auth.tenantUuid,
      );
      return reply.code(204).send();
    },
  );

  app.put(
    '/idp/:idp_type/users/:user_uuid',
    {
      schema: {
        summary: "Set a user's authentication method",
        tags: ['idp'],
        headers: AuthHeaders,
        description: ESCALATION,
        params: UserParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.idp.{idp_type}.users.{user_uuid}.create'),
    },
    async function setUserMethod(request, reply) {
      const { idp_type, user_uuid } = request.params;
      const auth = authOf(request);
      await idp.addUser(auth.token, idp_type, user_uuid, auth.tenantUuid);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/idp/:idp_type/users/:user_uuid',
    {
      schema: {
        summary: "Reset a user's authentication method to default, if it is this one",
        tags: ['idp'],
        headers: AuthHeaders,
        description: ESCALATION,
        params: UserParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.idp.{idp_type}.users.{user_uuid}.delete'),
    },
    async function resetUserMethod(request, reply) {
      const { idp_type, user_uuid } = request.params;
      const auth = authOf(request);
      await idp.removeUser(auth.token, idp_type, user_uuid, auth.tenantUuid);
      return reply.code(204).send();
    },
  );
}
