// /0.1/config: the running configuration, secrets masked (API.md §6).
//   GET   /config   auth.config.read     top tenant only
//   PATCH /config   auth.config.update   [{"op": "replace", "path": "/debug" | "/profiling_enabled", "value": true|false}]
// Turning debug on lowers the log level to debug at once, on this instance;
// off restores the level the service started with. profiling_enabled logs one
// info line per request served by Fastify (route template, status, time; see
// app.ts requestProfiler): no CPU profile is taken. Nothing else changes at
// run time, and only on the instance that answered.
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { maskSecrets } from '../../config/mask.js';
import type { Config } from '../../config/types.js';
import { UnauthorizedError } from '../../errors.js';
import { pinoLevel } from '../../logging.js';
import { authOf, type RequireAccess } from '../auth.js';
import { ApiError, AuthHeaders } from '../schemas/common.js';

const ConfigView = Type.Object(
  {},
  { additionalProperties: true, description: 'The running configuration; secrets are `********`.' },
);
const Patch = Type.Array(
  Type.Object(
    {
      op: Type.Literal('replace'),
      path: Type.Union([Type.Literal('/debug'), Type.Literal('/profiling_enabled')]),
      value: Type.Boolean(),
    },
    { additionalProperties: false },
  ),
  { minItems: 1, maxItems: 16 },
);
const errors = { 400: ApiError, 401: ApiError, 503: ApiError };

export interface ConfigRouteDeps {
  config: Config;
  logger: Pick<Logger, 'level'>;
  /** Per-request logging (app.ts): on while debug is. */
  debug: { on: boolean };
  /** Per-request timings (app.ts requestProfiler): on while profiling_enabled is. */
  profiling: { on: boolean };
  /** The top tenant's uuid (the configuration belongs to the whole installation). */
  topTenantUuid: () => Promise<string | null>;
  requireAccess: RequireAccess;
  /** The level debug off restores follows configuration reloads (src/http/live-settings.ts). */
  live?: { levelFor(debugOn: boolean): string };
}

export async function configRoutes(instance: FastifyInstance, deps: ConfigRouteDeps): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { config, logger, requireAccess } = deps;
  const tags = ['config'];
  const state = deps.debug;
  const profiling = deps.profiling;
  // The level set from the configuration at start-up, restored when debug goes off.
  const baseLevel = config.debug ? pinoLevel(config.log_level) : logger.level;

  const view = () => maskSecrets({ ...config, debug: state.on, profiling_enabled: profiling.on });

  /** The access was granted by the guard; the caller must also belong to the top tenant. */
  async function assertTopTenant(request: FastifyRequest, access: string): Promise<void> {
    const auth = authOf(request);
    const top = await deps.topTenantUuid();
    if (top === null || auth.token.tenantUuid !== top || auth.tenantUuid !== top) {
      throw new UnauthorizedError('<redacted>', 'missing_permission_or_invalid_tenant', access);
    }
  }

  app.get(
    '/config',
    {
      schema: {
        summary: 'The running configuration (secrets masked)',
        tags,
        headers: AuthHeaders,
        response: { 200: ConfigView, ...errors },
      },
      preHandler: requireAccess('auth.config.read'),
    },
    async function getConfig(request) {
      await assertTopTenant(request, 'auth.config.read');
      return view();
    },
  );

  app.patch(
    '/config',
    {
      schema: {
        summary: 'Change debug or profiling_enabled at run time',
        tags,
        headers: AuthHeaders,
        body: Patch,
        response: { 200: ConfigView, ...errors },
      },
      preHandler: requireAccess('auth.config.update'),
    },
    async function patchConfig(request) {
      await assertTopTenant(request, 'auth.config.update');
      for (const change of request.body) {
        if (change.path === '/debug') state.on = change.value;
        else profiling.on = change.value;
      }
      logger.level = deps.live ? deps.live.levelFor(state.on) : state.on ? 'debug' : baseLevel;
      return view();
    },
  );
}
