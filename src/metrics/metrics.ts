// The service's Prometheus metrics. One Metrics object per service, built in
// the composition root around its own Registry (never prom-client's global
// one), and handed to what it observes. Labels are bounded enumerations or
// route templates: never a user, a token, or a raw URL.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PasswordHasher } from '../passwords/hasher.js';
import type { TokenCache } from '../tokens/cache.js';
import { FixedCounter, FixedHistogram, register } from './fast.js';
import { type EventLoopDelayMonitor, registerEventLoopDelay } from './event-loop.js';
import type { CheckResult, Grant, LoginResult, RevokeReason, TokenObserver } from './token-observer.js';

export const METRIC_PREFIX = 'xivo_auth_';

/** 50 µs to 1 s: a cache hit is tens of microseconds, a store read about a millisecond. */
export const CHECK_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Logins and hashes: argon2id takes tens of milliseconds by design. */
export const SLOW_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const CHECK_RESULTS = ['valid', 'invalid', 'denied', 'error'] as const;
const SOURCES = ['store', 'cache'] as const;

export interface MetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag, GC). Default true. */
  processMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  readonly tokens: TokenObserver;
  /** Event-loop delay (null without process metrics). */
  readonly eventLoop: EventLoopDelayMonitor | null;
  private readonly reaperDeleted: Counter;
  private readonly httpRequests = new Map<string, { labels: Record<string, string>; count: number }>();

  constructor(options: MetricsOptions = {}) {
    const { registry } = this;
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
    this.eventLoop = (options.processMetrics ?? true) ? registerEventLoopDelay(registry, METRIC_PREFIX) : null;

    // Series index = result * 2 + (fromCache ? 1 : 0).
    const checks = new FixedCounter(
      `${METRIC_PREFIX}token_checks_total`,
      'Token checks by result (valid, invalid: unknown/expired/malformed, denied: access or tenant refused, error) and by where the record came from (cache, store).',
      CHECK_RESULTS.flatMap((result) => SOURCES.map((source) => ({ result, source }))),
    );
    const checkSeconds = new FixedHistogram(
      `${METRIC_PREFIX}token_check_duration_seconds`,
      'Latency of token checks inside the service (lookup, ACL, tenant), in seconds.',
      CHECK_BUCKETS,
    );
    const cacheLookups = new FixedCounter(
      `${METRIC_PREFIX}token_cache_lookups_total`,
      'Token cache lookups while the cache is active, by result (hit, miss).',
      [{ result: 'miss' }, { result: 'hit' }],
    );
    register(registry, checks);
    register(registry, checkSeconds);
    register(registry, cacheLookups);

    const logins = new Counter({
      name: `${METRIC_PREFIX}logins_total`,
      help: 'Token requests (POST /token) by backend and result (success, failure, throttled, error).',
      labelNames: ['backend', 'result'],
      registers: [registry],
    });
    const loginSeconds = new Histogram({
      name: `${METRIC_PREFIX}login_duration_seconds`,
      help: 'Latency of token requests (POST /token), in seconds.',
      buckets: SLOW_BUCKETS,
      registers: [registry],
    });
    const issued = new Counter({
      name: `${METRIC_PREFIX}tokens_issued_total`,
      help: 'Tokens issued, by grant (password, refresh_token).',
      labelNames: ['grant'],
      registers: [registry],
    });
    const revoked = new Counter({
      name: `${METRIC_PREFIX}tokens_revoked_total`,
      help: 'Tokens revoked before their expiry, by reason (revoked: DELETE /token or RFC 7009; refresh_token_revoked: issued from a revoked refresh token; user_sessions: all tokens of a user).',
      labelNames: ['reason'],
      registers: [registry],
    });
    for (const grant of ['password', 'refresh_token']) issued.inc({ grant }, 0);
    for (const reason of ['revoked', 'refresh_token_revoked', 'user_sessions']) revoked.inc({ reason }, 0);
    this.reaperDeleted = new Counter({
      name: `${METRIC_PREFIX}reaper_deleted_tokens_total`,
      help: 'Expired tokens deleted by the reaper.',
      registers: [registry],
    });

    this.tokens = {
      checked(result: CheckResult, fromCache: boolean, seconds: number) {
        checks.inc(result * 2 + (fromCache ? 1 : 0));
        checkSeconds.observe(seconds);
      },
      cacheLookup(hit: boolean) {
        cacheLookups.inc(hit ? 1 : 0);
      },
      loggedIn(backend: string, result: LoginResult, seconds: number) {
        logins.inc({ backend, result });
        loginSeconds.observe(seconds);
      },
      issued(grant: Grant) {
        issued.inc({ grant });
      },
      revoked(reason: RevokeReason, count: number) {
        if (count > 0) revoked.inc({ reason }, count);
      },
    };

    const requests = this.httpRequests;
    const http = new Counter({
      name: `${METRIC_PREFIX}http_requests_total`,
      help: 'HTTP requests answered, by method, route template (never the raw URL) and status code.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, count } of requests.values()) this.inc(labels, count);
      },
    });
    void http;
  }

  /**
   * Counts every answered request of `app` by route template: each route
   * gets its own onResponse hook bound to its template, so nothing is built
   * per request (request.routeOptions would allocate an object per call).
   * Register before the routes.
   */
  observeHttp(app: FastifyInstance): void {
    const seriesOf = (route: string) => this.routeCounter(route);
    app.addHook('onRoute', function instrumentRoute(route) {
      const count = seriesOf(route.url ?? route.path);
      const hook = function countRequest(request: FastifyRequest, reply: FastifyReply, done: () => void) {
        count(request.method, reply.statusCode);
        done();
      };
      const existing =
        route.onResponse === undefined ? [] : Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse];
      route.onResponse = [...existing, hook] as typeof route.onResponse;
    });
    this.countUnmatched = seriesOf('unmatched');
  }

  private readonly routeCounters = new Map<string, (method: string, status: number) => void>();

  /** The request counter of one route template (one per template, made once). */
  routeCounter(route: string): (method: string, status: number) => void {
    const known = this.routeCounters.get(route);
    if (known !== undefined) return known;
    const requests = this.httpRequests;
    const make = (route: string) => {
      const byMethod = new Map<string, Map<number, { count: number }>>();
      return function count(method: string, status: number): void {
        let byStatus = byMethod.get(method);
        if (byStatus === undefined) {
          byStatus = new Map();
          byMethod.set(method, byStatus);
        }
        let series = byStatus.get(status);
        if (series === undefined) {
          const entry = { labels: { method, route, status: String(status) }, count: 0 };
          requests.set(`${method} ${status} ${route}`, entry);
          series = entry;
          byStatus.set(status, series);
        }
        series.count += 1;
      };
    };
    const counter = make(route);
    this.routeCounters.set(route, counter);
    return counter;
  }

  /** Requests no route matched (the not-found handler calls it). */
  countUnmatched: (method: string, status: number) => void = () => {};

  /** Hash latency (wrapping the hasher's methods) and queue depth (read at scrape time). */
  /**
   * The event relay: events published (confirmed by the broker), and the
   * outbox backlog, read from the store when scraped (a failed read leaves
   * the gauge unset for that scrape).
   */
  observeEvents(
    backlog: () => Promise<{ pending: number; oldestCreatedAt: number | null }>,
    now: () => number,
  ): (count: number) => void {
    const published = new Counter({
      name: `${METRIC_PREFIX}events_published_total`,
      help: 'Events published to the message bus and confirmed by the broker.',
      registers: [this.registry],
    });
    // Both gauges are collected at once on a scrape: one store read serves them.
    let reading: Promise<{ pending: number; oldestCreatedAt: number | null }> | null = null;
    const read = () =>
      (reading ??= backlog().finally(() => {
        reading = null;
      }));
    new Gauge({
      name: `${METRIC_PREFIX}outbox_events`,
      help: 'Events waiting in the outbox.',
      registers: [this.registry],
      async collect() {
        try {
          this.set((await read()).pending);
        } catch {
          this.reset();
        }
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}outbox_oldest_event_age_seconds`,
      help: 'Age of the oldest event waiting in the outbox (0 when empty).',
      registers: [this.registry],
      async collect() {
        try {
          const { oldestCreatedAt } = await read();
          this.set(oldestCreatedAt === null ? 0 : Math.max(0, (now() - oldestCreatedAt) / 1000));
        } catch {
          this.reset();
        }
      },
    });
    return (count) => published.inc(count);
  }

  /**
   * Statements sent to the database by this process, read at scrape time
   * from `sent` (the store's drivers count them: src/store/statement-count.ts).
   */
  observeStatements(sent: (engine: 'sqlite' | 'postgresql') => number): void {
    new Counter({
      name: `${METRIC_PREFIX}db_statements_total`,
      help: 'Statements sent to the database by this process, by engine (sqlite, postgresql); BEGIN and COMMIT included.',
      labelNames: ['engine'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const engine of ['sqlite', 'postgresql'] as const) this.inc({ engine }, sent(engine));
      },
    });
  }

  observeHasher(hasher: PasswordHasher): void {
    const seconds = new Histogram({
      name: `${METRIC_PREFIX}password_hash_duration_seconds`,
      help: 'Time to hash or verify a password, queueing included, in seconds.',
      labelNames: ['operation'],
      buckets: SLOW_BUCKETS,
      registers: [this.registry],
    });
    const timed = <A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>) =>
      async function timedHash(...args: A): Promise<R> {
        const end = seconds.startTimer({ operation });
        try {
          return await fn(...args);
        } finally {
          end();
        }
      };
    hasher.hash = timed('hash', hasher.hash.bind(hasher));
    hasher.verify = timed('verify', hasher.verify.bind(hasher));
    new Gauge({
      name: `${METRIC_PREFIX}password_hash_queue`,
      help: 'Password hashes in flight and waiting for a slot, by state.',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const stats = hasher.stats;
        this.set({ state: 'in_flight' }, stats.inFlight);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
  }

  /** Size, state and evictions of the token cache (read at scrape time). */
  observeCache(cache: TokenCache): void {
    new Gauge({
      name: `${METRIC_PREFIX}token_cache_entries`,
      help: 'Token records in the in-process cache.',
      registers: [this.registry],
      collect() {
        this.set(cache.size);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}token_cache_active`,
      help: '1 while the token cache is used (revocation notices flowing), 0 while bypassed.',
      registers: [this.registry],
      collect() {
        this.set(cache.isActive ? 1 : 0);
      },
    });
    new Counter({
      name: `${METRIC_PREFIX}token_cache_evictions_total`,
      help: 'Token records evicted from the full cache (least recently used).',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(cache.evictions);
      },
    });
  }

  reaperRemoved(count: number): void {
    if (count > 0) this.reaperDeleted.inc(count);
  }

  /** Stops the event-loop sampling timer (on service close). */
  close(): void {
    this.eventLoop?.close();
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
