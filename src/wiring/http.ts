// Builds the HTTP side for the composition root (src/main.ts): TLS from the
// configured files, the live settings a reload changes, the API app, and the
// management app (metrics, health) when `management.enabled`; listens, drains
// and closes them.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from '../app.js';
import type { Config } from '../config/types.js';
import type { Metrics } from '../metrics/metrics.js';
import { LiveHttpSettings } from '../http/live-settings.js';
import { buildManagementApp, type ReadinessCheck } from '../http/routes/health.js';

export interface Http {
  app: FastifyInstance;
  management: FastifyInstance | null;
  /** Read per request; a reload changes it (Service.applyLiveConfig). */
  live: LiveHttpSettings;
  /** The API listener, then the management one. */
  listen(): Promise<{ url: string; managementUrl: string | null }>;
  /**
   * Keeps accepting `graceMs` more, answering with `Connection: close`:
   * connections already queued in the kernel are served instead of reset.
   */
  drain(graceMs: number): Promise<void>;
  /** The API app (in-flight requests finish), then the management app. */
  close(): Promise<void>;
}

/** TLS is configured: rest_api.certificate and rest_api.private_key. */
export function servesHttps(config: Config): boolean {
  return Boolean(config.rest_api.certificate && config.rest_api.private_key);
}

export async function createHttp(
  deps: Omit<AppDeps, 'https' | 'live' | 'readiness' | 'metrics'> & {
    readiness: ReadinessCheck;
    metrics: Metrics;
  },
): Promise<Http> {
  const { config, logger, readiness, metrics } = deps;
  const { certificate, private_key: privateKey } = config.rest_api;
  const https = certificate && privateKey ? { cert: readFileSync(certificate), key: readFileSync(privateKey) } : null;
  const live = new LiveHttpSettings(config, deps.tokens, logger);
  const app = await buildApp({ ...deps, https, live });
  let management: FastifyInstance | null;
  try {
    management = config.management.enabled ? await buildManagementApp({ logger, readiness, metrics }) : null;
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  return {
    app,
    management,
    live,
    async listen() {
      const url = await app.listen({ host: config.rest_api.listen, port: config.rest_api.port });
      const managementUrl =
        management === null ? null : await management.listen({ host: config.management.listen, port: config.management.port });
      return { url, managementUrl };
    },
    async drain(graceMs) {
      app.server.prependListener('request', function askToReconnect(_req, res) {
        res.shouldKeepAlive = false;
      });
      await new Promise((resolve) => setTimeout(resolve, graceMs));
    },
    async close() {
      await app.close();
      await management?.close();
    },
  };
}
