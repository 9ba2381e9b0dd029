// HTTP transport: one keep-alive agent per client, a deadline per call
// (default 2 s, covering retries), the caller's AbortSignal, retries only for
// idempotent calls, and answers turned into typed errors.
import http from 'node:http';
import https from 'node:https';
import { errorFromResponse, ServiceUnavailableError, ApiError } from './errors.js';

export interface TransportOptions {
  /** Base URL of the service, e.g. `http://127.0.0.1:9497` (the `/0.1` prefix is added). */
  url: string;
  /** Deadline of one call in milliseconds, retries included. Default 2000. */
  timeout?: number;
  /** Extra attempts for idempotent calls (GET, HEAD, PUT, DELETE) after a connection failure or a 502/503/504. Default 2. */
  retries?: number;
  /** First back-off between retries in ms (doubled each time, capped by the deadline). Default 100. */
  retryDelay?: number;
  /** Largest response body accepted, in bytes. Default 10 MiB. */
  maxResponseBytes?: number;
  /** Options for the keep-alive agent (`maxSockets`, TLS `ca`, `rejectUnauthorized`...). */
  agentOptions?: https.AgentOptions;
  /** Sent as `User-Agent`. */
  userAgent?: string;
  /**
   * Send with this WHATWG `fetch` instead of `node:http` (in a browser: pass
   * `globalThis.fetch.bind(globalThis)`); `agentOptions` then do not apply.
   */
  fetch?: typeof globalThis.fetch;
}

export interface CallOptions {
  /** Abort the call (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** This call's deadline in ms, instead of the client's. */
  timeout?: number;
  /** `Wazo-Tenant`: act on this tenant instead of the token's. */
  tenant?: string;
  /** `X-Auth-Token` for this call instead of the client's token (null: none). */
  token?: string | null;
}

export interface RequestSpec extends CallOptions {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path under the API prefix, already escaped. */
  path: string;
  query?: Record<string, string | number | boolean | undefined | null>;
  body?: unknown;
  headers?: Record<string, string>;
  /** The legacy /token endpoints (404 = unknown token, 403 = missing scope). */
  tokenEndpoint?: boolean;
  /** Statuses answered normally rather than thrown (default: any 2xx). */
  accept?: readonly number[];
  /** Retry this POST too (it has no side effect, e.g. scopes check). */
  safe?: boolean;
}

export interface Answer<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
const RETRY_STATUSES = new Set([502, 503, 504]);

export class Transport {
  readonly baseUrl: URL;
  readonly timeout: number;
  private readonly retries: number;
  private readonly retryDelay: number;
  private readonly maxResponseBytes: number;
  private readonly userAgent: string;
  private readonly agent: http.Agent | null;
  private readonly requestFn: typeof http.request;
  private readonly fetchFn: typeof globalThis.fetch | null;
  /** Token sent as X-Auth-Token when a call names none. */
  token: string | null = null;
  /** Wazo-Tenant sent when a call names none. */
  tenant: string | null = null;

