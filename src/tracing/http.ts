// Server spans (src/tracing/tracing.ts): one per request, named
// `METHOD /route/template`, with http.request.method, http.route and
// http.response.status_code only: never the URL (a token may be in its
// path), a query string or a header value. An incoming W3C `traceparent`
// is honoured (the span is its child).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { context, extractContext, SpanKind, SpanStatusCode, startSpan, trace } from './tracing.js';
import type { Span } from '@opentelemetry/api';

const SPAN = Symbol('xivo-auth.server-span');
type Traced = { [SPAN]?: Span };

function finish(span: Span, status: number): void {
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** Fastify hooks: register only when tracing is on (before the routes). */
export function registerTracingHooks(app: FastifyInstance): void {
  app.addHook('onRequest', function traceOnRequest(request: FastifyRequest, _reply: FastifyReply, done: () => void) {
    const route = request.routeOptions.url ?? '(no route)';
    const span = startSpan(
      `${request.method} ${route}`,
      {
        'http.request.method': request.method,
        'http.route': route,
      },
      SpanKind.SERVER,
      extractContext(request.headers as Record<string, unknown>),
    );
    (request as unknown as Traced)[SPAN] = span;
    // The rest of the request (its store calls, hashing...) runs in the span's context.
    context.with(trace.setSpan(context.active(), span), done);
  });
  // After body parsing, whose callbacks run outside the request's context: enter it again.
  app.addHook('preHandler', function traceContext(request: FastifyRequest, _reply: FastifyReply, done: () => void) {
    const span = (request as unknown as Traced)[SPAN];
    if (span === undefined) return done();
    context.with(trace.setSpan(context.active(), span), done);
  });
  app.addHook('onResponse', function traceOnResponse(request: FastifyRequest, reply: FastifyReply, done: () => void) {
    const span = (request as unknown as Traced)[SPAN];
    if (span !== undefined) finish(span, reply.statusCode);
    done();
  });
}

/**
 * The fast path (src/http/fast-check.ts), which bypasses Fastify: a server
 * span around `run`, ended when the answer is sent. Only when tracing is on.
 */
export function traceRawRequest<T>(req: IncomingMessage, res: ServerResponse, route: string, run: () => T): T {
  const method = req.method ?? 'GET';
  const span = startSpan(
    `${method} ${route}`,
    { 'http.request.method': method, 'http.route': route },
    SpanKind.SERVER,
    extractContext(req.headers as Record<string, unknown>),
  );
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    finish(span, res.statusCode);
  };
  res.once('finish', end);
  res.once('close', end);
  return context.with(trace.setSpan(context.active(), span), run);
}
