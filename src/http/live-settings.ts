// What the HTTP layer reads per request so that a configuration reload
// (src/config/reload.ts) or PATCH /config changes it at once: per-request
// logging (debug), profiling, the log level debug restores, CORS answers
// and the gateway's route table. Built by the composition root (or by
// buildApp when none is given) and shared by every piece reading it.
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { pinoLevel } from '../logging.js';
import type { TokenService } from '../login/token-service.js';
import { createAuthorizer, type Authorize, type AuthorizeCached } from './routes/gateway.js';

export interface CorsSettings {
  origin: boolean | string[];
  allowedHeaders: string[];
  methods: string[];
}

const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

export function corsSettings(cors: Config['rest_api']['cors']): CorsSettings {
  return {
    origin: cors.allow_origins.includes('*') ? true : [...cors.allow_origins],
    allowedHeaders: [...cors.allow_headers],
    methods: CORS_METHODS,
  };
}

export class LiveHttpSettings {
  /** Per-request logging (app.ts requestLoggerFactory); PATCH /config /debug. */
  readonly debug: { on: boolean };
  /** Per-request timings (app.ts requestProfiler); PATCH /config /profiling_enabled. */
  readonly profiling: { on: boolean };
  /** The level the logger has while debug is off (from log_level). */
  baseLevel: string;
  /** Read by the CORS hook on every request (when CORS was enabled at start). */
  cors: CorsSettings;
  private authorizer: ReturnType<typeof createAuthorizer>;
  /** The gateway decision (Fastify route and fast path); follows authz.* reloads. */
  readonly authorize: Authorize;
  /** The same, answered from the token cache when it can (the fast path); follows authz.* reloads. */
  readonly authorizeCached: AuthorizeCached;

  constructor(
    config: Config,
    private readonly tokens: TokenService,
    logger?: Pick<Logger, 'level'>,
  ) {
    this.debug = { on: config.debug };
    this.profiling = { on: config.profiling_enabled };
    this.baseLevel = config.debug || logger === undefined ? pinoLevel(config.log_level) : logger.level;
    this.cors = corsSettings(config.rest_api.cors);
    this.authorizer = createAuthorizer({ tokens, routes: config.authz.routes, cacheMaxAge: config.authz.cache_max_age });
    this.authorize = (headers, method, queryAccess, originalUri) => this.authorizer(headers, method, queryAccess, originalUri);
    this.authorizeCached = (headers, method, queryAccess, originalUri) =>
      this.authorizer.cached(headers, method, queryAccess, originalUri);
  }

  /** The logger's level for the current debug state. */
  levelFor(debugOn: boolean): string {
    return debugOn ? 'debug' : this.baseLevel;
  }

  /** Applies a reloaded configuration's HTTP part. */
  reconfigure(config: Config, logger: Pick<Logger, 'level'>, changed: readonly string[]): void {
    // Only what the file changed: a debug turned on by PATCH /config stays on
    // through a reload that changes, say, a rate limit.
    if (changed.includes('debug')) this.debug.on = config.debug;
    if (changed.includes('profiling_enabled')) this.profiling.on = config.profiling_enabled;
    this.baseLevel = pinoLevel(config.log_level);
    logger.level = this.levelFor(this.debug.on);
    this.cors = corsSettings(config.rest_api.cors);
    this.authorizer = createAuthorizer({
      tokens: this.tokens,
      routes: config.authz.routes,
      cacheMaxAge: config.authz.cache_max_age,
    });
  }
}
