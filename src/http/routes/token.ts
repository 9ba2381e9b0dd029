// /0.1/token: create, check, revoke, scope checks; refresh-token management.
//   POST   /token                         create (Basic or refresh token)
//   GET    /token/:token                  details        HEAD /token/:token  check
//   DELETE /token/:token                  revoke
//   POST   /token/:token/scopes/check     several scopes at once
//   GET    /tokens, /users/:user_uuid/tokens, /users/me/tokens
//   DELETE /users/:user_uuid/tokens/:client_id, /users/me/tokens/:client_id
import type { Static } from '@sinclair/typebox';
import { Type, type TSchema } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthenticationFailedError, InvalidDataError, NotFoundError } from '../../errors.js';
import type { ProvenPrincipal } from '../../backends/types.js';
import type { RefreshToken, TokenRecord } from '../../tokens/types.js';
import type { LoginGuard } from '../../login/login-guard.js';
import type { Credentials, TokenService, WithinIssueCommit } from '../../login/token-service.js';
import { formatLocal, formatUtc } from '../../tokens/time-format.js';
import { authOf, type RequireAccess } from '../auth.js';
import { parseBasicAuth } from '../credentials.js';
import { listQuery } from '../list-params.js';
import { checkDecision } from '../token-check.js';
import { ApiError, AuthHeaders, LegacyError, listOf, NoContent, SafeString } from '../schemas/common.js';
import {
  REFRESH_TOKEN_ORDERS,
  RefreshTokenItem,
  RefreshTokenListParams,
  ScopesCheckRequest,
  ScopesCheckResponse,
  TokenCheckQuery,
  TokenEnvelope,
  TokenLoginError,
  TokenParams,
  TokenRequest,
} from '../schemas/token.js';
import { MfaEnrolmentRequiredError } from '../../mfa/errors.js';
import type { SsoLogins } from '../../sso/types.js';

export interface TokenRouteDeps {
  tokens: TokenService;
  requireAccess: RequireAccess;
  users: { exists(uuid: string, scopeRoot: string): Promise<boolean> };
  /** Backend for POST /token when the body names none. */
  defaultBackend: (body: { tenant_id?: string; domain_name?: string }) => Promise<string>;
  /** Brute-force protection and audit of logins (src/login/login-guard.ts). */
  loginGuard?: LoginGuard;
  /** saml_session_id / oidc_session_id logins (issue 23, src/sso/sso-login.ts); absent: 401. */
  sso?: SsoLogins;
  /** The second step of a single sign-on login with a second factor (issue 24, src/mfa/service.ts); absent: none. */
  ssoChallenges?: SsoChallenges;
}

/** What an mfa_challenge given to a single sign-on login carries: the principal the identity provider proved. */
export interface SsoChallenges {
  /** Null: not a live single sign-on challenge (the gate then verifies and uses it). */
  principalOf(
    mfaChallenge: string,
  ): Promise<{ method: 'saml' | 'oidc'; principal: ProvenPrincipal; ref: string | null; provenUntil: number } | null>;
}

const legacy = { legacyErrors: true };
/**
 * Scopes of one POST /token/{token}/scopes/check matched between two turns of
 * the event loop (the list itself is bounded by MAX_SCOPES_PER_CHECK).
 */
const SCOPES_PER_SLICE = 10;
const legacyErrorResponses = {
  400: LegacyError,
  401: LegacyError,
  403: LegacyError,
  404: LegacyError,
  429: LegacyError,
  503: LegacyError,
};

export function tokenView(
  token: string,
  record: TokenRecord,
  refreshToken: string | null = null,
): Static<typeof TokenEnvelope>['data'] {
  const view: Static<typeof TokenEnvelope>['data'] = {
    token,
    uuid: record.userUuid,
    auth_id: record.authId,
    xivo_user_uuid: record.pbxUserUuid,
    xivo_uuid: record.xivoUuid,
    issued_at: formatLocal(record.issuedAt),
    expires_at: formatLocal(record.expiresAt),
    utc_issued_at: formatUtc(record.issuedAt),
    utc_expires_at: formatUtc(record.expiresAt),
    acl: record.acl,
    metadata: record.metadata,
    session_uuid: record.sessionUuid,
    remote_addr: record.remoteAddr,
    user_agent: record.userAgent,
  };
  if (refreshToken !== null) view.refresh_token = refreshToken;
  return view;
}

function refreshTokenView(rt: RefreshToken): Static<typeof RefreshTokenItem> {
  return {
    client_id: rt.clientId,
    // wazo-auth dumps a timestamptz: ISO 8601 with its offset.
    created_at: `${formatUtc(rt.createdAt)}+00:00`,
    mobile: rt.mobile,
    user_uuid: rt.userUuid,
    tenant_uuid: rt.tenantUuid,
    // wazo-auth's persistent metadata of the backend; xivo-auth's backends keep none.
    metadata: {},
  };
}

