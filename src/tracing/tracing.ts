// OpenTelemetry traces (issue 26, item 4): opt-in (`tracing.enabled`),
// exported as OTLP/HTTP (JSON) to `tracing.endpoint`. Instrumented by hand,
// no require hooks: a server span per request (src/tracing/http.ts, and the
// check's fast path), child spans for the store (Kysely's query log), the
// password hashing, LDAP, AMQP publishing (traceparent injected into the
// message headers) and, once it exists, SMTP (traceSmtp below: the seam).
//
// Off (the default), nothing is registered: the hooks are not added, the
// store has no query log, and every other call site costs one boolean test
// (`tracing.enabled`). Attributes never carry a token, a password or a
// header value: routes are templates (`/0.1/token/:token`), never URLs.
// Only the (small) API is imported here; the SDK and exporter are loaded by
// startTracing when tracing is on (src/tracing/sdk.ts): off, they are never
// even loaded.
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { Logger } from 'pino';

export interface TracingConfig {
  enabled: boolean;
  /** OTLP/HTTP traces URL, e.g. http://collector:4318/v1/traces. */
  endpoint: string;
  /** Extra HTTP headers sent to the collector (e.g. an API key). */
  headers: Record<string, string>;
  service_name: string;
  /** Share of new traces recorded (a sampled incoming traceparent is always followed). */
  sample_ratio: number;
  /** Delay between two exports of the batch processor (ms). */
  batch_delay_ms: number;
  export_timeout_ms: number;
}

/** The one switch every instrumented call site tests first. */
export const tracing: { enabled: boolean; tracer: Tracer | null } = { enabled: false, tracer: null };

type Carrier = Record<string, unknown>;
const getter = {
  keys: (carrier: Carrier) => Object.keys(carrier),
  get: (carrier: Carrier, key: string) => {
    const value = carrier[key];
    return typeof value === 'string' || Array.isArray(value) ? (value as string | string[]) : undefined;
  },
};
const setter = {
  set: (carrier: Carrier, key: string, value: string) => {
    carrier[key] = value;
  },
};

let started = false;

/**
 * Loads the SDK, starts the exporter and turns the instrumentation on (once
 * per process). Resolves with the function flushing and stopping it.
 */
export async function startTracing(
  config: TracingConfig,
  logger: Pick<Logger, 'info' | 'warn'>,
  version = '0.1.0',
): Promise<() => Promise<void>> {
  if (!config.enabled || started) return async () => {};
  started = true;
  const { startSdk } = await import('./sdk.js');
  const sdk = startSdk(config, version);
  tracing.tracer = sdk.tracer;
  tracing.enabled = true;
  // The endpoint only: its URL may carry no secret, the headers may.
  logger.info({ endpoint: config.endpoint, sample_ratio: config.sample_ratio }, 'tracing on (OTLP/HTTP)');
  return async () => {
    tracing.enabled = false;
    tracing.tracer = null;
    await sdk.shutdown();
    started = false;
  };
}

/** The context an incoming request's `traceparent`/`tracestate` headers name (or the root). */
export function extractContext(headers: Carrier): Context {
  return propagation.extract(ROOT_CONTEXT, headers, getter);
}

/** Writes the active (or given) span's `traceparent`/`tracestate` into `carrier`. */
export function injectContext(carrier: Record<string, unknown>, ctx: Context = context.active()): void {
  propagation.inject(ctx, carrier, setter);
}

/** Starts a span (a child of the active one); the caller ends it. Only call when tracing.enabled. */
export function startSpan(
  name: string,
  attributes: Attributes,
  kind: SpanKind = SpanKind.INTERNAL,
  parent: Context = context.active(),
  startTime?: number,
): Span {
  return (tracing.tracer as Tracer).startSpan(
    name,
    { kind, attributes, ...(startTime === undefined ? {} : { startTime }) },
    parent,
  );
}

/** Runs `fn` in a child span of the active one, ended when it settles (error status on failure). */
export async function traced<T>(
  name: string,
  attributes: Attributes,
  fn: () => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  if (!tracing.enabled) return fn();
  const span = startSpan(name, attributes, kind);
  try {
    return await context.with(trace.setSpan(context.active(), span), fn);
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.name ?? 'error' });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * SMTP (issue 26: the self-service e-mail relay). The seam for src/mail:
 * wrap each SMTP send with `traceSmtp(host, () => transport.send(...))`.
 * Attributes: the relay's host only, never an address or a message.
 */
export function traceSmtp<T>(host: string, fn: () => Promise<T>): Promise<T> {
  return traced('smtp send', { 'server.address': host, 'network.protocol.name': 'smtp' }, fn, SpanKind.CLIENT);
}

/** Wraps a mail transport's send() in an SMTP span while tracing is on (src/mail/smtp.ts). */
export function traceMailTransport<M, T extends { send(mail: M): Promise<void> }>(host: string, transport: T): T {
  const send = transport.send.bind(transport);
  return { ...transport, send: (mail: M) => (tracing.enabled ? traceSmtp(host, () => send(mail)) : send(mail)) };
}

export { context, SpanKind, SpanStatusCode, trace };
