// Probes and metrics, served at the root (public API) or on the management
// listener.
//   GET /health/live    the process answers (no dependency: a database outage
//                       must not make an orchestrator restart every instance)
//   GET /health/ready   store reachable, its schema the version this build
//                       expects, revocation listener connected, not
//                       draining; 503 otherwise, naming the failed checks
//   GET /metrics        Prometheus text exposition
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

export interface ReadinessCheck {
  /** Resolves when the database answers; throws otherwise. */
  store(): Promise<void>;
  /** The database's schema is the version this build expects (no migration missing, none unknown). */
  migrations(): boolean | Promise<boolean>;
  /** Revocation notices flow (PostgreSQL LISTEN connected; always true on SQLite). */
  listener(): boolean;
  draining(): boolean;
}

export interface HealthRouteDeps {
  readiness: ReadinessCheck;
  /** Absent: /metrics is not served by this instance. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** Longest wait for the store before calling it unreachable. Default 2000 ms. */
  storeTimeoutMs?: number;
}

const Check = Type.Union([Type.Literal('ok'), Type.Literal('fail')]);
const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  checks: Type.Object({ store: Check, migrations: Check, listener: Check, draining: Check }),
});

async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function healthRoutes(instance: FastifyInstance, deps: HealthRouteDeps): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { readiness } = deps;
  const noStore = { 'cache-control': 'no-store' };

  app.get(
    '/health/live',
    {
      schema: {
        summary: 'Liveness: the process and its event loop answer',
        tags: ['health'],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async function live(_request, reply) {
      reply.headers(noStore);
      return { status: 'ok' as const };
    },
  );

  app.get(
    '/health/ready',
    {
      schema: {
        summary:
          'Readiness: store reachable, schema at the version this build expects, revocation listener connected, not draining (503 otherwise)',
        tags: ['health'],
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async function ready(_request, reply) {
      const timeoutMs = deps.storeTimeoutMs ?? 2000;
      const [store, migrations] = await Promise.all([
        within(readiness.store(), timeoutMs).then(
          () => 'ok' as const,
          () => 'fail' as const,
        ),
        within(
          Promise.resolve().then(() => readiness.migrations()),
          timeoutMs,
        ).then(
          (ok) => (ok ? ('ok' as const) : ('fail' as const)),
          () => 'fail' as const,
        ),
      ]);
      const checks = {
        store,
        migrations,
        listener: readiness.listener() ? ('ok' as const) : ('fail' as const),
        draining: readiness.draining() ? ('fail' as const) : ('ok' as const),
      };
      const ok = Object.values(checks).every((c) => c === 'ok');
      reply.headers(noStore).code(ok ? 200 : 503);
      return { status: ok ? ('ready' as const) : ('not_ready' as const), checks };
    },
  );

  const { metrics } = deps;
  if (metrics !== undefined) {
    app.get(
      '/metrics',
      {
        schema: { summary: 'Prometheus metrics (text exposition format)', tags: ['health'] },
      },
      async function scrape(_request, reply) {
        const { contentType, body } = await metrics();
        return reply.headers(noStore).type(contentType).send(body);
      },
    );
  }
}

/** The management listener: health probes and metrics only, apart from the public API. */
export async function buildManagementApp(deps: {
  logger: Logger;
  readiness: ReadinessCheck;
  metrics: { scrape(): Promise<{ contentType: string; body: string }> };
}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger.child({ listener: 'management' }, { level: 'warn' }),
    exposeHeadRoutes: false,
  }) as unknown as FastifyInstance;
  await healthRoutes(app, { readiness: deps.readiness, metrics: () => deps.metrics.scrape() });
  return app;
}
