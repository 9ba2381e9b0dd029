// buildApp(deps): the Fastify instance with every route, no I/O, never
// listens. main.ts listens; tests use inject() or listen on port 0.
import cors from '@fastify/cors';
import Ajv from 'ajv';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import http from 'node:http';
import https from 'node:https';
import { trustHops } from './http/client-address.js';
import { withFastCheck, type RequestListener } from './http/fast-check.js';
import { httpServerTimeouts, limitConnections } from './http/server-limits.js';
import { perRequestDbBudget } from './db-budget.js';
import { LiveHttpSettings } from './http/live-settings.js';
import { tracing } from './tracing/tracing.js';
import { registerTracingHooks } from './tracing/http.js';
import type { Logger } from 'pino';
import type { Config } from './config/types.js';
import type { TenantTree } from './identity/tenant-tree.js';
import type { UserService } from './identity/users.js';
import type { GroupService } from './identity/groups.js';
import type { PolicyService } from './identity/policies.js';
import type { SessionService } from './identity/sessions.js';
import type { TenantService } from './identity/tenants.js';
import { groupRoutes } from './http/routes/groups.js';
import { policyRoutes } from './http/routes/policies.js';
import { sessionRoutes } from './http/routes/sessions.js';
import { backendRoutes } from './http/routes/backends.js';
import type { LdapConfigService } from './backends/ldap/config-service.js';
import { tenantRoutes } from './http/routes/tenants.js';
import { createAuthGuard } from './http/auth.js';
import { registerJsonBodyParser } from './http/body.js';
import { handleError, handleNotFound } from './http/errors.js';
import { OpenApiCollector } from './http/openapi.js';
import { gatewayRoutes } from './http/routes/gateway.js';
import { healthRoutes, type ReadinessCheck } from './http/routes/health.js';
import { oauth2MetadataRoute, oauth2Routes } from './http/routes/oauth2.js';
import { serviceRoutes } from './http/routes/service.js';
import type { Metrics } from './metrics/metrics.js';
import { tokenRoutes } from './http/routes/token.js';
import { auditRoutes } from './http/routes/audit.js';
import { securityThrottleRoutes } from './http/routes/security-throttles.js';
import { consoleRoutes } from './http/routes/console.js';
import { configRoutes } from './http/routes/config.js';
import type { AuditRecorder, SecurityJanitor } from './security/audit.js';
import type { SecurityHttp } from './http/hardening.js';
import type { LoginGuard } from './login/login-guard.js';
import type { LoginThrottle } from './security/login-throttle.js';
import type { PasswordPolicy } from './security/password-policy.js';
import type { ThrottleAdmin } from './security/throttle-admin.js';
import { userRoutes } from './http/routes/users.js';
import { selfServiceRoutes } from './http/routes/self-service.js';
import type { SelfServiceDeps } from './identity/self-service-deps.js';
import { externalRoutes } from './http/routes/external.js';
import type { ExternalAuthService } from './external/service.js';
import { mfaRoutes } from './http/routes/mfa.js';
import { idpRoutes } from './http/routes/idp.js';
import { ssoRoutes } from './http/routes/sso.js';
import { samlRoutes } from './http/routes/saml.js';
import type { Sso } from './sso/services.js';
import type { SsoEscalationGuard } from './sso/escalation.js';
import type { MfaService } from './mfa/service.js';
import type { TokenService } from './login/token-service.js';

export const API_VERSION = '0.1';

/** The security pieces one service runs, as one object (built by src/wiring/security.ts). */
export interface SecurityDeps {
  http: SecurityHttp;
  loginGuard: LoginGuard;
  throttle: LoginThrottle;
  /** GET /security/throttles, DELETE /security/throttles/{id} (issue 25). */
  throttles: ThrottleAdmin;
  audit: AuditRecorder;
  passwordPolicy: PasswordPolicy;
  janitor: SecurityJanitor;
  /** The top tenant (sees audit records attached to no tenant). */
  topTenantUuid: () => Promise<string | null>;
}

