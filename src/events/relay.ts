// The outbox relay: publishes committed events to the AMQP exchange with
// publisher confirms, deletes them once confirmed, retries with back-off.
// At-least-once: a batch whose confirms do not all arrive is published again
// (consumers may see an event twice, never miss one); events leave in outbox
// order (PostgreSQL: one instance relays at a time), so the events of one
// session keep their order.
//
// Requests never wait for the broker: they only write the outbox.
import amqp from 'amqplib';
import type { ConfirmChannel, ChannelModel } from 'amqplib';
import type { Logger } from 'pino';
import type { OutboxStore } from './store.js';
import { eventHeaders, type OutboxEvent } from './catalog.js';
import { WakeUp } from '../wake-up.js';
import { context, injectContext, SpanKind, SpanStatusCode, startSpan, trace, tracing } from '../tracing/tracing.js';

export interface RelayOptions {
  uri: string;
  exchangeName: string;
  exchangeType: string;
  /** `origin_uuid` of every event (the configured `uuid`). */
  originUuid: string | null;
  batchSize: number;
  /** Poll for events of other instances (and missed wake-ups) this often. */
  pollIntervalMs: number;
  /** Connecting, and waiting for a batch's confirms, give up after this. */
  timeoutMs: number;
  /** Back-off after a failure: doubles from retryMinMs up to retryMaxMs. */
  retryMinMs: number;
  retryMaxMs: number;
}

export type BusState = 'connecting' | 'ok' | 'fail';

export interface RelayStatus {
  status: BusState;
  /** Events published and confirmed since start. */
  published: number;
  /** Consecutive failed attempts (0 when healthy). */
  failures: number;
  lastError: string | null;
}

/** Rejects after `ms` unless `promise` settles first. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A human-readable reason, with no URI (it may hold a password). */
function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/amqps?:\/\/[^\s]*/g, 'amqp://…');
}

export class EventRelay {
  private connection: ChannelModel | null = null;
  private channel: ConfirmChannel | null = null;
  private state: BusState = 'connecting';
  private published = 0;
  private failures = 0;
  private lastError: string | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly waker = new WakeUp();

  constructor(
    private readonly store: Pick<OutboxStore, 'relayEvents'>,
    private readonly options: RelayOptions,
    private readonly logger: Pick<Logger, 'info' | 'warn' | 'debug'>,
    private readonly onPublished: (count: number) => void = () => undefined,
  ) {}

  start(): void {
    if (this.running !== null) return;
    this.stopped = false;
    this.waker.resume();
    this.running = this.loop();
  }

  /** Events were committed: relay them now rather than at the next poll. */
  wake(): void {
    this.waker.wake();
  }

  status(): RelayStatus {
    return { status: this.state, published: this.published, failures: this.failures, lastError: this.lastError };
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.waker.stop();
    await this.running;
    this.running = null;
    await this.disconnect();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let relayed: number | null = 0;
      try {
        const channel = await this.ensureChannel();
        relayed = await this.store.relayEvents(this.options.batchSize, (events) => this.publish(channel, events));
        if (this.failures > 0) this.logger.info({ after_failures: this.failures }, 'event bus: publishing again');
        this.failures = 0;
        this.lastError = null;
        this.state = 'ok';
      } catch (err) {
        this.failures += 1;
        this.lastError = reasonOf(err);
        this.state = 'fail';
        // One line when it starts failing, then every 10th attempt: no log flood.
        if (this.failures === 1 || this.failures % 10 === 0) {
          this.logger.warn(
            { failures: this.failures, reason: this.lastError },
            'event bus: cannot publish; events stay in the outbox',
          );
        }
        await this.disconnect();
        await this.waker.sleep(this.backoffMs(), false);
        continue;
      }
      // A full batch: more may be waiting. Otherwise wait for a wake-up or the poll.
      if (relayed === this.options.batchSize) continue;
      await this.waker.sleep(this.options.pollIntervalMs);
    }
  }

  private backoffMs(): number {
    const { retryMinMs, retryMaxMs } = this.options;
    return Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(this.failures - 1, 20));
  }

  private async ensureChannel(): Promise<ConfirmChannel> {
    if (this.channel !== null) return this.channel;
    const { uri, exchangeName, exchangeType, timeoutMs } = this.options;
    const connection = await within(amqp.connect(uri, { timeout: timeoutMs }), timeoutMs, 'connecting to the broker');
    // Errors are reported through 'close' too; a listener keeps them from
    // being uncaught exceptions.
    connection.on('error', () => undefined);
    connection.on('close', () => {
      if (this.connection === connection) {
        this.connection = null;
        this.channel = null;
      }
    });
    try {
      const channel = await within(connection.createConfirmChannel(), timeoutMs, 'opening a channel');
      channel.on('error', () => undefined);
      channel.on('close', () => {
        if (this.channel === channel) this.channel = null;
      });
      await within(channel.assertExchange(exchangeName, exchangeType, { durable: true }), timeoutMs, 'declaring the exchange');
      this.connection = connection;
      this.channel = channel;
      this.logger.info({ exchange: exchangeName }, 'event bus connected');
      return channel;
    } catch (err) {
      await connection.close().catch(() => undefined);
      throw err;
    }
  }

  /** Publishes the batch; resolves with its size once every message is confirmed. */
  private async publish(channel: ConfirmChannel, events: OutboxEvent[]): Promise<number> {
    if (!tracing.enabled) return this.publishBatch(channel, events, null);
    // The outbox row keeps no trace context (no column for it): each batch
    // is its own trace, whose span's traceparent the messages carry.
    const span = startSpan(
      `${this.options.exchangeName} publish`,
      {
        'messaging.system': 'rabbitmq',
        'messaging.operation.type': 'send',
        'messaging.destination.name': this.options.exchangeName,
        'messaging.batch.message_count': events.length,
      },
      SpanKind.PRODUCER,
    );
    const traceHeaders: Record<string, unknown> = {};
    injectContext(traceHeaders, trace.setSpan(context.active(), span));
    try {
      return await this.publishBatch(channel, events, traceHeaders);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).name });
      throw err;
    } finally {
      span.end();
    }
  }

  private async publishBatch(
    channel: ConfirmChannel,
    events: OutboxEvent[],
    traceHeaders: Record<string, unknown> | null,
  ): Promise<number> {
    const { exchangeName, originUuid, timeoutMs } = this.options;
    const confirms = events.map(
      (event) =>
        new Promise<void>((resolve, reject) => {
          const headers = eventHeaders(event, originUuid);
          const body = Buffer.from(JSON.stringify({ ...headers, data: event.data }));
          channel.publish(
            exchangeName,
            event.routingKey,
            body,
            {
              // traceparent/tracestate in the message's headers only, not its body.
              headers: traceHeaders === null ? headers : { ...headers, ...traceHeaders },
              contentType: 'application/json',
              deliveryMode: 2,
              messageId: `${originUuid ?? 'xivo-auth'}:${event.id}`,
              timestamp: Math.floor(event.createdAt / 1000),
            },
            (err: unknown) => (err ? reject(err instanceof Error ? err : new Error('message nacked by the broker')) : resolve()),
          );
        }),
    );
    // All or nothing: a partial batch is published again whole (at least once).
    await within(Promise.all(confirms), timeoutMs, 'waiting for publisher confirms');
    this.published += events.length;
    this.onPublished(events.length);
    return events.length;
  }

  private async disconnect(): Promise<void> {
    const connection = this.connection;
    this.connection = null;
    this.channel = null;
    if (connection !== null) await connection.close().catch(() => undefined);
  }
}
