// HTTP hardening in front of every route: security headers on every answer,
// rate limits per client address, and the audit of administrative changes.
// Two entry points, the same rules:
//  - registerSecurityHooks(app): Fastify hooks (every route, inject() too);
//  - withSecurity(listener): the raw request listener under the server
//    (src/app.ts serverFactory), so the answers of the fast path
//    (src/http/fast-check.ts), which bypass Fastify, get them too.
import { clientAddress } from './client-address.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditRecorder } from '../security/audit.js';
import type { SecurityConfig } from '../config/sections/security.js';
import { RateLimitedError } from '../security/errors.js';
import { isPowerOfTwo } from '../login/login-guard.js';
import { RateLimiter } from '../security/rate-limit.js';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The security headers of one answer as a flat raw-headers list (name,
 * value, name, value…), made once: `res.writeHead(status, list)` writes them
 * without one setHeader call (name and value checks, lower-casing, the
 * headers object) per header per answer.
 */
export type SecurityHeaderList = readonly string[];

/**
 * Marks a request listener that writes the security headers itself on the
 * answers it gives (the token check's fast path, src/http/fast-check.ts):
 * withSecurity then sets none and passes them as the listener's third
 * argument. The listener must send them on every answer it gives (e.g.
 * `res.writeHead(status, headers)`) and set them on the response
 * (setSecurityHeaders) before handing the request to anything else.
 */
export const WRITES_SECURITY_HEADERS = Symbol('xivo-auth.writes-security-headers');

/** A listener carrying WRITES_SECURITY_HEADERS: called with the security headers it owes (undefined: none, e.g. not wrapped). */
export type SecurityHeadersListener = ((
  req: IncomingMessage,
  res: ServerResponse,
  securityHeaders?: SecurityHeaderList,
) => void) & { readonly [WRITES_SECURITY_HEADERS]?: true };

/** Sets `headers` (a SecurityHeaderList) on `res`, as withSecurity does for listeners that do not write them. */
export function setSecurityHeaders(res: ServerResponse, headers: SecurityHeaderList): void {
  for (let i = 0; i < headers.length; i += 2) res.setHeader(headers[i], headers[i + 1]);
}

export const API_PREFIX = '/0.1';
const AUTHZ = `${API_PREFIX}/authz`;
const TOKEN_CHECK = `${API_PREFIX}/token/`;

/** Marks a raw request already counted by withSecurity, so the Fastify hook does not count it twice. */
const COUNTED = Symbol('xivo-auth.rate-limit-counted');

export type LimitClass = 'login' | 'checks' | 'api' | 'none';

export interface SecurityHttpOptions {
  config: SecurityConfig;
  https: boolean;
  audit: AuditRecorder | null;
  /** Clock of the rate limiters (seconds are measured on it); default performance.now. */
  now?: () => number;
  /** rest_api.num_proxies: the fast path finds the client's address as request.ip does. */
  numProxies?: number;
}

/**
 * The headers that govern what a browser does with an answer's body (how it
 * reads it, frames it, loads from it, what it refers with): they mean
 * nothing on an answer that has none. A HEAD answer never has one, and the
 * gateway endpoint's decisions (`/0.1/authz`: a status and headers) neither;
 * those carry the other security headers only (docs/security.md).
 */
export const BODY_SECURITY_HEADERS: ReadonlySet<string> = new Set([
  'x-content-type-options',
  'referrer-policy',
  'x-frame-options',
  'content-security-policy',
]);

/** The headers every answer carries (see docs/security.md); BODY_SECURITY_HEADERS only on answers that may have a body. */
export function securityHeaders(https: boolean, hstsMaxAge: number): Array<[string, string]> {
  const headers: Array<[string, string]> = [
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'no-referrer'],
    ['X-Frame-Options', 'DENY'],
    ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
  ];
  if (https && hstsMaxAge > 0) headers.push(['Strict-Transport-Security', `max-age=${hstsMaxAge}; includeSubDomains`]);
  return headers;
}

const SSO_LOGIN_ROUTES = new Set([
  `POST ${API_PREFIX}/saml/sso`,
  `POST ${API_PREFIX}/saml/acs`,
  `GET ${API_PREFIX}/saml/sls`,
  `POST ${API_PREFIX}/oidc/authorize`,
  `GET ${API_PREFIX}/oidc/callback`,
]);

/**
 * Which limit a request falls under, from its method and route template (or
 * raw path): logins, token checks, the other API endpoints, or none (health
 * probes, metrics, status, the API document).
 */
