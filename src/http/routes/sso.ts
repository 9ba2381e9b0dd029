// /0.1 single sign-on (issue 23): OpenID Connect relying party.
//   GET    /backends/oidc       auth.backends.oidc.read     the tenant's IdP (client_secret never returned)
//   PUT    /backends/oidc       auth.backends.oidc.update   create or replace (client_secret absent: kept)
//   DELETE /backends/oidc       auth.backends.oidc.delete
//   (writing them also requires granting every access of the tenant's oidc users, and of the mapped groups: src/sso/escalation.ts)
//   POST   /oidc/authorize      none   {domain, redirect_url} → {location, oidc_session_id}
//   GET    /oidc/callback       none   the IdP's redirect (code, state) → 302 redirect_url
// then POST /token {"oidc_session_id": ...} (routes/token.ts).
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { SsoEscalationGuard } from '../../sso/escalation.js';
import type { OidcService, OidcSettings } from '../../sso/oidc-service.js';
import { authOf, type RequireAccess } from '../auth.js';
import { ApiError, AuthHeaders, LegacyError, NoContent, SafeString } from '../schemas/common.js';

export interface SsoRouteDeps {
  oidc: OidcService;
  escalation: SsoEscalationGuard;
  requireAccess: RequireAccess;
}

const Url = Type.String({ minLength: 1, maxLength: 2048 });
const Claim = SafeString({ minLength: 1, maxLength: 128 });
const OidcSettingsBody = Type.Object({
  issuer: Url,
  client_id: SafeString({ minLength: 1, maxLength: 512 }),
  client_secret: Type.Optional(
    Type.Union([Type.String({ minLength: 1, maxLength: 2048 }), Type.Null()], {
      description: 'Write-only, encrypted at rest; absent: the stored one is kept; null: none (a public client)',
    }),
  ),
  callback_url: Type.String({
    minLength: 1,
    maxLength: 2048,
    description: 'Our GET /0.1/oidc/callback as the IdP reaches it (register it as the redirect URI)',
  }),
  scopes: Type.Optional(
    Type.Array(SafeString({ minLength: 1, maxLength: 128 }), { maxItems: 32, description: 'Default: openid email profile' }),
  ),
  user_claim: Type.Optional(
    Type.String({
      ...Claim,
      description: 'The ID token claim naming the user (a username or confirmed email of the tenant); default: email',
    }),
  ),
  group_claim: Type.Optional(Type.Union([Claim, Type.Null()])),
  group_mapping: Type.Optional(
    Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 64 }), {
      maxProperties: 256,
      description:
        'IdP group (a value of group_claim) → group uuid of the tenant the user joins at login. The caller must be ' +
        'able to grant every policy of each mapped group of the tenant (401 otherwise)',
    }),
  ),
  redirect_url_allowlist: Type.Optional(
    Type.Union([Type.Array(Url, { maxItems: 64 }), Type.Null()], {
      description:
        "https origins or URL prefixes that POST /oidc/authorize's redirect_url must be inside; absent or null: any https URL (http: loopback only)",
    }),
  ),
});
const OidcSettingsView = Type.Object({
  issuer: Type.String(),
  client_id: Type.String(),
  callback_url: Type.String(),
  scopes: Type.Array(Type.String()),
  user_claim: Type.String(),
  group_claim: Type.Union([Type.String(), Type.Null()]),
  group_mapping: Type.Record(Type.String(), Type.String()),
  redirect_url_allowlist: Type.Union([Type.Array(Type.String()), Type.Null()]),
});
const AuthorizeBody = Type.Object({
  domain: SafeString({ minLength: 1, maxLength: 253 }),
  redirect_url: Type.String({ minLength: 1, maxLength: 2048 }),
});
const AuthorizeReply = Type.Object({ location: Type.String(), oidc_session_id: Type.String() });
const errors = { 400: ApiError, 401: ApiError, 404: ApiError, 503: ApiError };
/** OpenAPI: the no-escalation rule of IdP settings (src/sso/escalation.ts). */
const IDP_ESCALATION =
  "The IdP vouches for the tenant's users whose authentication method is oidc (theirs, or the tenant's default): " +
  'the caller must grant every access of their tokens (401 unauthorized, details.required_access, nothing changed).';

