// /0.1/sessions: live logins, and a user's.
//   GET    /sessions                                 auth.sessions.read
//   DELETE /sessions/:session_uuid                   auth.sessions.{session_uuid}.delete
//   GET    /users/:user_uuid/sessions                auth.users.{user_uuid}.sessions.read
//   DELETE /users/:user_uuid/sessions/:session_uuid  auth.users.{user_uuid}.sessions.{session_uuid}.delete
// Deleting revokes the session's tokens; a session the caller cannot see is
// answered 204 too, and left alone.
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { SessionService } from '../../identity/sessions.js';
import type { Session } from '../../tokens/types.js';
import { authOf, type RequireAccess } from '../auth.js';
import { listQuery } from '../list-params.js';
import { ApiError, AuthHeaders, ListParams, listOf, NoContent, SafeString } from '../schemas/common.js';

const Id = SafeString({ maxLength: 64 });
const SessionView = Type.Object({
  uuid: Type.String(),
  mobile: Type.Boolean(),
  tenant_uuid: Type.String(),
  user_uuid: Type.Union([Type.String(), Type.Null()]),
});
const SessionParams = Type.Object({ session_uuid: Id });
const UserParams = Type.Object({ user_uuid: Id });
const UserSessionParams = Type.Object({ user_uuid: Id, session_uuid: Id });
const errors = { 400: ApiError, 401: ApiError, 404: ApiError, 503: ApiError };
const ORDER_COLUMNS = ['uuid', 'mobile', 'user_uuid', 'tenant_uuid', 'created_at'];

function sessionView(s: Session): Static<typeof SessionView> {
  return { uuid: s.uuid, mobile: s.mobile, tenant_uuid: s.tenantUuid, user_uuid: s.userUuid };
}

export async function sessionRoutes(
  instance: FastifyInstance,
  deps: { sessions: SessionService; requireAccess: RequireAccess },
): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { sessions, requireAccess } = deps;
  const tags = ['sessions'];
  const query = (q: Static<typeof ListParams>) => listQuery(q, ORDER_COLUMNS);

  app.get(
    '/sessions',
    {
      schema: {
        summary: 'List sessions',
        tags,
        headers: AuthHeaders,
        querystring: ListParams,
        response: { 200: listOf(SessionView), ...errors },
      },
      preHandler: requireAccess('auth.sessions.read'),
    },
    async function listSessions(request) {
      const result = await sessions.list(authOf(request), query(request.query));
      return { ...result, items: result.items.map(sessionView) };
    },
  );

  app.delete(
    '/sessions/:session_uuid',
    {
      schema: {
        summary: 'Delete a session and revoke its tokens',
        tags,
        headers: AuthHeaders,
        params: SessionParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.sessions.{session_uuid}.delete'),
    },
    async function deleteSession(request, reply) {
      const { session_uuid } = request.params;
      await sessions.delete(authOf(request), session_uuid);
      return reply.code(204).send();
    },
  );

  app.get(
    '/users/:user_uuid/sessions',
    {
      schema: {
        summary: 'Sessions of a user',
        tags: ['users'],
        headers: AuthHeaders,
        params: UserParams,
        querystring: ListParams,
        response: { 200: listOf(SessionView), ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.sessions.read'),
    },
    async function listUserSessions(request) {
      const { user_uuid } = request.params;
      const result = await sessions.listOfUser(authOf(request), user_uuid, query(request.query));
      return { ...result, items: result.items.map(sessionView) };
    },
  );

  app.delete(
    '/users/:user_uuid/sessions/:session_uuid',
    {
      schema: {
        summary: 'Delete a session of a user and revoke its tokens',
        tags: ['users'],
        headers: AuthHeaders,
        params: UserSessionParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.sessions.{session_uuid}.delete'),
    },
    async function deleteUserSession(request, reply) {
      const { user_uuid, session_uuid } = request.params;
      await sessions.deleteOfUser(authOf(request), user_uuid, session_uuid);
      return reply.code(204).send();
    },
  );
}
