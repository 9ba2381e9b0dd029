// Builds the event bus side for the composition root (src/main.ts), when
// amqp.enabled: the relay publishing the outbox (events are written to it
// with each change) and the expire-soon notifier; and the bus part of
// GET /status, either way.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/types.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/types.js';
import { ExpireSoonNotifier } from '../events/expire-soon.js';
import { EventRelay } from '../events/relay.js';

export interface Events {
  relay: EventRelay | null;
  expireSoon: ExpireSoonNotifier | null;
  /** The bus part of GET /status: the relay's state and the outbox backlog. */
  busStatus(): Promise<Record<string, unknown>>;
  /** Events were committed outside the store (the SQLite purge thread): relay them now. */
  wake(): void;
  start(): void;
  /** Committed events not yet published stay in the outbox for the next start. */
  close(): Promise<void>;
}

export function createEvents(deps: { config: Config; store: Store; clock: Clock; logger: Logger; metrics: Metrics }): Events {
  const { config, store, clock, logger } = deps;
  const { amqp } = config;
  const relay = amqp.enabled
    ? new EventRelay(
        store,
        {
          uri: amqp.uri,
          exchangeName: amqp.exchange_name,
          exchangeType: amqp.exchange_type,
          originUuid: config.uuid,
          batchSize: amqp.batch_size,
          pollIntervalMs: amqp.poll_interval_ms,
          timeoutMs: amqp.timeout_ms,
          retryMinMs: amqp.retry_min_ms,
          retryMaxMs: amqp.retry_max_ms,
        },
        logger,
        deps.metrics.observeEvents(
          () => store.outboxBacklog(),
          () => clock.now(),
        ),
      )
    : null;
  if (relay !== null) store.onEventsCommitted(() => relay.wake());
  const expireSoon = amqp.enabled
    ? new ExpireSoonNotifier(store, clock, logger, {
        delaySeconds: amqp.expire_soon_seconds,
        intervalSeconds: Math.max(1, Math.min(5, Math.floor(amqp.expire_soon_seconds / 4))),
        batchSize: config.token_cleanup_batch_size,
      })
    : null;
  return {
    relay,
    expireSoon,
    async busStatus() {
      if (relay === null) return { status: 'disabled' };
      const { status, published, failures, lastError } = relay.status();
      let outbox: Record<string, unknown>;
      try {
        const backlog = await store.outboxBacklog();
        outbox = {
          pending: backlog.pending,
          oldest_age_seconds:
            backlog.oldestCreatedAt === null ? 0 : Math.max(0, Math.round((clock.now() - backlog.oldestCreatedAt) / 1000)),
        };
      } catch {
        outbox = { status: 'unknown' };
      }
      return { status, published, failures, last_error: lastError, outbox };
    },
    wake: () => relay?.wake(),
    start() {
      relay?.start();
      expireSoon?.start();
    },
    async close() {
      await expireSoon?.stop();
      await relay?.close();
    },
  };
}
