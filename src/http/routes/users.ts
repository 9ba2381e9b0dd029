// /0.1/users: local users.
//   GET    /users                       auth.users.read
//   POST   /users                       auth.users.create (and granting the policies of the tenant's "all users" group)
//   GET    /users/:user_uuid            auth.users.{user_uuid}.read
//   PUT    /users/:user_uuid            auth.users.{user_uuid}.update (a new email_address is confirmed only
//                                         for a caller granted auth.admin.users.{user_uuid}.emails.update;
//                                         a new authentication_method only for one granting all the user's accesses)
//   DELETE /users/:user_uuid            auth.users.{user_uuid}.delete
//   PUT    /users/:user_uuid/password   auth.users.{user_uuid}.password.update (an ACL's `edit` segment also grants it)
//   PUT    /users/:user_uuid/emails     auth.users.{user_uuid}.emails.update (new addresses unconfirmed)
//   PUT    /admin/users/:user_uuid/emails  auth.admin.users.{user_uuid}.emails.update (may set `confirmed`)
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { hasAccess } from '@xivo-auth/acl';
import { InvalidListParamError } from '../../errors.js';
import { defaultAuthenticationMethod, type EmailsEditor, type UserService } from '../../identity/users.js';
import type { Purpose, User, UserEmail, UserListFilters } from '../../identity/types.js';
import { authOf, requiredAccessFor, type RequireAccess } from '../auth.js';
import { IDP_TYPES } from '../../sso/authentication-methods.js';
import { ApiError, AuthHeaders, ListParams, listOf, NoContent, SafeString, Uuid } from '../schemas/common.js';

const Purpose = Type.Union([Type.Literal('user'), Type.Literal('internal'), Type.Literal('external_api')]);
const Name = Type.Union([SafeString({ maxLength: 128 }), Type.Null()]);
// Both are logins, global across tenants: a username may not be another
// user's email address, nor an email address another user's username (409).
const Username = SafeString({ minLength: 1, maxLength: 256 });
const Email = Type.String({ maxLength: 254, pattern: '^[^@\\s\\u0000]+@[^@\\s\\u0000]+$' });
/** Passwords are hashed, never stored: any characters, bounded length. */
const Password = Type.String({ minLength: 1, maxLength: 1024 });
/**
 * How the user may log in (POST /token refuses any other way, issue 23):
 * `default` (its tenant's method), `native` (password), `ldap`, `saml` or
 * `oidc`. When absent: `native` for the purposes internal and external_api,
 * `default` for user (as wazo-auth).
 */
const AuthenticationMethod = Type.Union(
  IDP_TYPES.map((m) => Type.Literal(m)),
  {
    description:
      "default (the tenant's method), native (password), ldap, saml or oidc; when absent, native for internal and external_api, default for user. " +
      "On update, a change (to or from anything) requires that the caller grants every access of the user's tokens (401 otherwise)",
  },
);
/** Bounds the work of one PUT of a user's addresses. */
const MAX_EMAILS = 256;

const UserCreate = Type.Object({
  uuid: Type.Optional(Uuid),
  username: Type.Optional(Type.Union([Username, Type.Null()], { description: 'Optional when email_address is given' })),
  firstname: Type.Optional(Name),
  lastname: Type.Optional(Name),
  password: Type.Optional(Type.Union([Password, Type.Null()])),
  email_address: Type.Optional(
    Type.Union([Email, Type.Null()], { description: 'The main address (confirmed: set by an administrator)' }),
  ),
  purpose: Type.Optional(Purpose),
  enabled: Type.Optional(Type.Boolean()),
  authentication_method: Type.Optional(AuthenticationMethod),
});

const UserUpdate = Type.Object({
  username: Type.Optional(Type.Union([Username, Type.Null()], { description: 'Optional when the user has an email address' })),
  firstname: Type.Optional(Name),
  lastname: Type.Optional(Name),
  email_address: Type.Optional(
    Type.Union([Email, Type.Null()], {
      description:
        'Replaces the main address (null removes it); absent, the addresses are left as they are. A new address is confirmed ' +
        'when the caller is granted auth.admin.users.{user_uuid}.emails.update; otherwise it is unconfirmed and a confirmation mail is sent',
    }),
  ),
  purpose: Type.Optional(Purpose),
  enabled: Type.Optional(Type.Boolean()),
  authentication_method: Type.Optional(AuthenticationMethod),
});

const EmailView = Type.Object({ uuid: Type.String(), address: Type.String(), main: Type.Boolean(), confirmed: Type.Boolean() });

