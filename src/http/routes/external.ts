// External accounts (issue 22), as wazo-auth has them.
//   GET    /external/:auth_type/config       auth.{auth_type}.external.config.read
//   POST   /external/:auth_type/config       auth.{auth_type}.external.config.create
//   PUT    /external/:auth_type/config       auth.{auth_type}.external.config.update (an ACL's `edit` also grants it)
//   DELETE /external/:auth_type/config       auth.{auth_type}.external.config.delete
//   GET    /external/:auth_type/users        auth.{auth_type}.external.users.read
//   GET    /users/:user_uuid/external        auth.users.{user_uuid}.external.read
//   POST|GET|PUT|DELETE /users/:user_uuid/external/mobile   auth.users.{user_uuid}.external.mobile.create|read|update|delete
//   GET    /users/:user_uuid/external/mobile/sender_id      auth.users.{user_uuid}.external.mobile.sender_id.read
//   POST|GET|DELETE /users/:user_uuid/external/{google,microsoft}  auth.users.{user_uuid}.external.<type>.create|read|delete
// `me` as user_uuid is the caller (its token's user): a token granting
// `auth.users.me.external.mobile.#` manages its own push tokens.
// Write-only fields of a configuration (client_secret, push credentials)
// are accepted and never returned: the response schemas do not name them.
import type { Static, TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import { InvalidListParamError } from '../../errors.js';
import type { ExternalAuthService, MobileTokens } from '../../external/service.js';
import type { OAuthProviderType } from '../../external/types.js';
import { authOf, type RequireAccess } from '../auth.js';
import { ApiError, AuthHeaders, ListParams, listOf, NoContent, SafeString } from '../schemas/common.js';

const TypeParams = Type.Object({ auth_type: SafeString({ minLength: 1, maxLength: 64 }) });
const UserParams = Type.Object({ user_uuid: SafeString({ maxLength: 64, description: 'A user uuid, or `me` (the caller)' }) });

const nullable = <T extends TSchema>(schema: T, description: string) =>
  Type.Optional(Type.Union([schema, Type.Null()], { description }));
const Text = (maxLength: number) => SafeString({ minLength: 1, maxLength });

const ConfigBody = Type.Object(
  {
    client_id: nullable(Text(256), 'google, microsoft (required): the OAuth client of the tenant at the provider'),
    client_secret: nullable(
      Text(256),
      'google, microsoft: write-only; absent on PUT keeps the stored one while client_id is unchanged; null removes it (a public client)',
    ),
    fcm_sender_id: nullable(
      Text(256),
      'mobile: the Firebase sender id the mobile app registers with (GET /users/{user_uuid}/external/mobile/sender_id)',
    ),
    fcm_service_account_info: nullable(
      Type.Union([Text(32768), Type.Object({}, { additionalProperties: true })]),
      'mobile: write-only, the Firebase service account (JSON)',
    ),
    fcm_api_key: nullable(Text(1024), 'mobile: write-only, legacy Firebase server key'),
    ios_apn_certificate: nullable(Text(16384), 'mobile: the APNs certificate (PEM)'),
    ios_apn_private: nullable(Text(16384), 'mobile: write-only, the APNs private key (PEM)'),
    use_sandbox: nullable(Type.Boolean(), 'mobile: use the APNs sandbox'),
  },
  { additionalProperties: false, description: 'The fields of the type (others: 400); write-only ones are never returned' },
);

const ConfigView = Type.Object(
  {
    client_id: Type.Optional(Type.String()),
    fcm_sender_id: Type.Optional(Type.String()),
    ios_apn_certificate: Type.Optional(Type.String()),
    use_sandbox: Type.Optional(Type.Boolean()),
  },
  { description: 'A configuration without its write-only fields' },
);

const ExternalItem = Type.Object({
  type: Type.String(),
  enabled: Type.Boolean({ description: 'The user is connected to this type' }),
  data: Type.Object({}, { additionalProperties: true, description: 'Nothing secret (empty)' }),
  plugin_info: Type.Object({}, { additionalProperties: true }),
});

const ConnectedUser = Type.Object({ uuid: Type.String() });
const ConnectedUsersParams = Type.Object({
  recurse: ListParams.properties.recurse,
  limit: ListParams.properties.limit,
  offset: ListParams.properties.offset,
});

const MobileToken = (description: string) =>
  Type.Optional(Type.Union([SafeString({ maxLength: 512 }), Type.Null()], { description }));
const MobileBody = Type.Object(
  {
    token: Type.Optional(
      Type.Union([SafeString({ minLength: 1, maxLength: 512 }), Type.Null()], { description: 'FCM registration token' }),
    ),
    apns_token: MobileToken('APNs VoIP device token (deprecated: apns_voip_token)'),
    apns_voip_token: MobileToken('APNs VoIP device token'),
    apns_notification_token: MobileToken('APNs notification device token'),
  },
  { additionalProperties: false },
);
const MobileView = Type.Object({
  token: Type.Union([Type.String(), Type.Null()]),
  apns_token: Type.Union([Type.String(), Type.Null()]),
  apns_voip_token: Type.Union([Type.String(), Type.Null()]),
  apns_notification_token: Type.Union([Type.String(), Type.Null()]),
});

const OAuthStart = Type.Object(
  {
    scope: Type.Optional(
      Type.Array(SafeString({ minLength: 1, maxLength: 512 }), {
        minItems: 1,
        maxItems: 64,
        description: 'Scopes to ask for; default: the configured ones',
      }),
    ),
  },
  { additionalProperties: false },
);
const OAuthStarted = Type.Object(
  {
    verification_uri: Type.String({ description: 'Where the user goes to approve' }),
    verification_uri_complete: Type.Union([Type.String(), Type.Null()], {
      description: 'The same with the code filled in, when the provider gives one',
    }),
    user_code: Type.String({ description: 'The code the user types there' }),
    expires_in: Type.Number({ description: 'Seconds the code is valid' }),
    interval: Type.Number({ description: 'Seconds between polls of the provider' }),
  },
  {
    description:
      'The device authorization started (RFC 8628); xivo-auth polls the provider and stores the tokens when the user approves',
  },
);
const OAuthToken = Type.Object({
  access_token: Type.String(),
  expires_at: Type.Union([Type.String(), Type.Null()], {
    description: 'ISO 8601 (UTC); null when the provider gave no lifetime',
  }),
  token_expiration: Type.Union([Type.Integer(), Type.Null()], {
    description: 'The same, in seconds since the epoch (wazo-auth)',
  }),
  scope: Type.Array(Type.String()),
});

const errors = { 400: ApiError, 401: ApiError, 404: ApiError, 409: ApiError, 503: ApiError };

/** The instance the mobile and provider routes are added to: typed by their schemas. */
type TypedApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;
const tags = ['external'];

/** `me` → the caller's user. */
function userOf(request: FastifyRequest & { params: Static<typeof UserParams> }): string {
  const { user_uuid } = request.params;
  return user_uuid === 'me' ? (authOf(request).token.userUuid ?? '') : user_uuid;
}

function mobileTokens(b: Static<typeof MobileBody> | undefined): MobileTokens {
  return {
    token: b?.token ?? null,
    apns_token: b?.apns_token ?? null,
    apns_voip_token: b?.apns_voip_token ?? null,
    apns_notification_token: b?.apns_notification_token ?? null,
  };
}

export async function externalRoutes(
  instance: FastifyInstance,
  deps: { external: ExternalAuthService; requireAccess: RequireAccess },
): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { external, requireAccess } = deps;

  // ---- configuration of the acting tenant (Wazo-Tenant, else the caller's)

  app.get(
    '/external/:auth_type/config',
    {
      schema: {
        summary: 'Configuration of an external auth type for the tenant (write-only fields left out)',
        tags,
        headers: AuthHeaders,
        params: TypeParams,
        response: { 200: ConfigView, ...errors },
      },
      preHandler: requireAccess('auth.{auth_type}.external.config.read'),
    },
    async function getExternalConfig(request) {
      const { auth_type } = request.params;
      return external.getConfig(auth_type, authOf(request).tenantUuid);
    },
  );

  app.post(
    '/external/:auth_type/config',
    {
      schema: {
        summary: 'Configure an external auth type for the tenant (409 when configured)',
        tags,
        headers: AuthHeaders,
        params: TypeParams,
        body: ConfigBody,
        response: { 201: ConfigView, ...errors },
      },
      preHandler: requireAccess('auth.{auth_type}.external.config.create'),
    },
    async function createExternalConfig(request, reply) {
      const { auth_type } = request.params;
      const view = await external.createConfig(auth_type, authOf(request).tenantUuid, request.body);
      return reply.code(201).send(view);
    },
  );

  app.put(
    '/external/:auth_type/config',
    {
      schema: {
        summary: 'Replace the configuration of an external auth type for the tenant',
        tags,
        headers: AuthHeaders,
        params: TypeParams,
        body: ConfigBody,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.{auth_type}.external.config.update'),
    },
    async function replaceExternalConfig(request, reply) {
      const { auth_type } = request.params;
      await external.replaceConfig(auth_type, authOf(request).tenantUuid, request.body);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/external/:auth_type/config',
    {
      schema: {
        summary: 'Remove the configuration of an external auth type for the tenant',
        tags,
        headers: AuthHeaders,
        params: TypeParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.{auth_type}.external.config.delete'),
    },
    async function deleteExternalConfig(request, reply) {
      const { auth_type } = request.params;
      await external.deleteConfig(auth_type, authOf(request).tenantUuid);
      return reply.code(204).send();
    },
  );

  app.get(
    '/external/:auth_type/users',
    {
      schema: {
        summary: 'Users of the tenant (recurse: and below) connected to the type and logged in (holding a live token)',
        tags,
        headers: AuthHeaders,
        params: TypeParams,
        querystring: ConnectedUsersParams,
        response: { 200: listOf(ConnectedUser), ...errors },
      },
      preHandler: requireAccess('auth.{auth_type}.external.users.read'),
    },
    async function listConnectedUsers(request) {
      const { auth_type } = request.params;
      const q = request.query;
      return external.connectedUsers(auth_type, authOf(request).tenantUuid, q);
    },
  );

  // ---- a user's connections

  app.get(
    '/users/:user_uuid/external',
    {
      schema: {
        summary: 'Every enabled external auth type, with whether the user is connected to it (nothing secret)',
        tags: ['users', ...tags],
        headers: AuthHeaders,
        params: UserParams,
        querystring: ListParams,
        response: { 200: listOf(ExternalItem), ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.external.read'),
    },
    async function listUserExternal(request) {
      const q = request.query;
      if (q.order !== undefined && q.order !== 'type') {
        throw new InvalidListParamError('Invalid order column', { order: { constraint_id: 'enum', message: 'one of type' } });
      }
      const result = await external.list(userOf(request), authOf(request).tenantUuid, q);
      return {
        ...result,
        items: result.items.map((i) => ({ type: i.type, enabled: i.enabled, data: i.data, plugin_info: i.pluginInfo })),
      };
    },
  );

  if (external.isEnabled('mobile')) mobileRoutes(app, external, requireAccess);
  for (const type of ['google', 'microsoft'] as const) {
    if (external.isEnabled(type)) providerRoutes(app, external, requireAccess, type);
  }
}

function mobileRoutes(app: TypedApp, external: ExternalAuthService, requireAccess: RequireAccess): void {
  const url = '/users/:user_uuid/external/mobile';
  const mobileTags = ['users', 'mobile'];

  app.post(
    url,
    {
      schema: {
        summary: "Register the push tokens of the user's mobile app (409 when registered: PUT replaces)",
        tags: mobileTags,
        headers: AuthHeaders,
        params: UserParams,
        body: MobileBody,
        response: { 201: MobileView, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.external.mobile.create'),
    },
    async function createMobile(request, reply) {
      const tokens = await external.createMobile(userOf(request), authOf(request).tenantUuid, mobileTokens(request.body));
      return reply.code(201).send(tokens);
    },
  );

  app.put(
    url,
    {
      schema: {
        summary: "Register or replace the push tokens of the user's mobile app",
        tags: mobileTags,
        headers: AuthHeaders,
        params: UserParams,
        body: MobileBody,
        response: { 200: MobileView, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.external.mobile.update'),
    },
    async function putMobile(request) {
      return external.putMobile(userOf(request), authOf(request).tenantUuid, mobileTokens(request.body));
    },
  );

  app.get(
    url,
    {
      schema: {
        summary: "The push tokens of the user's mobile app",
        tags: mobileTags,
        headers: AuthHeaders,
        params: UserParams,
        response: { 200: MobileView, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.external.mobile.read'),
    },
    async function getMobile(request) {
      return external.getMobile(userOf(request), authOf(request).tenantUuid);
    },
  );

  app.delete(
    url,
    {
      schema: {
        summary: "Forget the push tokens of the user's mobile app",
        tags: mobileTags,
        headers: AuthHeaders,
        params: UserParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.external.mobile.delete'),
    },
    async function deleteMobile(request, reply) {
      await external.deleteMobile(userOf(request), authOf(request).tenantUuid);
      return reply.code(204).send();
    },
  );

  app.get(
    `${url}/sender_id`,
    {
      schema: {
        summary: "The FCM sender id of the user's tenant (404 when not configured)",
        tags: mobileTags,
        headers: AuthHeaders,
        params: UserParams,
        response: { 200: Type.Object({ sender_id: Type.String() }), ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.external.mobile.sender_id.read'),
    },
    async function getMobileSenderId(request) {
      return { sender_id: await external.mobileSenderId(userOf(request), authOf(request).tenantUuid) };
    },
  );
}

function providerRoutes(
  app: TypedApp,
  external: ExternalAuthService,
  requireAccess: RequireAccess,
  type: OAuthProviderType,
): void {
  const url = `/users/:user_uuid/external/${type}`;
  const name = type === 'google' ? 'Google' : 'Microsoft';
  const providerTags = ['users', type];

  app.post(
    url,
    {
      schema: {
        summary: `Connect the user to ${name}: starts a device authorization (the user approves at verification_uri with user_code)`,
        tags: providerTags,
        headers: AuthHeaders,
        params: UserParams,
        body: OAuthStart,
        response: { 201: OAuthStarted, ...errors },
      },
      preHandler: requireAccess(`auth.users.{user_uuid}.external.${type}.create`),
    },
    async function startProviderAuthorization(request, reply) {
      const started = await external.startAuthorization(type, userOf(request), authOf(request).tenantUuid, request.body.scope);
      return reply.code(201).send({
        verification_uri: started.verificationUri,
        verification_uri_complete: started.verificationUriComplete,
        user_code: started.userCode,
        expires_in: started.expiresIn,
        interval: started.interval,
      });
    },
  );

  app.get(
    url,
    {
      schema: {
        summary: `The user's ${name} access token, refreshed when about to expire (404 while the authorization is not completed)`,
        tags: providerTags,
        headers: AuthHeaders,
        params: UserParams,
        response: { 200: OAuthToken, ...errors },
      },
      preHandler: requireAccess(`auth.users.{user_uuid}.external.${type}.read`),
    },
    async function getProviderToken(request) {
      const token = await external.getToken(type, userOf(request), authOf(request).tenantUuid);
      return {
        access_token: token.accessToken,
        expires_at: token.expiresAt === null ? null : new Date(token.expiresAt).toISOString(),
        token_expiration: token.expiresAt === null ? null : Math.floor(token.expiresAt / 1000),
        scope: token.scope,
      };
    },
  );

  app.delete(
    url,
    {
      schema: {
        summary: `Forget the user's ${name} connection (revoked at ${name} when it has a revocation endpoint)`,
        tags: providerTags,
        headers: AuthHeaders,
        params: UserParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess(`auth.users.{user_uuid}.external.${type}.delete`),
    },
    async function deleteProviderConnection(request, reply) {
      await external.deleteConnection(type, userOf(request), authOf(request).tenantUuid);
      return reply.code(204).send();
    },
  );
}
