// OAuth 2.0 standard endpoints over the same tokens.
//   POST /oauth2/introspect                  RFC 7662 (bearer token with auth.tokens.introspect;
//                                            tokens outside the caller's tenant subtree are inactive)
//   POST /oauth2/revoke                      RFC 7009 (possession of the token is enough)
//   GET  /.well-known/oauth-authorization-server   RFC 8414 metadata (registered at the root)
// Bodies are application/x-www-form-urlencoded, parsed in this plugin's own
// context: the rest of the API keeps its JSON-whatever-the-type parser.
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, InvalidDataError, NoSuchTokenError } from '../../errors.js';
import type { TokenService, TokenTypeHint } from '../../login/token-service.js';
import { authOf } from '../auth.js';
import { handleError, toProblem } from '../errors.js';
import { bearerToken, INSUFFICIENT_SCOPE, INVALID_TOKEN } from './gateway.js';

export const INTROSPECT_ACCESS = 'auth.tokens.introspect';

export interface OAuth2RouteDeps {
  tokens: TokenService;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parameters of a form body; a repeated parameter is an error (RFC 6749 §3.2). */
export function parseForm(body: Buffer): Record<string, string> {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new InvalidDataError('Request body is not valid UTF-8');
  }
  const params = new URLSearchParams(text);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of params) {
    if (Object.prototype.hasOwnProperty.call(out, key)) throw new InvalidDataError(`Parameter repeated: ${key.slice(0, 64)}`);
    out[key] = value;
  }
  return out;
}

class OAuthError extends DomainError {
  constructor(
    status: number,
    readonly oauthError: string,
    description: string,
  ) {
    super(status, oauthError, description);
  }
}

const FormBody = Type.Object(
  {
    token: Type.String({ description: 'The token' }),
    token_type_hint: Type.Optional(Type.String({ description: 'access_token or refresh_token' })),
    required_access: Type.Optional(
      Type.String({ description: 'Introspection only: inactive unless the token grants this access' }),
    ),
  },
  { additionalProperties: true },
);

const IntrospectionResponse = Type.Object({
  active: Type.Boolean(),
  scope: Type.Optional(Type.String()),
  sub: Type.Optional(Type.String()),
  username: Type.Optional(Type.String()),
  exp: Type.Optional(Type.Integer()),
  iat: Type.Optional(Type.Integer()),
  token_type: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()),
  tenant_uuid: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  session_uuid: Type.Optional(Type.String()),
  xivo_user_uuid: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

const OAuthErrorBody = Type.Object({ error: Type.String(), error_description: Type.Optional(Type.String()) });

function tokenParam(body: unknown): { token: string; hint: string | undefined; requiredAccess: string | undefined } {
  const form = (body ?? {}) as Record<string, unknown>;
  const { token, token_type_hint: hint, required_access: requiredAccess } = form;
  if (typeof token !== 'string' || token.length === 0)
    throw new OAuthError(400, 'invalid_request', 'The token parameter is required');
  if (hint !== undefined && typeof hint !== 'string')
    throw new OAuthError(400, 'invalid_request', 'token_type_hint must be a string');
  if (
    requiredAccess !== undefined &&
    (typeof requiredAccess !== 'string' || requiredAccess.length === 0 || requiredAccess.length > 1024)
  ) {
    throw new OAuthError(400, 'invalid_request', 'required_access must be a non-empty string');
  }
  return { token, hint, requiredAccess };
}

/** Errors in the OAuth shape: {error, error_description}. */
function oauthErrorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.header('Cache-Control', 'no-store');
  if (err instanceof OAuthError) {
    if (err.status === 401) reply.header('WWW-Authenticate', INVALID_TOKEN);
    if (err.status === 403) reply.header('WWW-Authenticate', INSUFFICIENT_SCOPE);
    return reply.code(err.status).send({ error: err.oauthError, error_description: err.publicMessage });
  }
  const problem = toProblem(err, request.id);
  if (problem.status >= 400 && problem.status < 500) {
    return reply.code(problem.status).send({ error: 'invalid_request', error_description: problem.message });
  }
  if (problem.status === 503) {
    reply.header('Retry-After', String(problem.retryAfter ?? 1));
    return reply.code(503).send({ error: 'temporarily_unavailable', error_description: problem.message });
  }
  return handleError.call(null, err, request, reply);
}