const AdminEmailsUpdate = Type.Object({
  emails: Type.Array(
    Type.Object({
      address: Email,
      main: Type.Optional(Type.Boolean({ default: false })),
      confirmed: Type.Optional(
        Type.Union([Type.Boolean(), Type.Null()], {
          description: 'Absent or null: an address the user already has keeps its flag, a new one is unconfirmed',
        }),
      ),
    }),
    { maxItems: MAX_EMAILS, description: 'Every address of the user: exactly one main when any; [] removes them all' },
  ),
});

const UserEmailsUpdate = Type.Object({
  emails: Type.Array(
    Type.Object({
      address: Email,
      main: Type.Optional(Type.Boolean({ default: false })),
    }),
    { maxItems: MAX_EMAILS, description: 'Every address of the user: exactly one main when any; new addresses are unconfirmed' },
  ),
});

/** GET /users: the list parameters and wazo-auth's filters (each narrows `filtered`, never `total`). */
const UserListParams = Type.Object({
  ...ListParams.properties,
  uuid: Type.Optional(SafeString({ maxLength: 64 })),
  username: Type.Optional(SafeString({ maxLength: 256, description: 'Exact, case-insensitive' })),
  firstname: Type.Optional(SafeString({ maxLength: 128 })),
  lastname: Type.Optional(SafeString({ maxLength: 128 })),
  purpose: Type.Optional(SafeString({ maxLength: 32 })),
  email_address: Type.Optional(
    SafeString({ maxLength: 254, description: "Any of the user's addresses; exact, case-insensitive" }),
  ),
  group_uuid: Type.Optional(SafeString({ maxLength: 64, description: 'Members of this group' })),
  policy_uuid: Type.Optional(SafeString({ maxLength: 64, description: 'Linked to this policy directly' })),
  policy_slug: Type.Optional(SafeString({ maxLength: 128, description: 'Linked directly to a policy with this slug' })),
  has_policy_uuid: Type.Optional(SafeString({ maxLength: 64, description: 'Granted this policy, directly or through a group' })),
  has_policy_slug: Type.Optional(
    SafeString({ maxLength: 128, description: 'Granted a policy with this slug, directly or through a group' }),
  ),
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
  emails: Type.Array(EmailView, { description: 'The main address first' }),
  authentication_method: Type.String(),
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
    emails: u.emails.map(emailView),
    authentication_method: u.authenticationMethod,
  };
}

function emailView(e: UserEmail): Static<typeof EmailView> {
  return { uuid: e.uuid, address: e.address, main: e.main, confirmed: e.confirmed };
}

/**
 * The editable fields of a body, with their defaults (absent = null, purpose
 * user, enabled, the purpose's authentication method). On update, an absent
 * email_address leaves the addresses as they are.
 */
function userInput(b: Static<typeof UserUpdate>) {
  const purpose: Purpose = b.purpose ?? 'user';
  return {
    username: b.username ?? null,
    firstname: b.firstname ?? null,
    lastname: b.lastname ?? null,
    emailAddress: b.email_address,
    purpose,
    enabled: b.enabled ?? true,
    authenticationMethod: b.authentication_method ?? defaultAuthenticationMethod(purpose),
  };
}

function userListFilters(q: Static<typeof UserListParams>): UserListFilters {
  const filters: UserListFilters = {
    uuid: q.uuid,
    username: q.username,
    firstname: q.firstname,
    lastname: q.lastname,
    purpose: q.purpose,
    emailAddress: q.email_address,
    groupUuid: q.group_uuid,
    policyUuid: q.policy_uuid,
    policySlug: q.policy_slug,
    hasPolicyUuid: q.has_policy_uuid,
    hasPolicySlug: q.has_policy_slug,
  };
  for (const key of Object.keys(filters) as (keyof UserListFilters)[]) if (filters[key] === undefined) delete filters[key];
  return filters;
}

