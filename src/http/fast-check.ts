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
import type { TokenService } from '../login/token-service.js';
import { cachedDecision, checkDecision, refusalDecisionOf, validDecision } from './token-check.js';
import { MAX_QUERY_ACCESS, originalUriOf, type Authorize, type AuthorizeCached, type AuthzDecision } from './routes/gateway.js';
import {
  setSecurityHeaders,
  WRITES_SECURITY_HEADERS,
  type SecurityHeaderList,
  type SecurityHeadersListener,
} from './hardening.js';
import { MAX_ACCESS_LENGTH } from '../access-limits.js';
import { tracing } from '../tracing/tracing.js';
import { traceRawRequest } from '../tracing/http.js';
import { withResponseDbBudget } from '../db-budget.js';

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

/** What the fast path's security wrapper owes an answer (src/http/hardening.ts WRITES_SECURITY_HEADERS); undefined: nothing. */
type Owed = SecurityHeaderList | undefined;

/** The gateway decision the fast path answers `/authz` with (src/http/routes/gateway.ts). */
interface FastAuthz {
  authorize: Authorize;
  /** Answers from the token cache, synchronously, when it can. */
  cached?: AuthorizeCached;
  count: (method: string, status: number) => void;
}

/**
 * Wraps Fastify's request listener. `count(status)` records the answer in the
 * HTTP request metrics under the route template, as the Fastify route would.
 *
 * The listener writes the security headers itself (WRITES_SECURITY_HEADERS):
 * a token check's answer is one `writeHead(status, headers)` with the
 * precomputed list, and a request handed to Fastify gets them set first, as
 * SecurityHttp.wrap sets them for any other listener.
 */
export function withFastCheck(
  tokens: TokenService,
  fallback: RequestListener,
  count: (status: number) => void = () => {},
  authz?: FastAuthz,
  off: FastCheckSwitch = ALWAYS_ON,
): SecurityHeadersListener & RequestListener {
  const { debug, closing } = off;
  /** Hands the request to Fastify, the security headers set as for any request. */
  const decline = (req: IncomingMessage, res: ServerResponse, owed: Owed) => {
    if (owed !== undefined) setSecurityHeaders(res, owed);
    fallback(req, res);
  };
  const fastCheck = function fastCheck(req: IncomingMessage, res: ServerResponse, owed?: SecurityHeaderList): void {
    const url = req.url;
    if (debug.on || closing.on) {
      decline(req, res, owed);
      return;
    }
    if (
      authz !== undefined &&
      url !== undefined &&
      (req.method === 'GET' || req.method === 'HEAD') &&
      url.startsWith(AUTHZ) &&
      (url.length === AUTHZ.length || url.charCodeAt(AUTHZ.length) === 63) /* ? */
    ) {
      fastAuthz(req, res, url, authz, decline, owed);
      return;
    }
    if (req.method !== 'HEAD' || url === undefined || !url.startsWith(PREFIX)) {
      decline(req, res, owed);
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
      decline(req, res, owed);
      return;
    }
    if (
      token.length === 0 ||
      token.includes('/') ||
      (scope !== undefined && scope.length > MAX_ACCESS_LENGTH) ||
      (tenant !== undefined && tenant.length > 256)
    ) {
      decline(req, res, owed);
      return;
    }
    if (tracing.enabled) {
      withResponseDbBudget(res, () => tracedCheck(req, res, tokens, token, scope, tenant)).then(
        (decision) => answer(res, decision, count, owed),
        () => decline(req, res, owed),
      );
      return;
    }
    // Tracing off (this one test is all it costs, src/tracing/tracing.ts).
    // A token in the cache is answered at once, synchronously: no promise,
    // no microtask, no async-hooks init (TokenService.checkCached, mapped by
    // cachedDecision as check()'s outcome is by validDecision and
    // refusalDecisionOf).
    let cached: ReturnType<TokenService['checkCached']>;
    try {
      cached = tokens.checkCached(token, scope, tenant);
    } catch (err) {
      refused(req, res, err, owed);
      return;
    }
    if (cached !== null) {
      answer(res, cachedDecision(cached), count, owed);
      return;
    }
    // checkDecision's mapping (validDecision, refusalDecisionOf) applied in
    // these callbacks, not through its promise: one promise fewer per check.
    withResponseDbBudget(res, () => tokens.check(token, scope, tenant)).then(
      (record) => answer(res, validDecision(record), count, owed),
      (err: unknown) => refused(req, res, err, owed),
    );
  };
  /** A check that threw: its refusal, or (not an answer of the check) Fastify's route produces (and logs) it. */
  const refused = (req: IncomingMessage, res: ServerResponse, err: unknown, owed: Owed) => {
    const decision = refusalDecisionOf(err);
    if (decision === null) decline(req, res, owed);
    else answer(res, decision, count, owed);
  };
  return Object.assign(fastCheck, { [WRITES_SECURITY_HEADERS]: true as const });
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
  return after <= end && url.startsWith(name, start) && (after === end || url.charCodeAt(after) === 61); /* = */
}