function headerValue(request: FastifyRequest, name: string): string | null {
  const v = request.headers[name];
  return typeof v === 'string' ? v : null;
}

/** Cross-field rules of POST /token, all 400. */
function assertCoherent(body: Static<typeof TokenRequest>): void {
  const offline = body.access_type === 'offline';
  if (offline && body.refresh_token !== undefined) {
    throw new InvalidDataError('access_type offline cannot be used with a refresh_token', {
      access_type: { constraint_id: 'conflict' },
    });
  }
  if (offline && body.client_id === undefined) {
    throw new InvalidDataError('client_id is required with access_type offline', { client_id: { constraint_id: 'required' } });
  }
  if (body.refresh_token !== undefined && body.client_id === undefined) {
    throw new InvalidDataError('client_id is required with a refresh_token', { client_id: { constraint_id: 'required' } });
  }
  const sso = [body.saml_session_id, body.oidc_session_id].filter((v) => v !== undefined).length;
  if (sso > 0 && body.refresh_token !== undefined) {
    throw new InvalidDataError('a refresh_token cannot be used with a saml_session_id or oidc_session_id', {
      refresh_token: { constraint_id: 'conflict' },
    });
  }
  if (sso > 1) {
    throw new InvalidDataError('saml_session_id and oidc_session_id are mutually exclusive', {
      saml_session_id: { constraint_id: 'conflict' },
    });
  }
  if (body.tenant_id !== undefined && body.domain_name !== undefined) {
    throw new InvalidDataError('tenant_id and domain_name are mutually exclusive', { tenant_id: { constraint_id: 'conflict' } });
  }
}