export function limitClassOf(method: string, route: string): LimitClass {
  if (route === `${API_PREFIX}/token` && method === 'POST') return 'login';
  // Single sign-on without a token: each start writes a pending session, each
  // IdP return checks a signature. They are logins, at a login's rate.
  if (SSO_LOGIN_ROUTES.has(`${method} ${route.split('?', 1)[0]}`)) return 'login';
  if (
    (method === 'HEAD' || method === 'GET') &&
    (route.startsWith(TOKEN_CHECK) || route === AUTHZ || route.startsWith(`${AUTHZ}?`))
  ) {
    return 'checks';
  }
  if (!route.startsWith(`${API_PREFIX}/`)) return 'none';
  const rest = route.slice(API_PREFIX.length);
  if (rest === '/status' || rest === '/api/api.yml' || rest === '/backends' || rest.startsWith('/.well-known/')) return 'none';
  return 'api';
}

function isAuthz(path: string): boolean {
  return path === AUTHZ || path.startsWith(`${AUTHZ}?`);
}

/** Cache-Control no-store on everything but the gateway check, whose route decides (authz.cache_max_age). */
function noStore(path: string): boolean {
  return !isAuthz(path);
}

/** Removes the BODY_SECURITY_HEADERS from an answer that has no body (the gateway route's decisions). */
export function dropBodySecurityHeaders(reply: FastifyReply): void {
  for (const name of BODY_SECURITY_HEADERS) reply.removeHeader(name);
}

export class SecurityHttp {
  readonly headers: Array<[string, string]>;
  /** The headers of an answer without a body (HEAD, the gateway's decisions): `headers` less BODY_SECURITY_HEADERS. */
  readonly bodilessHeaders: Array<[string, string]>;
  /** Replaced as a whole by reconfigure() (a configuration reload). */
  limiters: Record<Exclude<LimitClass, 'none'>, RateLimiter | null>;

  constructor(private readonly options: SecurityHttpOptions) {
    const { config } = options;
    this.headers = securityHeaders(options.https, config.hsts_max_age);
    this.bodilessHeaders = this.headers.filter(([name]) => !BODY_SECURITY_HEADERS.has(name.toLowerCase()));
    this.limiters = this.makeLimiters(config.rate_limits);
  }

  private makeLimiters(limits: SecurityConfig['rate_limits']): Record<Exclude<LimitClass, 'none'>, RateLimiter | null> {
    const make = (bucket: { per_second: number; burst: number }) =>
      limits.enabled && bucket.per_second > 0 ? new RateLimiter(bucket, limits.max_addresses, this.options.now) : null;
    return { login: make(limits.login), api: make(limits.api), checks: make(limits.checks) };
  }

  /**
   * A configuration reload (src/config/reload.ts): new rate limits apply to
   * the next request; their counters start afresh. Headers need a restart.
   */
  reconfigureRateLimits(limits: SecurityConfig['rate_limits']): void {
    this.limiters = this.makeLimiters(limits);
  }

  /** Seconds to wait (0: go on) for one request of class `kind` from `address`. */
  take(kind: LimitClass, address: string): number {
    if (kind === 'none') return 0;
    return this.limiters[kind]?.take(address) ?? 0;
  }

  /** Wraps the server's request listener: headers on every answer, check limits on the fast path. */
  wrap(listener: RequestListener | SecurityHeadersListener): RequestListener {
    // The lists an answer carries (with or without a body, with or without
    // no-store), flat, made once (readonly by type, not frozen: Node reads
    // a frozen array's elements on a slow path).
    const NO_STORE = ['Cache-Control', 'no-store', 'Pragma', 'no-cache'];
    const plain: SecurityHeaderList = this.headers.flat();
    const withNoStore: SecurityHeaderList = [...plain, ...NO_STORE];
    const bodiless: SecurityHeaderList = this.bodilessHeaders.flat();
    const bodilessNoStore: SecurityHeaderList = [...bodiless, ...NO_STORE];
    const security = this;
    const numProxies = this.options.numProxies ?? 0;
    const writesThem = (listener as SecurityHeadersListener)[WRITES_SECURITY_HEADERS] === true;
    return function withSecurity(req, res) {
      // Read per request: a reload may replace the limiters.
      const checks = security.limiters.checks;
      const url = req.url ?? '';
      const head = req.method === 'HEAD';
      const authz = isAuthz(url);
      // The headers of an answer with a body, and of one without (any HEAD
      // answer, the gateway's decisions: what the fast path answers). A
      // request the fast path hands to Fastify gets the whole set again from
      // its hook (securityOnRequest).
      const withoutBody = authz ? bodiless : bodilessNoStore;
      const headers = head ? withoutBody : authz ? plain : withNoStore;
      if (checks !== null && limitClassOf(req.method ?? '', url) === 'checks') {
        (req as IncomingMessage & { [COUNTED]?: boolean })[COUNTED] = true;
        // The client's address, as Fastify's request.ip.
        const wait = checks.take(clientAddress(req, numProxies));
        if (wait > 0) {
          setSecurityHeaders(res, headers);
          res.statusCode = 429;
          res.setHeader('Retry-After', String(wait));
          if (req.method === 'HEAD') {
            res.end();
          } else {
            res.setHeader('Content-Type', 'application/json; charset=utf-8');
            res.end(
              JSON.stringify({ reason: ['Too many requests, retry later'], timestamp: [Date.now() / 1000], status_code: 429 }),
            );
          }
          return;
        }
      }
      if (writesThem) {
        (listener as SecurityHeadersListener)(req, res, authz ? withoutBody : headers);
      } else {
        setSecurityHeaders(res, headers);
        listener(req, res);
      }
    };
  }

