// The hot paths, in front of Fastify: `HEAD /0.1/token/{token}?scope=&tenant=`
// and the gateway check `GET|HEAD /0.1/authz?access=`.
//
// Services call it on every request they serve, and a HEAD answer is a bare
// status (204, 404, 403, 503): the whole Fastify pipeline (routing, hooks,
// validation, reply object) cost more than the check itself, as the CPU
// profile showed. This handler answers those requests directly with the same
// decision as the Fastify route (src/http/token-check.ts checkDecision: the
// same status and headers), and the route stays: it serves inject() and
// every request this path declines (anything unusual is handed to Fastify
// untouched, so the two cannot disagree on edge cases).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { TokenService } from '../tokens/service.js';
import { checkDecision, type CheckDecision } from './token-check.js';
import { MAX_QUERY_ACCESS, originalUriOf, type Authorize } from './routes/gateway.js';
import { MAX_ACCESS_LENGTH } from '../security/limits.js';
import { tracing } from '../tracing/tracing.js';
import { traceRawRequest } from '../tracing/http.js';

const PREFIX = '/0.1/token/';
const AUTHZ = '/0.1/authz';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * When the fast path steps aside and Fastify answers everything: debug on
 * (every request is then logged by Fastify; PATCH /config switches it at run
 * time) and shutdown (Fastify's return503OnClosing answers 503 +
 * `Connection: close` to requests arriving on open connections).
 */
export interface FastCheckSwitch {
  readonly debug: { readonly on: boolean };
  readonly closing: { readonly on: boolean };
}

const ALWAYS_ON: FastCheckSwitch = { debug: { on: false }, closing: { on: false } };

/**
 * Wraps Fastify's request listener. `count(status)` records the answer in the
 * HTTP request metrics under the route template, as the Fastify route would.
 */
export function withFastCheck(
  tokens: TokenService,
  fallback: RequestListener,
  count: (status: number) => void = () => {},
  authz?: { authorize: Authorize; count: (method: string, status: number) => void },
  off: FastCheckSwitch = ALWAYS_ON,
): RequestListener {
  const { debug, closing } = off;
  return function fastCheck(req, res) {
    const url = req.url;
    if (debug.on || closing.on) {
      fallback(req, res);
      return;
    }
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
    (tracing.enabled ? tracedCheck(req, res, tokens, token, scope, tenant) : checkDecision(tokens, token, scope, tenant)).then(
      (decision) => answer(res, decision, count),
      // Not an answer of the check: let Fastify's route produce (and log) it.
      () => fallback(req, res),
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
  return traceRawRequest(req, res, `${PREFIX}:token`, () => checkDecision(tokens, token, scope, tenant));
}

function tracedAuthz(req: IncomingMessage, res: ServerResponse, authorize: Authorize, method: string, access: string | undefined) {
  return traceRawRequest(req, res, AUTHZ, () => authorize(req.headers, method, access, originalUriOf(req.headers)));
}

function answer(res: ServerResponse, decision: CheckDecision, count: (status: number) => void): void {
  const { headers } = decision;
  for (let i = 0; i < headers.length; i += 1) res.setHeader(headers[i][0], headers[i][1]);
  res.statusCode = decision.status;
  res.end();
  count(decision.status);
}
