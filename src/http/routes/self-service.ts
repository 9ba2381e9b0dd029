// Self-service accounts (issue 21): email confirmation, password reset,
// registration.
//   GET  /users/{user_uuid}/emails/{email_uuid}/confirm  auth.users.{user_uuid}.emails.{email_uuid}.confirm.read (re-send, 204)
//   GET  /emails/{email_uuid}/confirm?token=            auth.emails.{email_uuid}.confirm.update (the mail's link; templated answer)
//   PUT  /emails/{email_uuid}/confirm                   auth.emails.{email_uuid}.confirm.update (204)
//   GET  /users/password/reset?username=|email=|login=  none (always 204; mails a reset link)
//   POST /users/password/reset?user_uuid=               auth.users.password.reset.{user_uuid}.create (X-Auth-Token or ?token=)
//   POST /users/register                                none; enabled_http_plugins.user_registration (off by default)
// The emailed tokens' routes take the token from X-Auth-Token or from
// `?token=` (a link in a mail cannot set a header); an emailed token is used
// once. An ACL's `edit` segment grants `update` (the confirmation token's ACL
// is wazo-auth's `auth.emails.{e}.confirm.edit`).
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidDataError, NoSuchTokenError, UnauthorizedError } from '../../errors.js';
import { EMAILED_TOKEN_AUTH_ID, type ResetLogin, type SelfService } from '../../identity/self-service.js';
import type { UserService } from '../../identity/users.js';
import type { TokenRecord } from '../../tokens/types.js';
import type { TokenService } from '../../login/token-service.js';
import { authOf, requiredAccessFor, type RequireAccess } from '../auth.js';
import { ApiError, AuthHeaders, NoContent, SafeString } from '../schemas/common.js';
import { UserView, userView } from './users.js';

export interface SelfServiceRouteDeps {
  selfService: SelfService;
  users: UserService;
  tokens: TokenService;
  requireAccess: RequireAccess;
  /** enabled_http_plugins: email_confirm, password_reset, user_registration. */
  plugins: { emailConfirm: boolean; passwordReset: boolean; userRegistration: boolean };
  /** email_confirmation_get_mimetype. */
  confirmedPageMimetype: string;
}

const Email = Type.String({ maxLength: 254, pattern: '^[^@\\s\\u0000]+@[^@\\s\\u0000]+$' });
const Password = Type.String({ minLength: 1, maxLength: 1024 });
const TokenQuery = Type.Optional(
  SafeString({ maxLength: 512, description: 'The emailed token, when X-Auth-Token is not set (a link in a mail)' }),
);
const UserEmailParams = Type.Object({ user_uuid: SafeString({ maxLength: 64 }), email_uuid: SafeString({ maxLength: 64 }) });
const EmailParams = Type.Object({ email_uuid: SafeString({ maxLength: 64 }) });
const errors = { 400: ApiError, 401: ApiError, 404: ApiError, 409: ApiError, 429: ApiError, 503: ApiError };

const ResetRequestQuery = Type.Object({
  username: Type.Optional(SafeString({ minLength: 1, maxLength: 256, description: 'A username' })),
  email: Type.Optional(Type.String({ ...Email, description: 'A confirmed email address' })),
  login: Type.Optional(SafeString({ minLength: 1, maxLength: 256, description: 'A username or a confirmed email address' })),
});

const ResetQuery = Type.Object({
  user_uuid: SafeString({
    minLength: 1,
    maxLength: 64,
    description: 'The user whose password is reset (named by the reset link)',
  }),
  token: TokenQuery,
});

const ResetBody = Type.Object({
  password: Type.Union([Password, Type.Null()], {
    description: 'The new password (the password policy applies); null removes the password',
  }),
});

const RegisterBody = Type.Object({
  username: SafeString({ minLength: 1, maxLength: 256 }),
  password: Password,
  firstname: Type.Optional(Type.Union([SafeString({ maxLength: 128 }), Type.Null()])),
  lastname: Type.Optional(Type.Union([SafeString({ maxLength: 128 }), Type.Null()])),
  email_address: Email,
});

const TokenHeaders = Type.Object({
  'x-auth-token': Type.Optional(Type.String({ description: 'The emailed token (or ?token=), or any token granting the access' })),
});

/**
 * The guard of the emailed tokens' routes: X-Auth-Token, else `?token=`,
 * must grant `template` (filled from the path, or `extra`); the handler
 * gets the token (it uses an emailed one up). The request gets no `auth`:
 * an emailed token names nobody, so the audit of these changes is attached
 * to no tenant (the top tenant sees it), never to a tenant named ''.
 */
async function tokenGranting(
  tokens: TokenService,
  request: FastifyRequest & { query: { token?: string } },
  template: string,
  extra: Record<string, string> = {},
): Promise<{ token: string; access: string; record: TokenRecord }> {
  // Shared by routes with different params (none on the reset route): the
  // template names only those its route has, as requireAccess does.
  const access = requiredAccessFor(template, { ...((request.params ?? {}) as Record<string, string>), ...extra });
  const header = request.headers['x-auth-token'];
  const query = request.query.token;
  const token =
    typeof header === 'string' && header.length > 0 ? header : typeof query === 'string' && query.length > 0 ? query : null;
  if (token === null) throw new UnauthorizedError(null, 'not_found_or_expired', access);
  let record: TokenRecord;
  try {
    const entry = await tokens.lookup(token);
    if (!entry.acl.matches(access, entry.record))
      throw new UnauthorizedError(token, 'missing_permission_or_invalid_tenant', access);
    record = entry.record;
  } catch (err) {
    if (err instanceof NoSuchTokenError) throw new UnauthorizedError(token, 'not_found_or_expired', access);
    throw err;
  }
  return { token, access, record };
}