  /** Fastify hooks: headers, rate limits, audit of changes. Register before the routes. */
  register(app: FastifyInstance): void {
    const headers = this.headers;
    const bodiless = this.bodilessHeaders;
    const security = this;
    const audit = this.options.audit;
    app.addHook('onRequest', async function securityOnRequest(request: FastifyRequest, reply: FastifyReply) {
      for (const [name, value] of request.method === 'HEAD' ? bodiless : headers) reply.header(name, value);
      if (noStore(request.url)) {
        reply.header('Cache-Control', 'no-store');
        reply.header('Pragma', 'no-cache');
      }
      const kind = limitClassOf(request.method, request.routeOptions.url ?? request.url);
      if (kind === 'checks' && (request.raw as IncomingMessage & { [COUNTED]?: boolean })[COUNTED]) return;
      const wait = security.take(kind, request.ip);
      if (wait > 0) {
        // Audited 1st, 2nd, 4th, 8th... refusal in a row: a flood is not a flood of audit writes.
        const refused = security.limiters.login?.refusedCount(request.ip) ?? 0;
        if (kind === 'login' && isPowerOfTwo(refused)) {
          audit?.record({
            action: 'login',
            outcome: 'throttled',
            remoteAddr: request.ip,
            statusCode: 429,
            details: { scope: 'rate_limit', retry_after: wait, refused },
          });
        }
        throw new RateLimitedError(wait);
      }
    });
    if (audit !== null && audit.enabled) {
      app.addHook('onResponse', async function auditChanges(request: FastifyRequest, reply: FastifyReply) {
        const entry = changeOf(request, reply.statusCode);
        if (entry !== null) audit.record(entry);
      });
    }
  }
}

const CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Requests that change nothing although not GET (checks, introspection) or audited elsewhere (login). */
const NOT_CHANGES = new Set([
  `POST ${API_PREFIX}/token`,
  `POST ${API_PREFIX}/token/:token/scopes/check`,
  `POST ${API_PREFIX}/oauth2/introspect`,
]);
const VERBS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete' };
/** Path parameters that are secrets: never recorded. */
const SECRET_PARAMS = new Set(['token']);

function outcomeOf(status: number): string {
  if (status < 300) return 'success';
  if (status === 401 || status === 403) return 'denied';
  if (status === 429) return 'throttled';
  if (status >= 500) return 'error';
  return 'failure';
}

/**
 * The audit entry of an administrative change, or null for anything else.
 * The action is named after the route: `users.create`, `groups.users.update`
 * (a link added), `users.password.change`, `token.revoke`...
 */
export function changeOf(request: FastifyRequest, status: number) {
  const route = request.routeOptions.url;
  if (route === undefined || !CHANGING.has(request.method) || !route.startsWith(`${API_PREFIX}/`)) return null;
  if (NOT_CHANGES.has(`${request.method} ${route}`)) return null;
  const path = route.slice(API_PREFIX.length + 1);
  const segments = path.split('/');
  const names = segments.filter((s) => !s.startsWith(':'));
  let action: string;
  if (path === 'token/:token' || path === 'oauth2/revoke') action = 'token.revoke';
  else if (path === 'users/:user_uuid/password') action = 'users.password.change';
  else action = `${names.join('.')}.${VERBS[request.method]}`;
  const params = { ...((request.params as Record<string, string> | undefined) ?? {}) };
  for (const secret of SECRET_PARAMS) delete params[secret];
  const firstParam = segments.find((s) => s.startsWith(':'))?.slice(1);
  const auth = request.auth;
  return {
    action,
    outcome: outcomeOf(status),
    tenantUuid: auth?.tenantUuid ?? null,
    actorUuid: auth?.token.userUuid ?? null,
    actorAuthId: auth?.token.authId ?? null,
    remoteAddr: request.ip,
    targetType: names[0] ?? null,
    targetId: firstParam !== undefined && !SECRET_PARAMS.has(firstParam) ? (params[firstParam] ?? null) : null,
    statusCode: status,
    details: Object.keys(params).length > 0 ? { params } : {},
  };
}
