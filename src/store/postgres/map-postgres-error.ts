// pg errors → typed store errors.

import { fieldOfConstraint } from '../constraint-fields.js';
import { isStalePlan } from './prepared-statements.js';
import { StoreConflictError, StoreError, StoreInvalidInputError, StoreUnavailableError } from '../errors.js';

interface PgErrorLike {
  code?: unknown;
  message?: unknown;
  constraint?: unknown;
  errors?: unknown;
}

/** Socket-level failures (Node error codes). */
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLSTATEs meaning "the server cannot serve us now", beside class 08 (connection exception). */
const unavailableStates = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovery)
  '53300', // too_many_connections
  // The statement ran past statement_timeout (db_timeout_seconds) or waited
  // too long for a lock: the server is up but cannot serve in time.
  '57014', // query_canceled
  '55P03', // lock_not_available
  '25P03', // idle_in_transaction_session_timeout
  '57P05', // idle_session_timeout
]);

/** Values PostgreSQL refuses to store, e.g. "\u0000" in text (22021). */
const invalidInputStates = new Set([
  '22021', // character_not_in_repertoire
  '22P05', // untranslatable_character
]);

/** Failures pg, pg-pool and Kysely report by message only. */
const unavailableMessages = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /^Query read timeout/,
  /is not queryable/,
  /Cannot use a pool after calling end/,
  /connection has been discarded/,
  /driver has already been destroyed/,
];

export function mapPostgresError(err: unknown): unknown {
  if (err instanceof StoreError || typeof err !== 'object' || err === null) return err;
  const { code, constraint } = err as PgErrorLike;

  if (code === '23505') {
    const field = fieldOfConstraint(typeof constraint === 'string' ? constraint : undefined);
    return new StoreConflictError(`${field ?? 'value'} already exists`, field, { cause: err });
  }
  if (code === '23503') {
    const field = fieldOfConstraint(typeof constraint === 'string' ? constraint : undefined);
    return new StoreConflictError('a referenced record does not exist', field, { cause: err });
  }
  if (typeof code === 'string' && invalidInputStates.has(code)) {
    return new StoreInvalidInputError('value refused by the database', { cause: err });
  }
  if (isStalePlan(err)) {
    // Another instance's migration changed a table under a prepared
    // statement; the connection is dropped (prepared-statements.ts) and the
    // request can be retried.
    return new StoreUnavailableError('database schema changed; retry', { cause: err });
  }
  if (isConnectionFailure(err as PgErrorLike)) {
    const message = (err as PgErrorLike).message;
    return new StoreUnavailableError(
      `database unavailable: ${typeof message === 'string' && message !== '' ? message : String(code)}`,
      { cause: err },
    );
  }
  return err;
}

function isConnectionFailure(err: PgErrorLike): boolean {
  const { code, message } = err;
  if (typeof code === 'string') {
    if (networkCodes.has(code) || unavailableStates.has(code) || code.startsWith('08')) return true;
  }
  if (typeof message === 'string' && unavailableMessages.some((re) => re.test(message))) return true;
  // Node reports a failed connection to a host with several addresses
  // (e.g. localhost → ::1 and 127.0.0.1) as an AggregateError.
  if (Array.isArray(err.errors)) {
    return err.errors.some((e) => typeof e === 'object' && e !== null && isConnectionFailure(e as PgErrorLike));
  }
  return false;
}
