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
import { checkDecision, refusalDecisionOf, validDecision, type CheckDecision } from './token-check.js';
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
        if (scanPlainQuery(url, q + 1, 'scope', 'tenant')) {
          scope = scanned.first;
          tenant = scanned.second;
        } else {
          const query = parseQuery(url.slice(q + 1));
          const s = query.scope;
          const t = query.tenant;
          // Repeated parameters and the like: Fastify's route decides.
          if (Array.isArray(s) || Array.isArray(t)) throw new Error('not a plain query');
          scope = s;
          tenant = t;
        }
      }
    } catch {
      fallback(req, res);
      return;
    }
    if (token.length === 0 || token.includes('/') || (scope !== undefined && scope.length > MAX_ACCESS_LENGTH) || (tenant !== undefined && tenant.length > 256)) {
      fallback(req, res);
      return;
    }
    if (tracing.enabled) {
      tracedCheck(req, res, tokens, token, scope, tenant).then(
        (decision) => answer(res, decision, count),
        () => fallback(req, res),
      );
      return;
    }
    // Tracing off (this one test is all it costs, src/tracing/tracing.ts):
    // checkDecision's mapping (validDecision, refusalDecisionOf) applied in
    // these callbacks, not through its promise: one promise fewer per check.
    tokens.check(token, scope, tenant).then(
      (record) => answer(res, validDecision(record), count),
      (err: unknown) => {
        const decision = refusalDecisionOf(err);
        // Not an answer of the check: let Fastify's route produce (and log) it.
        if (decision === null) fallback(req, res);
        else answer(res, decision, count);
      },
    );
  };
}

/**
 * What scanPlainQuery found, read right after it returns true (the scan is
 * synchronous): one object for every scan, none allocated per check.
 */
const found: { first: string | undefined; second: string | undefined } = { first: undefined, second: undefined };
export const scanned: { readonly first: string | undefined; readonly second: string | undefined } = found;

/**
 * The values of one or two parameters of `url`'s query (from `from`), as
 * node:querystring would parse them, for the queries services send (no
 * escapes, each parameter once): true, the values in `scanned`. False when
 * the query needs querystring's full rules: a `%` or `+` anywhere (decoding),
 * a parameter repeated (an array), or a query long enough for its 1,000-pair
 * cap to matter. Spares a parsed object and its strings per check (the
 * profile put querystring at 3% of the service's own CPU on this path).
 */
export function scanPlainQuery(url: string, from: number, firstName: string, secondName: string | null): boolean {
  const end = url.length;
  // Fewer than 999 separators: querystring never stops at its maxKeys (1000).
  if (end - from >= 999 || url.indexOf('%', from) >= 0 || url.indexOf('+', from) >= 0) return false;
  let first: string | undefined;
  let second: string | undefined;
  for (let i = from; i < end;) {
    let amp = url.indexOf('&', i);
    if (amp < 0) amp = end;
    const which = nameAt(url, i, amp, firstName) ? 1 : secondName !== null && nameAt(url, i, amp, secondName) ? 2 : 0;
    if (which !== 0) {
      const at = i + (which === 1 ? firstName.length : (secondName as string).length);
      // `name` alone is `name=` (querystring: an empty value).
      const value = at === amp ? '' : url.slice(at + 1, amp);
      if (which === 1) {
        if (first !== undefined) return false;
        first = value;
      } else {
        if (second !== undefined) return false;
        second = value;
      }
    }
    i = amp + 1;
  }
  found.first = first;
  found.second = second;
  return true;
}

/** Whether the pair url[start, end) has the key `name` (`name` alone or `name=…`). */
function nameAt(url: string, start: number, end: number, name: string): boolean {
  const after = start + name.length;
  return after <= end && url.startsWith(name, start) && (after === end || url.charCodeAt(after) === 61 /* = */);
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
    let a: string | string[] | undefined;
    if (scanPlainQuery(url, AUTHZ.length + 1, 'access', null)) {
      a = scanned.first;
    } else {
      try {
        a = parseQuery(url.slice(AUTHZ.length + 1)).access;
      } catch {
        fallback(req, res);
        return;
      }
    }
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
      const { headers } = decision;
      for (let i = 0; i < headers.length; i += 1) res.setHeader(headers[i][0], headers[i][1]);
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
