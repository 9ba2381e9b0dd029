// Service endpoints: status, backends, the OpenAPI document.
//   GET|HEAD /status    GET /backends    GET /api/api.yml
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';

const ComponentStatus = Type.Object({ status: Type.String() }, { additionalProperties: true });
const Status = Type.Object({
  rest_api: ComponentStatus,
  store: ComponentStatus,
  bus: ComponentStatus,
  /** ok: revocation notices flow, records are cached; fail: notices lost, cache flushed and bypassed; disabled: max_entries 0. */
  token_cache: Type.Optional(ComponentStatus),
  /** The mail outbox (issue 21): ok, fail (deliveries failing: mails wait, none lost) or disabled (this instance does not deliver). */
  mail: Type.Optional(ComponentStatus),
});

export interface ServiceRouteDeps {
  ping: () => Promise<void>;
  backendNames: () => string[];
  busStatus: () => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** Cache invalidation health (not a reason for 503: checks then read the store). */
  cacheStatus?: () => Record<string, unknown>;
  /** The mail outbox and its relay (not a reason for 503: mails wait in the outbox). */
  mailStatus?: () => Promise<Record<string, unknown>>;
  openApiDocument: () => string;
}

export async function serviceRoutes(app: FastifyInstance, deps: ServiceRouteDeps): Promise<void> {
  async function status() {
    let store = 'ok';
    try {
      await deps.ping();
    } catch {
      store = 'fail';
    }
    const body = { rest_api: { status: 'ok' }, store: { status: store }, bus: await deps.busStatus() };
    const withCache = deps.cacheStatus === undefined ? body : { ...body, token_cache: deps.cacheStatus() };
    return deps.mailStatus === undefined ? withCache : { ...withCache, mail: await deps.mailStatus() };
  }

  app.get(
    '/status',
    {
      schema: { summary: 'Health of the service and its components', tags: ['status'], response: { 200: Status, 503: Status } },
    },
    async function getStatus(_request, reply) {
      const body = await status();
      return reply.code(body.store.status === 'ok' ? 200 : 503).send(body);
    },
  );

  app.head(
    '/status',
    {
      schema: { summary: 'Health, without a body', tags: ['status'] },
    },
    async function headStatus(_request, reply) {
      const body = await status();
      return reply.code(body.store.status === 'ok' ? 200 : 503).send();
    },
  );

  app.get(
    '/backends',
    {
      schema: {
        summary: 'Enabled authentication backends',
        tags: ['backends'],
        response: { 200: Type.Object({ data: Type.Array(Type.String()) }) },
      },
    },
    async function listBackends() {
      return { data: deps.backendNames() };
    },
  );

  app.get(
    '/api/api.yml',
    {
      schema: { summary: 'This OpenAPI document', tags: ['status'] },
    },
    async function getApiDocument(_request, reply) {
      return reply.type('application/x-yaml; charset=utf-8').send(deps.openApiDocument());
    },
  );
}