/** `GET|HEAD /0.1/authz`: the same decision as the Fastify route (createAuthorizer). */
function fastAuthz(
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
  authz: FastAuthz,
  fallback: (req: IncomingMessage, res: ServerResponse, owed: Owed) => void,
  owed: Owed,
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
        fallback(req, res, owed);
        return;
      }
    }
    // Whatever the route's schema would refuse (400) is left to the route.
    if (Array.isArray(a) || (a !== undefined && (a.length === 0 || a.length > MAX_QUERY_ACCESS || a.includes('\u0000')))) {
      fallback(req, res, owed);
      return;
    }
    access = a;
  }
  const method = req.method as string;
  const send = (decision: AuthzDecision) => answer(res, decision, (status) => authz.count(method, status), owed);
  if (!tracing.enabled && authz.cached !== undefined) {
    // A token in the cache: answered at once, with no store call (and so no database budget).
    let decision: AuthzDecision | null;
    try {
      decision = authz.cached(req.headers, method, access, originalUriOf(req.headers));
    } catch {
      fallback(req, res, owed);
      return;
    }
    if (decision !== null) {
      send(decision);
      return;
    }
  }
  // Tracing off: one test (the traced variant's closure lives in tracedAuthz).
  withResponseDbBudget(res, () =>
    tracing.enabled
      ? tracedAuthz(req, res, authz.authorize, method, access)
      : authz.authorize(req.headers, method, access, originalUriOf(req.headers)),
  ).then(send, () => fallback(req, res, owed));
}

/** The check in a server span (tracing on only; apart so the untraced path captures nothing more). */
function tracedCheck(
  req: IncomingMessage,
  res: ServerResponse,
  tokens: TokenService,
  token: string,
  scope: string | undefined,
  tenant: string | undefined,
) {
  return traceRawRequest(req, res, `${PREFIX}:token`, () => checkDecision(tokens, token, scope, tenant));
}

function tracedAuthz(
  req: IncomingMessage,
  res: ServerResponse,
  authorize: Authorize,
  method: string,
  access: string | undefined,
) {
  return traceRawRequest(req, res, AUTHZ, () => authorize(req.headers, method, access, originalUriOf(req.headers)));
}

/**
 * Sends a check's (or /authz's) answer. With the security headers owed (the usual case):
 * one writeHead with their precomputed list (and the decision's few headers
 * after them: Retry-After, /authz's identity headers). The same header
 * lines as setHeader for each and `end()` would write.
 */
function answer(
  res: ServerResponse,
  decision: { readonly status: number; readonly headers: ReadonlyArray<readonly [string, string]> },
  count: (status: number) => void,
  owed: Owed,
): void {
  const { headers } = decision;
  if (owed === undefined) {
    for (let i = 0; i < headers.length; i += 1) res.setHeader(headers[i][0], headers[i][1]);
    res.statusCode = decision.status;
  } else if (headers.length === 0) {
    res.writeHead(decision.status, owed as string[]);
  } else {
    const all = owed.slice();
    for (let i = 0; i < headers.length; i += 1) all.push(headers[i][0], headers[i][1]);
    res.writeHead(decision.status, all);
  }
  res.end();
  count(decision.status);
}