/** Exactly one of username, email, login (wazo-auth: else 400). */
function resetLogin(q: Static<typeof ResetRequestQuery>): ResetLogin {
  const given = (['username', 'email', 'login'] as const).filter((k) => q[k] !== undefined);
  if (given.length !== 1) {
    const message = '"username", "email" or "login" should be used';
    throw new InvalidDataError(message, { _schema: { constraint_id: 'exactly_one', message } });
  }
  return { by: given[0], value: q[given[0]] as string };
}

export async function selfServiceRoutes(instance: FastifyInstance, deps: SelfServiceRouteDeps): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { selfService, users, tokens, requireAccess, plugins } = deps;

  app.get(
    '/users/:user_uuid/emails/:email_uuid/confirm',
    {
      schema: {
        summary: 'Send the confirmation mail of an address again',
        tags: ['users'],
        headers: AuthHeaders,
        params: UserEmailParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.emails.{email_uuid}.confirm.read'),
    },
    async function resendConfirmation(request, reply) {
      const { user_uuid, email_uuid } = request.params;
      const user = await users.get(user_uuid, authOf(request).tenantUuid);
      await selfService.resendConfirmation(user, email_uuid, request.ip);
      return reply.code(204).send();
    },
  );

  if (plugins.emailConfirm) {
    const html = /html/i.test(deps.confirmedPageMimetype);
    app.get(
      '/emails/:email_uuid/confirm',
      {
        schema: {
          summary: 'Confirm an address from the link of its mail (answers email_confirmation_get_response_body_template)',
          description: 'The token is the emailed one (?token=, or X-Auth-Token); it is used once.',
          tags: ['emails'],
          headers: TokenHeaders,
          params: EmailParams,
          querystring: Type.Object({ token: TokenQuery }),
        },
      },
      async function confirmFromLink(request, reply) {
        const { email_uuid } = request.params;
        const { token, access } = await tokenGranting(tokens, request, 'auth.emails.{email_uuid}.confirm.update');
        const confirmed = await selfService.confirmEmail(email_uuid, token, access, 'link', request.ip);
        return reply.code(200).type(deps.confirmedPageMimetype).send(selfService.confirmedPage(confirmed, html));
      },
    );

    app.put(
      '/emails/:email_uuid/confirm',
      {
        schema: {
          summary: 'Confirm an address',
          tags: ['emails'],
          headers: TokenHeaders,
          params: EmailParams,
          querystring: Type.Object({ token: TokenQuery }),
          response: { 204: NoContent, ...errors },
        },
      },
      async function confirmEmail(request, reply) {
        const { email_uuid } = request.params;
        const { token, access } = await tokenGranting(tokens, request, 'auth.emails.{email_uuid}.confirm.update');
        await selfService.confirmEmail(email_uuid, token, access, 'api', request.ip);
        return reply.code(204).send();
      },
    );
  }

  if (plugins.passwordReset) {
    app.get(
      '/users/password/reset',
      {
        schema: {
          summary: 'Ask for a password reset mail (always 204)',
          description:
            'Exactly one of username, email (a confirmed address) or login (either). The answer is the same, in the same time, ' +
            'whether the account exists or not; an existing, enabled account with a confirmed address is mailed a reset link.',
          tags: ['users'],
          querystring: ResetRequestQuery,
          response: { 204: NoContent, ...errors },
        },
      },
      async function requestPasswordReset(request, reply) {
        selfService.requestPasswordReset(resetLogin(request.query), request.ip);
        return reply.code(204).send();
      },
    );

    app.post(
      '/users/password/reset',
      {
        schema: {
          summary: 'Set (or remove) a password with the emailed reset token; ends every session of the user',
          description:
            'With the emailed reset token, or with a token granting auth.users.password.reset.{user_uuid}.create: then the user must be in ' +
            "the token's tenant subtree (else 404) and the token must hold every access the user's tokens get (else 401, the no-escalation rule).",
          tags: ['users'],
          headers: TokenHeaders,
          querystring: ResetQuery,
          body: ResetBody,
          response: { 204: NoContent, ...errors },
        },
      },
      async function resetPassword(request, reply) {
        const { user_uuid } = request.query;
        const { token, access, record } = await tokenGranting(tokens, request, 'auth.users.password.reset.{user_uuid}.create', {
          user_uuid,
        });
        // An administrator's own token (not the emailed one) may set only the
        // password of a user it could act as.
        if (record.authId !== EMAILED_TOKEN_AUTH_ID) await users.assertMayResetPassword(record, user_uuid);
        const { password } = request.body;
        await selfService.resetPassword(user_uuid, token, access, password, request.ip);
        return reply.code(204).send();
      },
    );
  }

  if (plugins.userRegistration) {
    app.post(
      '/users/register',
      {
        schema: {
          summary: 'Register: a new tenant named after the username, its user and unconfirmed address, and the confirmation mail',
          description:
            'Off unless enabled_http_plugins.user_registration is true: anyone reaching the API can then create a tenant.',
          tags: ['users'],
          body: RegisterBody,
          response: { 200: UserView, ...errors },
        },
      },
      async function register(request) {
        const b = request.body;
        const user = await selfService.register(
          {
            username: b.username,
            password: b.password,
            firstname: b.firstname ?? null,
            lastname: b.lastname ?? null,
            emailAddress: b.email_address,
          },
          request.ip,
        );
        return userView(user);
      },
    );
  }
}
