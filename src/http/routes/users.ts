// /0.1/users: local users.
//   GET    /users                       auth.users.read
//   POST   /users                       auth.users.create
//   GET    /users/:user_uuid            auth.users.{user_uuid}.read
//   PUT    /users/:user_uuid            auth.users.{user_uuid}.update
//   DELETE /users/:user_uuid            auth.users.{user_uuid}.delete
//   PUT    /users/:user_uuid/password   auth.users.{user_uuid}.password.edit
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { InvalidListParamError } from '../../errors.js';
import type { UserService } from '../../identity/users.js';
import type { User } from '../../store/types.js';
import { authOf, type RequireAccess } from '../auth.js';
import { ApiError, AuthHeaders, ListParams, listOf, SafeString, Uuid } from '../schemas/common.js';

const Purpose = Type.Union([Type.Literal('user'), Type.Literal('internal'), Type.Literal('external_api')]);
const Name = Type.Union([SafeString({ maxLength: 128 }), Type.Null()]);
const Username = SafeString({ minLength: 1, maxLength: 256 });
const Email = Type.String({ maxLength: 254, pattern: '^[^@\\s\\u0000]+@[^@\\s\\u0000]+$' });
/** Passwords are hashed, never stored: any characters, bounded length. */
const Password = Type.String({ minLength: 1, maxLength: 1024 });

const UserCreate = Type.Object({
  uuid: Type.Optional(Uuid),
  username: Username,
  firstname: Type.Optional(Name),
  lastname: Type.Optional(Name),
  password: Type.Optional(Type.Union([Password, Type.Null()])),
  email_address: Type.Optional(Type.Union([Email, Type.Null()])),
  purpose: Type.Optional(Purpose),
  enabled: Type.Optional(Type.Boolean()),
});

const UserUpdate = Type.Object({
  username: Username,
  firstname: Type.Optional(Name),
  lastname: Type.Optional(Name),
  email_address: Type.Optional(Type.Union([Email, Type.Null()])),
  purpose: Type.Optional(Purpose),
  enabled: Type.Optional(Type.Boolean()),
});

const PasswordChange = Type.Object({ old_password: Password, new_password: Password });

export const UserView = Type.Object({
  uuid: Type.String(),
  tenant_uuid: Type.String(),
  username: Type.Union([Type.String(), Type.Null()]),
  firstname: Type.Union([Type.String(), Type.Null()]),
  lastname: Type.Union([Type.String(), Type.Null()]),
  purpose: Type.String(),
  enabled: Type.Boolean(),
  emails: Type.Array(Type.Object({ address: Type.String(), confirmed: Type.Boolean(), main: Type.Boolean() })),
});

const UserParams = Type.Object({ user_uuid: SafeString({ maxLength: 64 }) });
const errors = { 400: ApiError, 401: ApiError, 404: ApiError, 409: ApiError, 503: ApiError };
export const USER_ORDER_COLUMNS = ['uuid', 'username', 'firstname', 'lastname', 'email_address', 'purpose', 'enabled'];

export function userView(u: User): Static<typeof UserView> {
  return {
    uuid: u.uuid,
    tenant_uuid: u.tenantUuid,
    username: u.username,
    firstname: u.firstname,
    lastname: u.lastname,
    purpose: u.purpose,
    enabled: u.enabled,
    emails: u.emailAddress === null ? [] : [{ address: u.emailAddress, confirmed: u.emailConfirmed, main: true }],
  };
}

/** The editable fields of a body, with their defaults (absent = null, purpose user, enabled). */
function userInput(b: Static<typeof UserUpdate>) {
  return {
    username: b.username,
    firstname: b.firstname ?? null,
    lastname: b.lastname ?? null,
    emailAddress: b.email_address ?? null,
    purpose: b.purpose ?? 'user',
    enabled: b.enabled ?? true,
  };
}

export async function userRoutes(app: FastifyInstance, deps: { users: UserService; requireAccess: RequireAccess }): Promise<void> {
  const { users, requireAccess } = deps;

  app.get('/users', {
    schema: { summary: 'List users', tags: ['users'], headers: AuthHeaders, querystring: ListParams, response: { 200: listOf(UserView), ...errors } },
    preHandler: requireAccess('auth.users.read'),
  }, async function listUsers(request) {
    const q = request.query as Static<typeof ListParams>;
    if (q.order !== undefined && !USER_ORDER_COLUMNS.includes(q.order)) {
      throw new InvalidListParamError('Invalid order column', { order: { constraint_id: 'enum', message: `one of ${USER_ORDER_COLUMNS.join(', ')}` } });
    }
    const result = await users.listIn(authOf(request).tenantUuid, q);
    return { ...result, items: result.items.map(userView) };
  });

  app.post('/users', {
    schema: { summary: 'Create a user', tags: ['users'], headers: AuthHeaders, body: UserCreate, response: { 200: UserView, ...errors } },
    preHandler: requireAccess('auth.users.create'),
  }, async function createUser(request) {
    const b = request.body as Static<typeof UserCreate>;
    const user = await users.create(authOf(request).tenantUuid, { uuid: b.uuid?.toLowerCase(), ...userInput(b) }, b.password ?? null);
    return userView(user);
  });

  app.get('/users/:user_uuid', {
    schema: { summary: 'Get a user', tags: ['users'], headers: AuthHeaders, params: UserParams, response: { 200: UserView, ...errors } },
    preHandler: requireAccess('auth.users.{user_uuid}.read'),
  }, async function getUser(request) {
    const { user_uuid } = request.params as Static<typeof UserParams>;
    return userView(await users.get(user_uuid, authOf(request).tenantUuid));
  });

  app.put('/users/:user_uuid', {
    schema: { summary: 'Update a user (disabling revokes its sessions)', tags: ['users'], headers: AuthHeaders, params: UserParams, body: UserUpdate, response: { 200: UserView, ...errors } },
    preHandler: requireAccess('auth.users.{user_uuid}.update'),
  }, async function updateUser(request) {
    const { user_uuid } = request.params as Static<typeof UserParams>;
    const b = request.body as Static<typeof UserUpdate>;
    const user = await users.update(user_uuid, authOf(request).tenantUuid, userInput(b));
    return userView(user);
  });

  app.delete('/users/:user_uuid', {
    schema: { summary: 'Delete a user and revoke its sessions', tags: ['users'], headers: AuthHeaders, params: UserParams, response: { 204: Type.Null(), ...errors } },
    preHandler: requireAccess('auth.users.{user_uuid}.delete'),
  }, async function deleteUser(request, reply) {
    const { user_uuid } = request.params as Static<typeof UserParams>;
    await users.delete(user_uuid, authOf(request).tenantUuid);
    return reply.code(204).send();
  });

  app.put('/users/:user_uuid/password', {
    schema: { summary: 'Change a password (revokes the user\'s sessions)', tags: ['users'], headers: AuthHeaders, params: UserParams, body: PasswordChange, response: { 204: Type.Null(), ...errors } },
    preHandler: requireAccess('auth.users.{user_uuid}.password.edit'),
  }, async function changePassword(request, reply) {
    const { user_uuid } = request.params as Static<typeof UserParams>;
    const b = request.body as Static<typeof PasswordChange>;
    await users.changePassword(user_uuid, authOf(request).tenantUuid, b.old_password, b.new_password);
    return reply.code(204).send();
  });
}