export interface AppDeps {
  config: Config;
  logger: Logger;
  tokens: TokenService;
  users: UserService;
  tenants: TenantTree;
  /** Identity and access management services (tenants, policies, groups, sessions). */
  iam?: { tenants: TenantService; policies: PolicyService; groups: GroupService; sessions: SessionService };
  backendNames: () => string[];
  /** LDAP configuration per tenant (/backends/ldap) and the backend of a POST /token naming none (issue 6). */
  backends?: {
    ldap: LdapConfigService;
    defaultBackend: (body: { tenant_id?: string; domain_name?: string }) => Promise<string>;
    /** No escalation through the LDAP settings (the SSO guard, src/sso/escalation.ts). */
    escalation: SsoEscalationGuard;
  };
  ping: () => Promise<void>;
  busStatus?: () => Promise<Record<string, unknown>> | Record<string, unknown>;
  cacheStatus?: () => Record<string, unknown>;
  https?: { cert: Buffer; key: Buffer } | null;
  /** Counts requests; serves /metrics unless the management listener does. */
  metrics?: Metrics;
  /** Brute-force protection, rate limits, security headers, audit trail (issue 7; src/wiring/security.ts). */
  security?: SecurityDeps;
  /** /health/ready; default: the store answers. */
  readiness?: ReadinessCheck;
  /** External accounts: configurations, mobile push tokens, Google and Microsoft connections (issue 22). */
  external?: ExternalAuthService;
  /** Self-service accounts: email confirmation, password reset, registration, mail outbox (issue 21). */
  selfService?: Pick<SelfServiceDeps, 'service' | 'plugins' | 'status'>;
  /** Multi-factor authentication: a user's second factors (issue 24). */
  mfa?: MfaService;
  /** Single sign-on: authentication methods (/idp), OpenID Connect (issue 23; src/wiring/sso.ts). */
  sso?: Sso;
  /** What a configuration reload changes per request (src/http/live-settings.ts); default: built from config. */
  live?: LiveHttpSettings;
}

/**
 * Bodies are validated strictly (no type coercion: "600" is not an integer);
 * query strings and path parameters are strings on the wire, so they are coerced.
 */
function createValidators() {
  const strict = new Ajv.default({ coerceTypes: false, useDefaults: true, allErrors: false, strict: false });
  const coercing = new Ajv.default({ coerceTypes: true, useDefaults: true, allErrors: false, strict: false });
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema);
}

/**
 * Fastify makes a child logger per request and logs two info lines per
 * request. At the check path's rate that costs more than the check itself:
 * outside debug, every request shares one child that logs warnings and
 * errors only (errors carry the request id themselves). `debug` is read per
 * request: PATCH /config turns it on and off at run time.
 */
function requestLoggerFactory(logger: Logger, debug: { on: boolean }) {
  const quietFor = (level: string) =>
    logger.child({}, { level: logger.levels.values[level] >= logger.levels.values.warn ? level : 'warn' });
  // Rebuilt when a reload changes the level (src/config/reload.ts).
  let quietLevel = logger.level;
  let quiet = quietFor(quietLevel);
  return function requestLogger(parent: Logger, bindings: object, opts: object): Logger {
    if (debug.on) return parent.child(bindings, opts);
    if (logger.level !== quietLevel) {
      quietLevel = logger.level;
      quiet = quietFor(quietLevel);
    }
    return quiet;
  };
}

/**
 * `profiling_enabled` (config, PATCH /config): one info line per request
 * Fastify served, with its route template (never the raw URL: it may hold a
 * token), status and time. Not a CPU profiler: the figures are wall-clock
 * times of the request, read per request so PATCH /config switches it at once.
 */
function requestProfiler(logger: Logger, profiling: { on: boolean }) {
  return async function profileRequest(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!profiling.on) return;
    logger.info(
      {
        profile: {
          method: request.method,
          route: request.routeOptions.url ?? '(no route)',
          status: reply.statusCode,
          duration_ms: Math.round(reply.elapsedTime * 1000) / 1000,
        },
      },
      'request profile',
    );
  };
}

/**
 * The HTTP(S) server, with the token check's fast path in front of Fastify
 * (src/http/fast-check.ts). Off with CORS (the fast path adds no CORS
 * headers); stepping aside while debug is on (every request is then logged
 * by Fastify) and once the app is closing (Fastify answers 503).
 */
