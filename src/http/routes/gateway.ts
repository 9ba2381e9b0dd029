// The gateway endpoint: nginx auth_request, Traefik ForwardAuth and Envoy
// ext_authz ask it whether a request may go through.
//   GET|HEAD /authz        the gateway names the original request in headers
//   ANY      /authz/*      Envoy ext_authz: the original path appended (path_prefix)
// 200 (empty) + identity headers | 401 invalid_token | 403 insufficient_scope
// | 503 store unreachable (gateways fail closed).
// It is the token check's hot path: no JSON, no logging, no error handler
// for the expected outcomes.
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthzRoute } from '../../config/types.js';
import { checkRefusalOf } from '../token-check.js';
import { CHECK_DENIED, CHECK_INVALID } from '../../metrics/token-observer.js';
import type { TokenRecord } from '../../tokens/types.js';
import type { TokenService } from '../../login/token-service.js';
import { MAX_ACCESS_LENGTH } from '../../access-limits.js';
import { dropBodySecurityHeaders } from '../hardening.js';

export interface GatewayRouteDeps {
  tokens: TokenService;
  routes: readonly AuthzRoute[];
  /** 0: no-store; N: private, max-age=min(N, remaining life). */
  cacheMaxAge: number;
  /** The decision to use instead of one built from routes/cacheMaxAge (src/http/live-settings.ts: follows reloads). */
  authorize?: Authorize;
}

export const INVALID_TOKEN = 'Bearer realm="xivo-auth", error="invalid_token"';
export const INSUFFICIENT_SCOPE = 'Bearer realm="xivo-auth", error="insufficient_scope"';

/** Longest original URI considered; longer ones match no route. */
const MAX_URI_LENGTH = 8192;

interface CompiledRoute {
  /** Literal segment, or null for a `{param}` placeholder. */
  segments: (string | null)[];
  params: (string | null)[];
  access: string;
  methods: Set<string> | null;
}

/** What an original request requires: the access string, or null when no route matches. */
export type RouteTable = (method: string, uri: string) => string | null;

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

/**
 * Compiles `{path, access, methods}` entries. A `{name}` path segment matches
 * one non-empty segment; the access template's `{name}` takes its value,
 * percent-decoded, with dots turned into `_` (as for X-Auth-Token routes) so a
 * value can never reach into another level of the access.
 */
export function compileRouteTable(routes: readonly AuthzRoute[]): RouteTable {
  const compiled: CompiledRoute[] = routes.map((route) => {
    const parts = splitPath(route.path);
    return {
      segments: parts.map((p) => (/^\{\w+\}$/.test(p) ? null : p)),
      params: parts.map((p) => (/^\{\w+\}$/.test(p) ? p.slice(1, -1) : null)),
      access: route.access,
      methods: route.methods === undefined ? null : new Set(route.methods.map((m) => m.toUpperCase())),
    };
  });
  return function requiredAccess(method: string, uri: string): string | null {
    if (compiled.length === 0 || uri.length > MAX_URI_LENGTH) return null;
    let end = uri.length;
    const q = uri.indexOf('?');
    if (q >= 0) end = q;
    const h = uri.indexOf('#');
    if (h >= 0 && h < end) end = h;
    const parts = splitPath(uri.slice(0, end));
    const upper = method.toUpperCase();
    for (const route of compiled) {
      if (route.segments.length !== parts.length) continue;
      if (route.methods !== null && !route.methods.has(upper)) continue;
      const values: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i += 1) {
        const literal = route.segments[i];
        if (literal !== null) {
          ok = literal === parts[i];
        } else {
          let value: string;
          try {
            value = decodeURIComponent(parts[i]);
          } catch {
            return null;
          }
          if (value.length === 0 || value.includes('/')) ok = false;
          else values[route.params[i] as string] = value.replace(/\./g, '_');
        }
      }
      if (ok) return route.access.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? '');
    }
    return null;
  };
}

/** The longest `?access=` the route accepts (longer ones are Fastify's 400): as long as an access. */
export const MAX_QUERY_ACCESS = MAX_ACCESS_LENGTH;

const AuthzQuery = Type.Object({
  access: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_QUERY_ACCESS, pattern: '^[^\\u0000]*$' })),
});

/** Header values we pass on must be plain visible ASCII (no CR/LF injection). */
const SAFE_HEADER = /^[\x20-\x7e]{1,1024}$/;

