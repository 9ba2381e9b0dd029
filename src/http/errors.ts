// The one place where errors become HTTP responses.
// Token endpoints (route config `legacyErrors`) answer the seed's body
// {reason:[msg], timestamp:[t], status_code}; every other endpoint answers
// {message, error_id, details, timestamp, resource?}.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ServiceUnavailableError } from '../errors.js';
import { StoreInvalidInputError, StoreUnavailableError } from '../storage-errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Answer errors with the legacy token-API body. */
    legacyErrors?: boolean;
  }
}

interface Problem {
  status: number;
  errorId: string;
  message: string;
  details: Record<string, unknown>;
  resource?: string;
  retryAfter?: number;
}

/**
 * Errors of POST /token whose legacy body also carries error_id and details
 * (a superset: old clients still read reason and status_code): the
 * multi-factor steps (issue 24) a client must tell apart from a wrong password.
 */
const LEGACY_WITH_DETAILS = new Set(['mfa-required', 'mfa-invalid', 'mfa-enrolment-required']);

function epochSeconds(): number {
  return Date.now() / 1000;
}

function validationDetails(err: FastifyError): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  for (const v of err.validation ?? []) {
    const missing = (v.params as { missingProperty?: string } | undefined)?.missingProperty;
    const path = `${v.instancePath.replace(/^\//, '').replace(/\//g, '.')}${missing ? (v.instancePath ? '.' : '') + missing : ''}`;
    const field = path === '' ? (err.validationContext ?? 'body') : path;
    // The first error of a field is the one that says what is wrong: a union
    // (a string or null) adds each branch's failure, then its own "anyOf".
    if (!(field in details)) details[field] = { constraint_id: v.keyword, message: v.message ?? 'invalid' };
  }
  return details;
}

function retryAfterOf(err: DomainError): number | undefined {
  const seconds = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  return typeof seconds === 'number' ? seconds : undefined;
}

/** Classifies any error; unknown ones are 500 with nothing but the request id. */
export function toProblem(err: unknown, requestId: string): Problem {
  if (err instanceof DomainError) {
    return {
      status: err.status,
      errorId: err.errorId,
      message: err.publicMessage,
      details: err.details,
      resource: err.resource,
      // 503 (ServiceUnavailableError) and 429 (src/security/errors.ts) may say when to retry.
      retryAfter: err instanceof ServiceUnavailableError ? err.retryAfterSeconds : retryAfterOf(err),
    };
  }
  if (err instanceof StoreUnavailableError) {
    return { status: 503, errorId: 'service-unavailable', message: 'The store is unavailable', details: {}, retryAfter: 1 };
  }
  if (err instanceof StoreInvalidInputError) {
    return { status: 400, errorId: 'invalid-data', message: 'Invalid data', details: {} };
  }
  const fe = err as FastifyError;
  if (fe && Array.isArray(fe.validation)) {
    const where = fe.validationContext ?? 'body';
    return {
      status: 400,
      errorId: where === 'querystring' ? 'invalid-list-param' : 'invalid-data',
      message: `Invalid ${where}: ${fe.message}`,
      details: validationDetails(fe),
    };
  }
  if (fe && fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, errorId: 'payload-too-large', message: 'Request body too large', details: {} };
  }
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own client errors (bad JSON, bad content length, ...): their messages are safe.
    return { status: fe.statusCode, errorId: 'invalid-data', message: fe.message, details: {} };
  }
  return { status: 500, errorId: 'internal-error', message: 'Internal server error', details: { request_id: requestId } };
}

export function sendProblem(problem: Problem, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (problem.retryAfter !== undefined) reply.header('Retry-After', String(problem.retryAfter));
  reply.code(problem.status).type('application/json; charset=utf-8');
  if (request.routeOptions.config?.legacyErrors) {
    const legacy: Record<string, unknown> = {
      reason: [problem.message],
      timestamp: [epochSeconds()],
      status_code: problem.status,
    };
    if (LEGACY_WITH_DETAILS.has(problem.errorId)) {
      legacy.error_id = problem.errorId;
      legacy.details = problem.details;
    }
    return reply.send(legacy);
  }
  const body: Record<string, unknown> = {
    message: problem.message,
    error_id: problem.errorId,
    details: problem.details,
    timestamp: epochSeconds(),
  };
  if (problem.resource !== undefined) body.resource = problem.resource;
  return reply.send(body);
}

export function handleError(this: unknown, err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const problem = toProblem(err, request.id);
  if (problem.status >= 500) {
    if (problem.status === 500) request.log.error({ err, request_id: request.id }, 'unhandled error');
    else
      request.log.warn(
        { err: { message: (err as Error).message, name: (err as Error).name }, request_id: request.id },
        'service unavailable',
      );
  }
  return sendProblem(problem, request, reply);
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem({ status: 404, errorId: 'not-found', message: 'Not found', details: {} }, request, reply);
}