export async function tokenRoutes(instance: FastifyInstance, deps: TokenRouteDeps): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { tokens, requireAccess } = deps;

  app.post(
    '/token',
    {
      config: legacy,
      schema: {
        summary: 'Create a token',
        description:
          'Basic credentials (login:password), or a refresh_token with its client_id. ' +
          'A user with a confirmed second factor first gets 401 error_id mfa-required with details {mfa_challenge, factors}; ' +
          'the client repeats the request (Basic credentials and the same parameters) with mfa_challenge and totp or recovery_code ' +
          '(README "Multi-factor authentication"). A single sign-on login (oidc_session_id, saml_session_id) of such a user gets the same ' +
          '401 mfa-required (unless mfa.trust_identity_provider); its second step is the challenge and the code alone, without credentials ' +
          '(the challenge carries the user the identity provider proved) and with the same parameters. ' +
          "A user mfa.required_for (configuration, or the tenant's: GET/PUT /tenants/{tenant_uuid}/mfa) names without a factor gets 401 mfa-enrolment-required " +
          'with details.token, a token that can only enrol. ' +
          "The answer's Wazo-Sessions-Revoked header counts the pre-existing sessions the login revoked: " +
          "an offline login with Wazo-Session-Type: mobile supersedes the user's other mobile refresh tokens " +
          'and revokes their sessions; otherwise 0.',
        tags: ['token'],
        body: TokenRequest,
        headers: Type.Object({
          authorization: Type.Optional(Type.String()),
          'wazo-session-type': Type.Optional(Type.String()),
        }),
        response: { 200: TokenEnvelope, ...legacyErrorResponses, 401: TokenLoginError },
      },
    },
    async function createToken(request, reply) {
      const body = request.body;
      if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new InvalidDataError('A JSON object is required');
      }
      assertCoherent(body);
      let credentials: Credentials;
      let backend: string | undefined = body.backend;
      let ssoRef: string | null = null;
      if (body.refresh_token !== undefined) {
        credentials = { kind: 'refresh', refreshToken: body.refresh_token };
      } else if (body.saml_session_id !== undefined || body.oidc_session_id !== undefined) {
        // Single sign-on (issue 23): the IdP proved the user; the session is used up here.
        if (deps.sso === undefined) throw new AuthenticationFailedError();
        const method = body.saml_session_id !== undefined ? 'saml' : 'oidc';
        const consumed = await deps.sso.consume(method, (body.saml_session_id ?? body.oidc_session_id) as string);
        credentials = { kind: 'sso', method, principal: consumed.principal, ref: consumed.ref };
        ssoRef = consumed.ref;
        // The local user, as wazo-auth's SAML logins (refresh tokens then work through it).
        backend = 'xivo_user';
      } else {
        const basic = parseBasicAuth(headerValue(request, 'authorization') ?? undefined);
        if (basic !== null) {
          credentials = { kind: 'password', ...basic };
        } else {
          // No credentials but an mfa_challenge: the second step of a single
          // sign-on login (issue 24), whose challenge carries the user the
          // identity provider proved; anything else is 401.
          const carried =
            body.mfa_challenge !== undefined && deps.ssoChallenges !== undefined
              ? await deps.ssoChallenges.principalOf(body.mfa_challenge)
              : null;
          if (carried === null) throw new AuthenticationFailedError();
          credentials = {
            kind: 'sso',
            method: carried.method,
            principal: carried.principal,
            ref: carried.ref,
            provenUntil: carried.provenUntil,
          };
          ssoRef = carried.ref;
          backend = 'xivo_user';
        }
      }
      backend ??= await deps.defaultBackend(body);
      const issue = (withinCommit?: WithinIssueCommit) =>
        tokens.issue(
          credentials,
          {
            backend,
            expiration: body.expiration ?? null,
            accessType: body.access_type ?? 'online',
            clientId: body.client_id ?? null,
            tenantId: body.tenant_id ?? null,
            domainName: body.domain_name ?? null,
            remoteAddr: request.ip ?? null,
            userAgent: headerValue(request, 'user-agent')?.slice(0, 1024) ?? null,
            mobile: headerValue(request, 'wazo-session-type')?.toLowerCase() === 'mobile',
            secondFactor:
              body.mfa_challenge === undefined
                ? null
                : {
                    challenge: body.mfa_challenge,
                    totp: body.totp ?? null,
                    recoveryCode: body.recovery_code ?? null,
                    webauthn: body.webauthn ?? null,
                  },
          },
          withinCommit,
        );
      const issued = deps.loginGuard ? await deps.loginGuard.run(credentials, request.ip ?? null, issue) : await issue();
      if (issued.restricted === 'mfa-enrolment-required') {
        // The login is done, with a token that can only enrol (auth.users.me.mfa.#).
        throw new MfaEnrolmentRequiredError({
          token: issued.token,
          expires_at: formatUtc(issued.record.expiresAt),
          acl: issued.record.acl,
        });
      }
      if (ssoRef !== null) await deps.sso?.issued(ssoRef, issued.record.sessionUuid);
      reply.header('Wazo-Sessions-Revoked', String(issued.sessionsRevoked));
      return { data: tokenView(issued.token, issued.record, issued.refreshToken) };
    },
  );

  app.get(
    '/token/:token',
    {
      config: legacy,
      schema: {
        summary: 'Token details, if valid for the scope and tenant',
        tags: ['token'],
        params: TokenParams,
        querystring: TokenCheckQuery,
        response: { 200: TokenEnvelope, ...legacyErrorResponses },
      },
    },
    async function getToken(request) {
      const { token } = request.params;
      const q = request.query;
      const record = await tokens.check(token, q.scope, q.tenant);
      return { data: tokenView(token, record) };
    },
  );

  // HEAD is declared on its own (exposeHeadRoutes is off): no body is ever built.
  app.head(
    '/token/:token',
    {
      config: legacy,
      schema: {
        summary: 'Check a token: 204 when valid for the scope and tenant',
        tags: ['token'],
        params: TokenParams,
        querystring: TokenCheckQuery,
      },
    },
    async function checkToken(request, reply) {
      const { token } = request.params;
      const q = request.query;
      // The fast path in front of Fastify sends the same decision (src/http/fast-check.ts).
      const decision = await checkDecision(tokens, token, q.scope, q.tenant);
      for (const [name, value] of decision.headers) reply.header(name, value);
      return reply.code(decision.status).send();
    },
  );

  app.delete(
    '/token/:token',
    {
      config: legacy,
      schema: {
        summary: 'Revoke a token (200 even when unknown)',
        tags: ['token'],
        params: TokenParams,
        response: { 200: Type.Object({ data: Type.Object({ message: Type.String() }) }), 503: LegacyError },
      },
    },
    async function revokeToken(request) {
      const { token } = request.params;
      await tokens.revoke(token);
      return { data: { message: 'success' } };
    },
  );

  app.post(
    '/token/:token/scopes/check',
    {
      config: legacy,
      schema: {
        summary: 'Check several scopes at once',
        tags: ['token'],
        params: TokenParams,
        body: ScopesCheckRequest,
        response: { 200: ScopesCheckResponse, ...legacyErrorResponses },
      },
    },
    async function checkScopes(request) {
      const { token } = request.params;
      const body = request.body;
      if (body === undefined || body === null) throw new InvalidDataError('A JSON object is required');
      const { scopes } = body;
      const tenant = body.tenant_uuid ?? null;
      if (scopes.length <= SCOPES_PER_SLICE) return { scopes: await tokens.checkScopes(token, scopes, tenant) };
      // A long list is checked a slice at a time, letting other requests run in
      // between: one request never holds the event loop for more than a slice
      // (each slice is one check in the metrics).
      const result: Record<string, boolean> = {};
      for (let i = 0; i < scopes.length; i += SCOPES_PER_SLICE) {
        if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        Object.assign(result, await tokens.checkScopes(token, scopes.slice(i, i + SCOPES_PER_SLICE), tenant));
      }
      return { scopes: result };
    },
  );

  // Refresh-token management.
  const RefreshList = listOf(RefreshTokenItem);
  const listSchema = (summary: string) => ({
    summary,
    tags: ['refresh tokens'],
    headers: AuthHeaders,
    querystring: RefreshTokenListParams,
    response: { 200: RefreshList, 400: ApiError, 401: ApiError, 404: ApiError, 503: ApiError },
  });
  const refreshListQuery = (q: Static<typeof RefreshTokenListParams>) => {
    const { order, direction, limit, offset, search } = listQuery(q, REFRESH_TOKEN_ORDERS);
    return { order, direction, limit, offset, search, clientId: q.client_id, mobile: q.mobile, recurse: q.recurse === true };
  };

  app.get(
    '/tokens',
    {
      schema: listSchema('Refresh tokens of the tenant (recurse: and of its sub-tenants)'),
      preHandler: requireAccess('auth.tokens.read'),
    },
    async function listAllRefreshTokens(request) {
      const result = await tokens.listRefreshTokens({
        ...refreshListQuery(request.query),
        tenantUuid: authOf(request).tenantUuid,
      });
      return { ...result, items: result.items.map(refreshTokenView) };
    },
  );

  const UserParams = Type.Object({ user_uuid: SafeString({ maxLength: 64 }) });
  const listForUser = async (request: FastifyRequest, query: Static<typeof RefreshTokenListParams>, userUuid: string) => {
    const auth = authOf(request);
    if (!(await deps.users.exists(userUuid, auth.tenantUuid))) throw new NotFoundError('unknown-user', 'users', userUuid);
    // The user is visible: all of its refresh tokens (recurse is implied, as in wazo-auth).
    const result = await tokens.listRefreshTokens({ ...refreshListQuery(query), userUuid });
    return { ...result, items: result.items.map(refreshTokenView) };
  };

  app.get(
    '/users/me/tokens',
    {
      schema: listSchema('Refresh tokens of the calling user'),
      preHandler: requireAccess('auth.users.me.tokens.read'),
    },
    async function listMyRefreshTokens(request) {
      return listForUser(request, request.query, authOf(request).token.userUuid ?? '');
    },
  );

  app.get(
    '/users/:user_uuid/tokens',
    {
      schema: { ...listSchema('Refresh tokens of a user'), params: UserParams },
      preHandler: requireAccess('auth.users.{user_uuid}.tokens.read'),
    },
    async function listUserRefreshTokens(request) {
      return listForUser(request, request.query, request.params.user_uuid);
    },
  );

  const ClientParams = Type.Object({ client_id: SafeString({ maxLength: 1024 }) });
  const UserClientParams = Type.Object({ user_uuid: SafeString({ maxLength: 64 }), client_id: SafeString({ maxLength: 1024 }) });
  const deleteSchema = <P extends TSchema>(summary: string, params: P) => ({
    summary,
    tags: ['refresh tokens'],
    headers: AuthHeaders,
    params,
    response: { 204: NoContent, 401: ApiError, 404: ApiError, 503: ApiError },
  });
  const deleteForUser = async (request: FastifyRequest, userUuid: string, clientId: string) => {
    const auth = authOf(request);
    if (!(await deps.users.exists(userUuid, auth.tenantUuid))) throw new NotFoundError('unknown-user', 'users', userUuid);
    await tokens.deleteRefreshToken(userUuid, clientId);
  };

  app.delete(
    '/users/me/tokens/:client_id',
    {
      schema: deleteSchema('Delete a refresh token of the calling user', ClientParams),
      preHandler: requireAccess('auth.users.me.tokens.{client_id}.delete'),
    },
    async function deleteMyRefreshToken(request, reply) {
      const { client_id } = request.params;
      await deleteForUser(request, authOf(request).token.userUuid ?? '', client_id);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/users/:user_uuid/tokens/:client_id',
    {
      schema: deleteSchema('Delete a refresh token of a user', UserClientParams),
      preHandler: requireAccess('auth.users.{user_uuid}.tokens.{client_id}.delete'),
    },
    async function deleteUserRefreshToken(request, reply) {
      const { user_uuid, client_id } = request.params;
      await deleteForUser(request, user_uuid, client_id);
      return reply.code(204).send();
    },
  );
}