function view(s: OidcSettings): Static<typeof OidcSettingsView> {
  return {
    issuer: s.issuer,
    client_id: s.client_id,
    callback_url: s.callback_url,
    scopes: s.scopes,
    user_claim: s.user_claim,
    group_claim: s.group_claim,
    group_mapping: s.group_mapping,
    redirect_url_allowlist: s.redirect_url_allowlist,
  };
}

export async function ssoRoutes(instance: FastifyInstance, deps: SsoRouteDeps): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { oidc, escalation, requireAccess } = deps;

  app.get(
    '/backends/oidc',
    {
      schema: {
        summary: "The tenant's OpenID Connect IdP",
        tags: ['sso'],
        headers: AuthHeaders,
        response: { 200: OidcSettingsView, ...errors },
      },
      preHandler: requireAccess('auth.backends.oidc.read'),
    },
    async function getOidcSettings(request) {
      return view(await oidc.getSettings(authOf(request).tenantUuid));
    },
  );

  app.put(
    '/backends/oidc',
    {
      schema: {
        summary: "Create or replace the tenant's OpenID Connect IdP",
        tags: ['sso'],
        headers: AuthHeaders,
        description: IDP_ESCALATION,
        body: OidcSettingsBody,
        response: { 200: OidcSettingsView, ...errors },
      },
      preHandler: requireAccess('auth.backends.oidc.update'),
    },
    async function putOidcSettings(request) {
      const b = request.body;
      const auth = authOf(request);
      await escalation.assertMayConfigureIdp(auth.token, auth.tenantUuid, 'oidc');
      await escalation.assertMayMapGroups(auth.token, auth.tenantUuid, Object.values(b.group_mapping ?? {}));
      return view(
        await oidc.putSettings(auth.tenantUuid, {
          issuer: b.issuer,
          client_id: b.client_id,
          client_secret: b.client_secret,
          callback_url: b.callback_url,
          scopes: b.scopes ?? ['openid', 'email', 'profile'],
          user_claim: b.user_claim ?? 'email',
          group_claim: b.group_claim ?? null,
          group_mapping: b.group_mapping ?? {},
          redirect_url_allowlist: b.redirect_url_allowlist ?? null,
        }),
      );
    },
  );

  app.delete(
    '/backends/oidc',
    {
      schema: {
        summary: "Delete the tenant's OpenID Connect IdP",
        tags: ['sso'],
        headers: AuthHeaders,
        description: IDP_ESCALATION,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.backends.oidc.delete'),
    },
    async function deleteOidcSettings(request, reply) {
      const auth = authOf(request);
      await escalation.assertMayConfigureIdp(auth.token, auth.tenantUuid, 'oidc');
      await oidc.deleteSettings(auth.tenantUuid);
      return reply.code(204).send();
    },
  );

  app.post(
    '/oidc/authorize',
    {
      config: { legacyErrors: true },
      schema: {
        summary: 'Start an OpenID Connect login: send the browser to location, then POST /token with oidc_session_id',
        tags: ['sso'],
        body: AuthorizeBody,
        response: { 200: AuthorizeReply, 400: LegacyError, 401: LegacyError, 404: LegacyError, 503: LegacyError },
      },
    },
    async function oidcAuthorize(request) {
      const b = request.body;
      return oidc.authorize(b.domain, b.redirect_url);
    },
  );

  app.get(
    '/oidc/callback',
    {
      config: { legacyErrors: true },
      schema: {
        summary: "The IdP's redirect after the login (authorization code): 302 to the redirect_url of POST /oidc/authorize",
        tags: ['sso'],
        querystring: Type.Object(
          { code: Type.Optional(Type.String({ maxLength: 4096 })), state: Type.Optional(Type.String({ maxLength: 512 })) },
          { additionalProperties: true },
        ),
        response: { 400: LegacyError, 401: LegacyError, 503: LegacyError },
      },
    },
    async function oidcCallback(request, reply) {
      const location = await oidc.callback(new URL(request.url, 'http://callback.invalid'));
      return reply.redirect(location, 302);
    },
  );
}