function serverFactory(deps: AppDeps, live: LiveHttpSettings, closing: { on: boolean }) {
  const fast = !deps.config.rest_api.cors.enabled;
  const counter = deps.metrics?.routeCounter(`/${API_VERSION}/token/:token`);
  const count = counter === undefined ? undefined : (status: number) => counter('HEAD', status);
  const authzCounter = deps.metrics?.routeCounter(`/${API_VERSION}/authz`);
  const authz = {
    // Follows authz.* reloads (src/http/live-settings.ts).
    authorize: live.authorize,
    cached: live.authorizeCached,
    count: authzCounter ?? (() => {}),
  };
  return function createServer(handler: RequestListener): http.Server {
    // Each request's store calls share one db_timeout_seconds (src/db-budget.ts):
    // every request Fastify answers, and the fast path's checks that reach
    // the store (it scopes them itself; a check the cache answers makes no store call).
    const budgeted = perRequestDbBudget(handler);
    const inner = fast ? withFastCheck(deps.tokens, budgeted, count, authz, { debug: live.debug, closing }) : budgeted;
    // Security headers and check rate limits also on the fast path's answers.
    const listener = deps.security ? deps.security.http.wrap(inner) : inner;
    // Larger request heads: 431 (Node answers it before any listener runs).
    // Slow clients: header and request timeouts (src/http/server-limits.ts).
    const limits = { maxHeaderSize: deps.config.security.max_header_bytes, ...httpServerTimeouts(deps.config.rest_api) };
    const server = deps.https ? https.createServer({ ...deps.https, ...limits }, listener) : http.createServer(limits, listener);
    limitConnections(server, deps.config.rest_api);
    return server;
  };
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const live = deps.live ?? new LiveHttpSettings(config, deps.tokens, deps.logger);
  // Set by the preClose hook below: the fast path then leaves every request to Fastify.
  const closing = { on: false };
  const options = {
    loggerInstance: deps.logger,
    bodyLimit: config.rest_api.max_body_bytes,
    trustProxy: trustHops(config.rest_api.num_proxies),
    exposeHeadRoutes: false,
    // Long enough for any client_id (1024) and token we accept in a path.
    routerOptions: { maxParamLength: 2048 },
    return503OnClosing: true,
    forceCloseConnections: false,
    requestIdHeader: false as const,
    serverFactory: serverFactory(deps, live, closing),
    // With serverFactory, Fastify only uses it to report an https:// address.
    ...(deps.https ? { https: deps.https } : {}),
  };
  const debug = live.debug;
  const app = Fastify({ ...options, childLoggerFactory: requestLoggerFactory(deps.logger, debug) } as Parameters<
    typeof Fastify
  >[0]) as unknown as FastifyInstance;

  app.setValidatorCompiler(createValidators());
  // Fastify marks itself closing before the preClose hooks run, and from then
  // on answers 503 to requests on connections still open (return503OnClosing).
  app.addHook('preClose', function fastPathStepsAside(done) {
    closing.on = true;
    done();
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(
    deps.metrics === undefined
      ? handleNotFound
      : function notFound(request, reply) {
          deps.metrics?.countUnmatched(request.method, 404);
          return handleNotFound(request, reply);
        },
  );
  app.decorateRequest('auth', null);
  registerJsonBodyParser(app);
  // Server spans (issue 26): registered only when tracing is on, so off costs nothing.
  if (tracing.enabled) registerTracingHooks(app);
  // Before the routes: the hooks apply to every route registered after them.
  deps.security?.http.register(app);

  const openApi = new OpenApiCollector();
  app.addHook('onRoute', openApi.onRoute);
  deps.metrics?.observeHttp(app);
  const profiling = live.profiling;
  app.addHook('onResponse', requestProfiler(deps.logger, profiling));

  if (config.rest_api.cors.enabled) {
    // Options read per request: a reload changes allow_origins/allow_headers at once.
    await app.register(cors, {
      delegator: (_request: unknown, callback: (err: Error | null, options: LiveHttpSettings['cors']) => void) =>
        callback(null, live.cors),
    } as unknown as Parameters<typeof cors>[1]);
  }

  const requireAccess = createAuthGuard(deps.tokens, deps.tenants);
  await app.register(
    async function api(scope) {
      await tokenRoutes(scope, {
        tokens: deps.tokens,
        requireAccess,
        users: {
          exists: async (uuid, scopeRoot) => {
            try {
              await deps.users.get(uuid, scopeRoot);
              return true;
            } catch (err) {
              if ((err as { errorId?: string }).errorId === 'unknown-user') return false;
              throw err;
            }
          },
        },
        defaultBackend: deps.backends?.defaultBackend ?? (async () => 'xivo_user'),
        loginGuard: deps.security?.loginGuard,
        sso: deps.sso?.logins,
        ssoChallenges: deps.mfa === undefined ? undefined : { principalOf: (challenge) => deps.mfa!.ssoChallenge(challenge) },
      });
      await userRoutes(scope, { users: deps.users, requireAccess });
      if (deps.selfService) {
        await selfServiceRoutes(scope, {
          selfService: deps.selfService.service,
          users: deps.users,
          tokens: deps.tokens,
          requireAccess,
          plugins: deps.selfService.plugins,
          confirmedPageMimetype: config.email_confirmation_get_mimetype,
        });
      }
      if (deps.iam) {
        await tenantRoutes(scope, { tenants: deps.iam.tenants, requireAccess });
        await policyRoutes(scope, { policies: deps.iam.policies, requireAccess });
        await groupRoutes(scope, { groups: deps.iam.groups, requireAccess });
        await sessionRoutes(scope, { sessions: deps.iam.sessions, requireAccess });
      }
      if (deps.backends) {
        await backendRoutes(scope, { ldap: deps.backends.ldap, escalation: deps.backends.escalation, requireAccess });
      }
      if (deps.external) {
        await externalRoutes(scope, { external: deps.external, requireAccess });
      }
      if (deps.sso) {
        await idpRoutes(scope, { idp: deps.sso.idp, requireAccess });
        await ssoRoutes(scope, { oidc: deps.sso.oidc, escalation: deps.sso.escalation, requireAccess });
        // Own context: the multipart and form parsers stay with the SAML routes.
        const sso = deps.sso;
        await scope.register(async function saml(child) {
          await samlRoutes(child, { saml: sso.saml, escalation: sso.escalation, requireAccess });
        });
      }
      if (deps.mfa) {
        await mfaRoutes(scope, { mfa: deps.mfa, users: deps.users, tenants: deps.iam?.tenants, requireAccess });
      }
      if (deps.security) {
        await auditRoutes(scope, {
          audit: deps.security.audit,
          tenants: deps.tenants,
          topTenantUuid: deps.security.topTenantUuid,
          requireAccess,
          auditActor: (actor, scopeRoot) => deps.users.auditActor(actor, scopeRoot),
        });
        await securityThrottleRoutes(scope, {
          throttles: deps.security.throttles,
          tenants: deps.tenants,
          topTenantUuid: deps.security.topTenantUuid,
          requireAccess,
        });
      }
      await configRoutes(scope, {
        config,
        logger: deps.logger,
        debug,
        profiling,
        requireAccess,
        live,
        topTenantUuid: deps.security?.topTenantUuid ?? (async () => null),
      });
      await gatewayRoutes(scope, {
        tokens: deps.tokens,
        routes: config.authz.routes,
        cacheMaxAge: config.authz.cache_max_age,
        authorize: live.authorize,
      });
      // Own context: the form parser and OAuth error shape stay with these routes.
      await scope.register(async function oauth2(child) {
        await oauth2Routes(child, { tokens: deps.tokens });
      });
      await serviceRoutes(scope, {
        ping: deps.ping,
        backendNames: deps.backendNames,
        busStatus: deps.busStatus ?? (() => ({ status: config.amqp.enabled ? 'unknown' : 'disabled' })),
        cacheStatus: deps.cacheStatus,
        mailStatus: deps.selfService?.status,
        openApiDocument: () => openApi.document({ title: 'xivo-auth', version: API_VERSION }),
      });
    },
    { prefix: `/${API_VERSION}` },
  );

  await oauth2MetadataRoute(app, `/${API_VERSION}`);
  // The admin web console (issue 25): static files with their own CSP.
  if (config.console.enabled) await consoleRoutes(app, { logger: deps.logger });
  await healthRoutes(app, {
    readiness: deps.readiness ?? { store: deps.ping, migrations: () => true, listener: () => true, draining: () => false },
    metrics: deps.metrics !== undefined && !config.management.enabled ? () => deps.metrics!.scrape() : undefined,
  });

  return app;
}