type Headers = Record<string, string | string[] | undefined>;

function headerOf(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** X-Auth-Token, else `Authorization: Bearer <token>`. */
export function bearerToken(request: { headers: Headers }): string | null {
  const own = request.headers['x-auth-token'];
  if (typeof own === 'string' && own.length > 0) return own;
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && authorization.length > 7 && /^bearer /i.test(authorization)) {
    const token = authorization.slice(7).trim();
    return token.length > 0 ? token : null;
  }
  return null;
}

/** An answer of the gateway endpoint: a status and headers, never a body. */
export interface AuthzDecision {
  status: 200 | 401 | 403 | 503;
  headers: Array<[string, string]>;
}

const DENY_TOKEN: AuthzDecision = {
  status: 401,
  headers: [
    ['WWW-Authenticate', INVALID_TOKEN],
    ['Cache-Control', 'no-store'],
  ],
};
const DENY_SCOPE: AuthzDecision = {
  status: 403,
  headers: [
    ['WWW-Authenticate', INSUFFICIENT_SCOPE],
    ['Cache-Control', 'no-store'],
  ],
};
const UNAVAILABLE: AuthzDecision = {
  status: 503,
  headers: [
    ['Retry-After', '1'],
    ['Cache-Control', 'no-store'],
  ],
};

export type Authorize = (
  headers: Headers,
  method: string,
  queryAccess: string | undefined,
  originalUri: string | undefined,
) => Promise<AuthzDecision>;

/**
 * The same decision when the token's record is in the cache, synchronously
 * (TokenService.checkCached: no promise, no store call); null when it is not
 * (the caller then asks Authorize).
 */
export type AuthorizeCached = (
  headers: Headers,
  method: string,
  queryAccess: string | undefined,
  originalUri: string | undefined,
) => AuthzDecision | null;

/** What is asked of the token check, or the answer already known without it. */
type AuthzQuestion = { token: string; access: string | undefined; tenant: string | undefined } | AuthzDecision;

/**
 * The decision, free of any HTTP framework: the Fastify routes below and the
 * fast path in front of Fastify (src/http/fast-check.ts) share it. Errors
 * other than the check's own outcomes are thrown.
 */
export function createAuthorizer(deps: GatewayRouteDeps): Authorize & { cached: AuthorizeCached } {
  const { tokens, cacheMaxAge } = deps;
  const routeTable = compileRouteTable(deps.routes);
  const hasTable = deps.routes.length > 0;

  function question(
    headers: Headers,
    method: string,
    queryAccess: string | undefined,
    originalUri: string | undefined,
  ): AuthzQuestion {
    const token = bearerToken({ headers });
    if (token === null) return DENY_TOKEN;

    // Precedence: the gateway's own ?access= (part of its configuration, out
    // of the client's reach), then the route table, then the header (which a
    // client can forge unless the gateway sets it: the snippets always do).
    let access = queryAccess;
    if (access === undefined && originalUri !== undefined && hasTable) {
      const derived = routeTable(headerOf(headers, 'x-forwarded-method') ?? method, originalUri);
      // A table is configured and this request is not in it: fail closed.
      if (derived === null) return DENY_SCOPE;
      access = derived;
    }
    if (access === undefined) access = headerOf(headers, 'x-auth-required-access');
    // No check is asked for an access longer than an access may be (it bounds
    // the cost of matching): fail closed.
    if (access !== undefined && access.length > MAX_ACCESS_LENGTH) return DENY_SCOPE;
    const tenant = headerOf(headers, 'wazo-tenant');
    if (tenant !== undefined && tenant.length > 256) return DENY_SCOPE;
    return { token, access, tenant };
  }

  function granted(record: TokenRecord, tenant: string | undefined): AuthzDecision {
    const out: Array<[string, string]> = [];
    const identity = (name: string, value: unknown) => {
      if (typeof value === 'string' && SAFE_HEADER.test(value)) out.push([name, value]);
    };
    identity('X-Auth-User-Uuid', record.userUuid);
    identity('X-Auth-Tenant-Uuid', tenant ?? record.tenantUuid);
    identity('X-Auth-Session-Uuid', record.sessionUuid);
    identity('X-Auth-Id', record.authId);
    identity('X-Auth-Purpose', record.metadata.purpose);
    identity('Remote-User', record.authId);
    out.push([
      'Cache-Control',
      cacheMaxAge > 0 ? `private, max-age=${Math.min(cacheMaxAge, tokens.remainingSeconds(record))}` : 'no-store',
    ]);
    return { status: 200, headers: out };
  }

  const authorize = async function authorize(
    headers: Headers,
    method: string,
    queryAccess: string | undefined,
    originalUri: string | undefined,
  ): Promise<AuthzDecision> {
    const q = question(headers, method, queryAccess, originalUri);
    if ('status' in q) return q;
    let record: TokenRecord;
    try {
      record = await tokens.check(q.token, q.access, q.tenant);
    } catch (err) {
      // The token check's own refusals (src/http/token-check.ts), in a gateway's words.
      const refusal = checkRefusalOf(err);
      if (refusal === null) throw err;
      if (refusal.status === 404) return DENY_TOKEN;
      if (refusal.status === 403) return DENY_SCOPE;
      return refusal.retryAfter === 1
        ? UNAVAILABLE
        : {
            status: 503,
            headers: [
              ['Retry-After', String(refusal.retryAfter)],
              ['Cache-Control', 'no-store'],
            ],
          };
    }
    return granted(record, q.tenant);
  };

  const cached: AuthorizeCached = (headers, method, queryAccess, originalUri) => {
    const q = question(headers, method, queryAccess, originalUri);
    if ('status' in q) return q;
    // The cached outcomes are check()'s, counted alike (TokenService.checkCached).
    const outcome = tokens.checkCached(q.token, q.access, q.tenant);
    if (outcome === null) return null;
    if (outcome === CHECK_INVALID) return DENY_TOKEN;
    if (outcome === CHECK_DENIED) return DENY_SCOPE;
    return granted(outcome, q.tenant);
  };
  return Object.assign(authorize, { cached });
}