export async function userRoutes(
  instance: FastifyInstance,
  deps: { users: UserService; requireAccess: RequireAccess },
): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { users, requireAccess } = deps;

  app.get(
    '/users',
    {
      schema: {
        summary: 'List users (total: all of the scope; filtered: those matching search and the filters)',
        tags: ['users'],
        headers: AuthHeaders,
        querystring: UserListParams,
        response: { 200: listOf(UserView), ...errors },
      },
      preHandler: requireAccess('auth.users.read'),
    },
    async function listUsers(request) {
      const q = request.query;
      if (q.order !== undefined && !USER_ORDER_COLUMNS.includes(q.order)) {
        throw new InvalidListParamError('Invalid order column', {
          order: { constraint_id: 'enum', message: `one of ${USER_ORDER_COLUMNS.join(', ')}` },
        });
      }
      const result = await users.listIn(authOf(request).tenantUuid, {
        order: q.order,
        direction: q.direction,
        limit: q.limit,
        offset: q.offset,
        search: q.search,
        recurse: q.recurse,
        filters: userListFilters(q),
      });
      return { ...result, items: result.items.map(userView) };
    },
  );

  app.post(
    '/users',
    {
      schema: {
        summary: 'Create a user',
        tags: ['users'],
        headers: AuthHeaders,
        body: UserCreate,
        response: { 200: UserView, ...errors },
        description:
          'The user joins its tenant\'s "all users" group: the caller must grant every access of that group\'s policies ' +
          '(401 unauthorized, details.required_access, nothing created).',
      },
      preHandler: requireAccess('auth.users.create'),
    },
    async function createUser(request) {
      const b = request.body;
      const auth = authOf(request);
      const user = await users.create(
        auth.tenantUuid,
        { uuid: b.uuid?.toLowerCase(), ...userInput(b), emailAddress: b.email_address ?? null },
        b.password ?? null,
        auth.token,
      );
      return userView(user);
    },
  );

  app.get(
    '/users/:user_uuid',
    {
      schema: {
        summary: 'Get a user',
        tags: ['users'],
        headers: AuthHeaders,
        params: UserParams,
        response: { 200: UserView, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.read'),
    },
    async function getUser(request) {
      const { user_uuid } = request.params;
      return userView(await users.get(user_uuid, authOf(request).tenantUuid));
    },
  );

  app.put(
    '/users/:user_uuid',
    {
      schema: {
        summary: 'Update a user (disabling revokes its sessions)',
        tags: ['users'],
        headers: AuthHeaders,
        params: UserParams,
        body: UserUpdate,
        response: { 200: UserView, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.update'),
    },
    async function updateUser(request) {
      const { user_uuid } = request.params;
      const b = request.body;
      const auth = authOf(request);
      // A new email_address is confirmed only when the caller may confirm
      // addresses (the administrators' route's access); a user setting its own
      // gets it unconfirmed, with a confirmation mail (issue 21).
      const mayConfirm = hasAccess(
        auth.token.acl,
        requiredAccessFor('auth.admin.users.{user_uuid}.emails.update', { user_uuid }),
        { authId: auth.token.authId, sessionUuid: auth.token.sessionUuid },
      );
      const user = await users.update(user_uuid, auth.tenantUuid, userInput(b), mayConfirm ? 'admin' : 'user', auth.token);
      return userView(user);
    },
  );

  app.delete(
    '/users/:user_uuid',
    {
      schema: {
        summary: 'Delete a user and revoke its sessions',
        tags: ['users'],
        headers: AuthHeaders,
        params: UserParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.delete'),
    },
    async function deleteUser(request, reply) {
      const { user_uuid } = request.params;
      await users.delete(user_uuid, authOf(request).tenantUuid);
      return reply.code(204).send();
    },
  );

  app.put(
    '/users/:user_uuid/password',
    {
      schema: {
        summary: "Change a password (revokes the user's sessions)",
        tags: ['users'],
        headers: AuthHeaders,
        params: UserParams,
        body: PasswordChange,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.password.update'),
    },
    async function changePassword(request, reply) {
      const { user_uuid } = request.params;
      const b = request.body;
      await users.changePassword(user_uuid, authOf(request).tenantUuid, b.old_password, b.new_password);
      return reply.code(204).send();
    },
  );

  const emailRoute = (
    url: string,
    access: string,
    body: typeof AdminEmailsUpdate | typeof UserEmailsUpdate,
    editor: EmailsEditor,
    summary: string,
  ) =>
    app.put(
      url,
      {
        schema: {
          summary,
          tags: ['users'],
          headers: AuthHeaders,
          params: UserParams,
          body,
          response: { 200: Type.Array(EmailView), ...errors },
        },
        preHandler: requireAccess(access),
      },
      async function replaceEmails(request) {
        const { user_uuid } = request.params;
        const b = request.body;
        const emails = await users.replaceEmails(
          user_uuid,
          authOf(request).tenantUuid,
          b.emails.map((e) => ({
            address: e.address,
            main: e.main ?? false,
            confirmed: 'confirmed' in e ? e.confirmed : undefined,
          })),
          editor,
        );
        return emails.map(emailView);
      },
    );

  emailRoute(
    '/admin/users/:user_uuid/emails',
    'auth.admin.users.{user_uuid}.emails.update',
    AdminEmailsUpdate,
    'admin',
    'Replace every email address of a user (an administrator may set confirmed)',
  );
  emailRoute(
    '/users/:user_uuid/emails',
    'auth.users.{user_uuid}.emails.update',
    UserEmailsUpdate,
    'user',
    'Replace every email address of a user (new addresses unconfirmed)',
  );
}
