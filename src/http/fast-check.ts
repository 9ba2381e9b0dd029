// The hot paths, in front of Fastify: `HEAD /0.1/token/{token}?scope=&tenant=`
// and the gateway check `GET|HEAD /0.1/authz?access=`.
//
// Services call it on every request they serve, and a HEAD answer is a bare
// status (204, 404, 403, 503): the whole Fastify pipeline (routing, hooks,
// validation, reply object) cost more than the check itself, as the CPU
// profile showed. This handler answers those requests directly with the same
// TokenService.check and the same statuses as the Fastify route (which stays,
// and serves inject() and every request this path declines: anything unusual
// is handed to Fastify untouched, so the two cannot disagree on edge cases).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { DomainError } from '../errors.js';
import { StoreUnavailableError } from '../store/errors.js';
import type { TokenService } from '../tokens/service.js';
import { MAX_QUERY_ACCESS, originalUriOf, type Authorize } from './routes/gateway.js';
import { MAX_ACCESS_LENGTH } from '../security/limits.js';
import { tracing } from '../tracing/tracing.js';
import { traceRawRequest } from '../tracing/http.js';

const PREFIX = '/0.1/token/';
const AUTHZ = '/0.1/authz';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** Status of a failed check, or null when the error is not one of the check's own answers. */
function statusOf(err: unknown): number | null {
  if (err instanceof DomainError && (err.status === 404 || err.status === 403 || err.status === 503)) return err.status;
  if (err instanceof StoreUnavailableError) return 503;
  return null;
}

/**
 * Wraps Fastify's request listener. `count(status)` records the answer in the
 * HTTP request metrics under the route template, as the Fastify route would.
 */
export function withFastCheck(
  tokens: TokenService,
  fallback: RequestListener,
  count: (status: number) => void = () => {},
  authz?: { authorize: Authorize; count: (method: string, status: number) => void },
): RequestListener {
  return function fastCheck(req, res) {
    const url = req.url;
    if (authz !== undefined && url !== undefined && (req.method === 'GET' || req.method === 'HEAD')
      && url.startsWith(AUTHZ) && (url.length === AUTHZ.length || url.charCodeAt(AUTHZ.length) === 63 /* ? */)) {
      fastAuthz(req, res, url, authz, fallback);
      return;
    }
    if (req.method !== 'HEAD' || url === undefined || !url.startsWith(PREFIX)) {
      fallback(req, res);
      return;
    }
    const q = url.indexOf('?', PREFIX.length);
    const rawToken = q < 0 ? url.slice(PREFIX.length) : url.slice(PREFIX.length, q);
    let token: string;
    let scope: string | undefined;
    let tenant: string | undefined;
    try {
      token = rawToken.includes('%') ? decodeURIComponent(rawToken) : rawToken;
      if (q >= 0) {
        const query = parseQuery(url.slice(q + 1));
        const s = query.scope;
        const t = query.tenant;
        // Repeated parameters and the like: Fastify's route decides.
        if (Array.isArray(s) || Array.isArray(t)) throw new Error('not a plain query');
        scope = s;
        tenant = t;
      }
    } catch {
      fallback(req, res);
      return;
    }
    if (token.length === 0 || token.includes('/') || (scope !== undefined && scope.length > MAX_ACCESS_LENGTH) || (tenant !== undefined && tenant.length > 256)) {
      fallback(req, res);
      return;
    }
    // Tracing off: this one test is all it costs here (src/tracing/tracing.ts).
    (tracing.enabled ? tracedCheck(req, res, tokens, token, scope, tenant) : tokens.check(token, scope, tenant)).then(
      () => answer(res, 204, count),
      (err: unknown) => {
        const status = statusOf(err);
        if (status === null) {
          // Not an answer of the check: let Fastify's route produce (and log) it.
          fallback(req, res);
          return;
        }
        if (status === 503) res.setHeader('Retry-After', '1');
        answer(res, status, count);
      },
    );
  };
}

/** `GET|HEAD /0.1/authz`: the same decision as the Fastify route (createAuthorizer). */
function fastAuthz(
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
  authz: { authorize: Authorize; count: (method: string, status: number) => void },
  fallback: RequestListener,
): void {
  let access: string | undefined;
  if (url.length > AUTHZ.length) {
    let query;
    try {
      query = parseQuery(url.slice(AUTHZ.length + 1));
    } catch {
      fallback(req, res);
      return;
    }
    const a = query.access;
    // Whatever the route's schema would refuse (400) is left to the route.
    if (Array.isArray(a) || (a !== undefined && (a.length === 0 || a.length > MAX_QUERY_ACCESS || a.includes('\u0000')))) {
      fallback(req, res);
      return;
    }
    access = a;
  }
  const method = req.method as string;
  // Tracing off: one test (the traced variant's closure lives in tracedAuthz).
  (tracing.enabled ? tracedAuthz(req, res, authz.authorize, method, access) : authz.authorize(req.headers, method, access, originalUriOf(req.headers))).then(
    (decision) => {
      for (const [name, value] of decision.headers) res.setHeader(name, value);
      res.statusCode = decision.status;
      res.end();
      authz.count(method, decision.status);
    },
    () => fallback(req, res),
  );
}

/** The check in a server span (tracing on only; apart so the untraced path captures nothing more). */
function tracedCheck(req: IncomingMessage, res: ServerResponse, tokens: TokenService, token: string, scope: string | undefined, tenant: string | undefined) {
  return traceRawRequest(req, res, `${PREFIX}:token`, () => tokens.check(token, scope, tenant));
}

function tracedAuthz(req: IncomingMessage, res: ServerResponse, authorize: Authorize, method: string, access: string | undefined) {
  return traceRawRequest(req, res, AUTHZ, () => authorize(req.headers, method, access, originalUriOf(req.headers)));
}

function answer(res: ServerResponse, status: number, count: (status: number) => void): void {
  res.statusCode = status;
  res.end();
  count(status);
}