export async function oauth2Routes(instance: FastifyInstance, deps: OAuth2RouteDeps): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { tokens } = deps;

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer' },
    function parseFormBody(_request, body: Buffer, done) {
      try {
        done(null, parseForm(body));
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );
  app.setErrorHandler(oauthErrorHandler);

  /** The caller's bearer token must grant auth.tokens.introspect; it is kept as request.auth. */
  async function requireIntrospector(request: FastifyRequest): Promise<void> {
    const caller = bearerToken(request);
    if (caller === null) throw new OAuthError(401, 'invalid_token', 'A bearer token is required');
    try {
      const entry = await tokens.lookup(caller);
      if (!entry.acl.matches(INTROSPECT_ACCESS, entry.record)) {
        throw new OAuthError(403, 'insufficient_scope', `The bearer token does not grant ${INTROSPECT_ACCESS}`);
      }
      request.auth = { token: entry.record, tenantUuid: entry.record.tenantUuid ?? '' };
    } catch (err) {
      if (err instanceof NoSuchTokenError) throw new OAuthError(401, 'invalid_token', 'The bearer token is invalid or expired');
      throw err;
    }
  }

  app.post(
    '/oauth2/introspect',
    {
      schema: {
        summary: 'RFC 7662 token introspection (form-encoded; bearer token granting auth.tokens.introspect)',
        tags: ['oauth2'],
        consumes: ['application/x-www-form-urlencoded'],
        body: FormBody,
        response: {
          200: IntrospectionResponse,
          400: OAuthErrorBody,
          401: OAuthErrorBody,
          403: OAuthErrorBody,
          503: OAuthErrorBody,
        },
      },
      onRequest: requireIntrospector,
    },
    async function introspect(request, reply): Promise<Static<typeof IntrospectionResponse>> {
      const { token, requiredAccess } = tokenParam(request.body);
      reply.header('Cache-Control', 'no-store');
      // The caller's own tenant (never Wazo-Tenant): it sees its subtree's tokens only.
      const record = await tokens.introspect(token, requiredAccess, authOf(request).token.tenantUuid);
      if (record === null) return { active: false };
      const username = typeof record.metadata.username === 'string' ? record.metadata.username : record.authId;
      return {
        active: true,
        scope: record.acl.join(' '),
        sub: record.userUuid ?? record.authId,
        username,
        exp: Math.floor(record.expiresAt / 1000),
        iat: Math.floor(record.issuedAt / 1000),
        token_type: 'Bearer',
        tenant_uuid: record.tenantUuid,
        session_uuid: record.sessionUuid,
        xivo_user_uuid: record.pbxUserUuid,
      };
    },
  );

  app.post(
    '/oauth2/revoke',
    {
      schema: {
        summary:
          'RFC 7009 token revocation (form-encoded); 200 also for unknown tokens; a refresh token takes its access tokens along',
        tags: ['oauth2'],
        consumes: ['application/x-www-form-urlencoded'],
        body: FormBody,
        // An empty 200 (send() with no body), documented as null like a 204 (schemas/common.ts NoContent).
        response: {
          200: Type.Unsafe<undefined>(Type.Null({ description: 'Revoked, or unknown' })),
          400: OAuthErrorBody,
          503: OAuthErrorBody,
        },
      },
    },
    async function revoke(request, reply) {
      const { token, hint } = tokenParam(request.body);
      // RFC 7009 §2.1: an unknown hint is ignored, the token is looked up anyway.
      const known: TokenTypeHint | undefined = hint === 'access_token' || hint === 'refresh_token' ? hint : undefined;
      await tokens.revokeAny(token, known);
      return reply.header('Cache-Control', 'no-store').code(200).send();
    },
  );
}

/** RFC 8414 metadata: only what applies to this service. Served at the root. */
export async function oauth2MetadataRoute(instance: FastifyInstance, prefix: string): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/.well-known/oauth-authorization-server',
    {
      schema: {
        summary: 'RFC 8414 authorization server metadata',
        tags: ['oauth2'],
        response: {
          200: Type.Object({
            issuer: Type.String(),
            introspection_endpoint: Type.String(),
            introspection_endpoint_auth_methods_supported: Type.Array(Type.String()),
            revocation_endpoint: Type.String(),
            revocation_endpoint_auth_methods_supported: Type.Array(Type.String()),
            response_types_supported: Type.Array(Type.String()),
          }),
        },
      },
    },
    async function metadata(request) {
      const issuer = `${request.protocol}://${request.host}`;
      return {
        issuer,
        introspection_endpoint: `${issuer}${prefix}/oauth2/introspect`,
        introspection_endpoint_auth_methods_supported: ['bearer'],
        revocation_endpoint: `${issuer}${prefix}/oauth2/revoke`,
        revocation_endpoint_auth_methods_supported: ['none'],
        // No authorization endpoint: tokens come from POST /token.
        response_types_supported: [],
      };
    },
  );
}