/** Where nginx (X-Original-URI) or Traefik (X-Forwarded-Uri) name the original request. */
export function originalUriOf(headers: Headers): string | undefined {
  return headerOf(headers, 'x-original-uri') ?? headerOf(headers, 'x-forwarded-uri');
}

export async function gatewayRoutes(instance: FastifyInstance, deps: GatewayRouteDeps): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const authorizeRequest = deps.authorize ?? createAuthorizer(deps);

  async function authorize(
    request: FastifyRequest,
    reply: FastifyReply,
    queryAccess: string | undefined,
    originalUri: string | undefined,
  ): Promise<FastifyReply> {
    const decision = await authorizeRequest(request.headers, request.method, queryAccess, originalUri);
    // A decision has no body: none of the headers about a body (as on the fast path).
    dropBodySecurityHeaders(reply);
    for (const [name, value] of decision.headers) reply.header(name, value);
    return reply.code(decision.status).send();
  }

  // Request headers are described, not validated: a headers schema would
  // copy and check every header on the hot path.
  const description =
    'Token: X-Auth-Token or Authorization: Bearer. Access: ?access=, else the authz.routes entry matching ' +
    'X-Original-URI / X-Forwarded-Uri and X-Forwarded-Method, else X-Auth-Required-Access. Tenant: Wazo-Tenant.';

  app.route({
    method: ['GET', 'HEAD'],
    url: '/authz',
    schema: {
      summary: 'Gateway authorization (nginx auth_request, Traefik ForwardAuth): 200 + identity headers, 401, 403 or 503',
      tags: ['gateway'],
      description,
      querystring: AuthzQuery,
    },
    handler: async function authz(request, reply) {
      const { access } = request.query;
      return authorize(request, reply, access, originalUriOf(request.headers));
    },
  });

  // Envoy's ext_authz HTTP service appends the original path to path_prefix
  // and keeps the original method.
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: '/authz/*',
    schema: {
      summary: 'Gateway authorization with the original path appended (Envoy ext_authz path_prefix)',
      tags: ['gateway'],
      description,
    },
    handler: async function authzWithPath(request, reply) {
      // The raw URL, not the decoded wildcard parameter: the route table
      // decodes each segment once. The appended path carries the client's
      // own query string: never read ?access= here.
      const raw = request.url;
      return authorize(request, reply, undefined, raw.slice(raw.indexOf('/authz/') + 6));
    },
  });
}
