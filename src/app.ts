// buildApp(deps): the Fastify instance with every route, no I/O, never
// listens. main.ts listens; tests use inject() or listen on port 0.
import cors from '@fastify/cors';
import Ajv from 'ajv';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/types.js';
import type { TenantTree } from './identity/tenant-tree.js';
import type { UserService } from './identity/users.js';
import { createAuthGuard } from './http/auth.js';
import { registerJsonBodyParser } from './http/body.js';
import { handleError, handleNotFound } from './http/errors.js';
import { OpenApiCollector } from './http/openapi.js';
import { serviceRoutes } from './http/routes/service.js';
import { tokenRoutes } from './http/routes/token.js';
import { userRoutes } from './http/routes/users.js';
import type { TokenService } from './tokens/service.js';

export const API_VERSION = '0.1';

export interface AppDeps {
  config: Config;
  logger: Logger;
  tokens: TokenService;
  users: UserService;
  tenants: TenantTree;
  backendNames: () => string[];
  ping: () => Promise<void>;
  busStatus?: () => { status: string };
  https?: { cert: Buffer; key: Buffer } | null;
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
 * errors only (errors carry the request id themselves).
 */
function requestLoggerFactory(logger: Logger, debug: boolean) {
  const quiet = logger.child({}, { level: logger.levels.values[logger.level] >= logger.levels.values.warn ? logger.level : 'warn' });
  return function requestLogger(parent: Logger, bindings: object, opts: object): Logger {
    return debug ? parent.child(bindings, opts) : quiet;
  };
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const options = {
    loggerInstance: deps.logger,
    bodyLimit: config.rest_api.max_body_bytes,
    trustProxy: config.rest_api.num_proxies > 0 ? config.rest_api.num_proxies : false,
    exposeHeadRoutes: false,
    // Long enough for any client_id (1024) and token we accept in a path.
    routerOptions: { maxParamLength: 2048 },
    return503OnClosing: true,
    forceCloseConnections: false,
    requestIdHeader: false as const,
    ...(deps.https ? { https: deps.https } : {}),
  };
  const app = Fastify({ ...options, childLoggerFactory: requestLoggerFactory(deps.logger, config.debug) } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  app.setValidatorCompiler(createValidators());
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  app.decorateRequest('auth', null);
  registerJsonBodyParser(app);

  const openApi = new OpenApiCollector();
  app.addHook('onRoute', openApi.onRoute);

  if (config.rest_api.cors.enabled) {
    await app.register(cors, {
      origin: config.rest_api.cors.allow_origins.includes('*') ? true : config.rest_api.cors.allow_origins,
      allowedHeaders: config.rest_api.cors.allow_headers,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    });
  }

  const requireAccess = createAuthGuard(deps.tokens, deps.tenants);
  await app.register(async function api(scope) {
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
      defaultBackend: async () => 'xivo_user',
    });
    await userRoutes(scope, { users: deps.users, requireAccess });
    await serviceRoutes(scope, {
      ping: deps.ping,
      backendNames: deps.backendNames,
      busStatus: deps.busStatus ?? (() => ({ status: config.amqp.enabled ? 'unknown' : 'disabled' })),
      openApiDocument: () => openApi.document({ title: 'xivo-auth', version: API_VERSION }),
    });
  }, { prefix: `/${API_VERSION}` });

  return app;
}