  constructor(options: TransportOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`unsupported URL scheme ${url.protocol}`);
    const prefix = url.pathname.replace(/\/+$/, '');
    url.pathname = prefix.endsWith('/0.1') ? prefix : `${prefix}/0.1`;
    url.search = '';
    url.hash = '';
    this.baseUrl = url;
    this.timeout = options.timeout ?? 2000;
    this.retries = options.retries ?? 2;
    this.retryDelay = options.retryDelay ?? 100;
    this.maxResponseBytes = options.maxResponseBytes ?? 10 * 1024 * 1024;
    this.userAgent = options.userAgent ?? 'xivo-auth-client/0.1';
    const agentOptions = { keepAlive: true, keepAliveMsecs: 1000, scheduling: 'lifo' as const, ...options.agentOptions };
    this.fetchFn = options.fetch ?? null;
    this.agent =
      this.fetchFn !== null ? null : url.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.requestFn = url.protocol === 'https:' ? https.request : http.request;
  }

  /** Close idle keep-alive connections (in-flight calls finish). */
  close(): void {
    this.agent?.destroy();
  }

  async request<T = unknown>(spec: RequestSpec): Promise<Answer<T>> {
    const timeout = spec.timeout ?? this.timeout;
    const deadline = AbortSignal.timeout(timeout);
    const signal = spec.signal === undefined ? deadline : AbortSignal.any([spec.signal, deadline]);
    const retryable = IDEMPOTENT.has(spec.method) || spec.safe === true;
    const attempts = retryable ? 1 + this.retries : 1;
    const where = { method: spec.method, path: spec.path };
    let delay = this.retryDelay;
    for (let attempt = 1; ; attempt++) {
      let answer: Answer | null = null;
      let failure: unknown = null;
      try {
        answer = await this.once(spec, signal);
      } catch (err) {
        failure = err;
      }
      if (signal.aborted) {
        if (spec.signal?.aborted) throw spec.signal.reason;
        throw new ServiceUnavailableError({
          ...where,
          status: answer?.status ?? 0,
          timedOut: true,
          message: `${spec.method} ${spec.path}: no answer within ${timeout} ms`,
          cause: failure ?? undefined,
        });
      }
      const retryAfterHeader = answer?.headers['retry-after'];
      const transient = failure !== null || (answer !== null && RETRY_STATUSES.has(answer.status));
      if (transient && attempt < attempts) {
        const retryAfter =
          typeof retryAfterHeader === 'string' && /^\d+$/.test(retryAfterHeader) ? Number(retryAfterHeader) * 1000 : 0;
        await sleep(Math.max(delay, retryAfter), signal).catch(() => undefined);
        delay *= 2;
        continue; // the abort check above reports a deadline or a caller abort
      }
      if (failure !== null) {
        throw new ServiceUnavailableError({
          ...where,
          status: 0,
          message: `${spec.method} ${spec.path}: ${(failure as Error).message ?? String(failure)}`,
          cause: failure,
        });
      }
      const a = answer as Answer;
      const accepted = spec.accept ? spec.accept.includes(a.status) : a.status >= 200 && a.status < 300;
      if (accepted) return a as Answer<T>;
      throw errorFromResponse(a.status, a.body, a.headers, { ...where, tokenEndpoint: spec.tokenEndpoint === true });
    }
  }

  /** One attempt with WHATWG fetch (browsers); the same answer as over node:http. */
  private async viaFetch(
    fetchFn: typeof globalThis.fetch,
    url: URL,
    spec: RequestSpec,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Answer> {
    delete headers['user-agent'];
    let body: string | undefined;
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetchFn(url.href, { method: spec.method, headers, body, signal, credentials: 'omit', redirect: 'error' });
    const text = spec.method === 'HEAD' ? '' : await res.text();
    if (text.length > this.maxResponseBytes) throw new Error(`response larger than ${this.maxResponseBytes} bytes`);
    const answerHeaders: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      answerHeaders[name] = value;
    });
    return { status: res.status, headers: answerHeaders, body: parseBody(text, res.headers.get('content-type') ?? '') };
  }

  private once(spec: RequestSpec, signal: AbortSignal): Promise<Answer> {
    const url = new URL(this.baseUrl.href);
    url.pathname += spec.path;
    for (const [k, v] of Object.entries(spec.query ?? {})) {
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.userAgent, ...spec.headers };
    const token = spec.token === undefined ? this.token : spec.token;
    if (token !== null) headers['x-auth-token'] = token;
    const tenant = spec.tenant ?? this.tenant;
    if (tenant !== null && tenant !== undefined) headers['wazo-tenant'] = tenant;
    if (this.fetchFn !== null) return this.viaFetch(this.fetchFn, url, spec, headers, signal);
    let payload: Buffer | null = null;
    if (spec.body !== undefined) {
      payload = Buffer.from(JSON.stringify(spec.body), 'utf8');
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    } else if (spec.method === 'POST' || spec.method === 'PUT' || spec.method === 'PATCH') {
      headers['content-length'] = '0';
    }
    return new Promise<Answer>((resolve, reject) => {
      const req = this.requestFn(url, { method: spec.method, headers, agent: this.agent ?? undefined, signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxResponseBytes) {
            res.destroy(new Error(`response larger than ${this.maxResponseBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = null;
          if (text !== '') {
            const type = String(res.headers['content-type'] ?? '');
            if (type.includes('json')) {
              try {
                body = JSON.parse(text);
              } catch {
                body = text;
              }
            } else {
              body = text;
            }
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      });
      req.on('error', reject);
      req.end(payload ?? undefined);
    });
  }
}

/** The body of an answer: JSON when it says so and parses, else its text, null when empty. */
function parseBody(text: string, type: string): unknown {
  if (text === '') return null;
  if (!type.includes('json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Encodes one path segment. */
export function seg(value: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError('a path parameter must be a non-empty string');
  return encodeURIComponent(value);
}

export { ApiError };
