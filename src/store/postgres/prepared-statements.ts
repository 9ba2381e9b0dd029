// Named prepared statements for Kysely's pg pool. Kysely sends each query as
// an unnamed statement, which PostgreSQL parses, analyses and plans on every
// execution; a login runs about a dozen of them. A statement sent with a name
// is parsed once per connection and its plan can be reused.
//
// The set of query texts is bounded (IN lists aside, the store builds a fixed
// set of shapes), but it is not closed: the first `capacity` distinct
// parameterised texts get names, later ones run unnamed as before. Each
// connection then holds at most `capacity` prepared statements on its server.
//
// A prepared statement is tied to the table definitions it was planned
// against: after another instance's migration changes a table read with
// `SELECT *`, PostgreSQL refuses it ("cached plan must not change result
// type", SQLSTATE 0A000). Such a connection is discarded when released, so the
// next request prepares its statements afresh on a new one.

import pg from 'pg';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import { currentDbBudget, type DbBudget } from '../../db-budget.js';
import { StoreUnavailableError } from '../errors.js';
import { countStatement } from '../statement-count.js';

const DEFAULT_CAPACITY = 512;
/** Texts with more parameters than this are long IN lists: left unnamed. */
const MAX_PARAMETERS = 64;
/** feature_not_supported: "cached plan must not change result type". */
const STALE_PLAN_STATE = '0A000';

/** Names for query texts; one set for the whole pool, so each text has one name on every connection. */
export class StatementNames {
  private readonly names = new Map<string, string>();

  constructor(readonly capacity = DEFAULT_CAPACITY) {}

  /** The text's name, or null when it runs unnamed. */
  nameOf(text: string, parameterCount: number): string | null {
    if (parameterCount === 0 || parameterCount > MAX_PARAMETERS) return null;
    let name = this.names.get(text);
    if (name === undefined) {
      if (this.names.size >= this.capacity) return null;
      name = `xa${this.names.size}`;
      this.names.set(text, name);
    }
    return name;
  }

  get size(): number {
    return this.names.size;
  }
}

/** What Kysely calls on a client: query with parameters, query with a cursor, release. */
class PreparingClient implements PostgresPoolClient {
  /** Set when a prepared statement went stale: the connection is dropped on release. */
  private stale = false;
  /**
   * Set when a query got no answer in time or the connection failed: the
   * server may still be running it (or be gone), so nothing else is sent on
   * this connection (a ROLLBACK would only queue behind it and wait a
   * timeout more), and it is destroyed on release, never pooled again.
   */
  private broken = false;
  /** Its server-side timeouts were lengthened for a long job: dropped on release. */
  private lengthened = false;
  /** When this checkout's allowance ends (performance.now()). */
  private deadline = Infinity;
  private checkedOutAt = 0;
  private budget: DbBudget | null = null;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly names: StatementNames,
  ) {}

  checkOut(startedAt: number, deadline: number, budget: DbBudget | null): void {
    this.checkedOutAt = startedAt;
    this.deadline = deadline;
    this.budget = budget;
  }

  async lengthenServerTimeouts(ms: number): Promise<void> {
    this.lengthened = true;
    try {
      await this.client.query(
        `select set_config('statement_timeout', '${Math.floor(ms)}', false), set_config('idle_in_transaction_session_timeout', '${Math.floor(ms)}', false)`,
      );
    } catch (err) {
      this.release(true);
      throw err;
    }
  }

  query(...args: unknown[]): never {
    const [first, parameters] = args;
    if (typeof first !== 'string' || !Array.isArray(parameters)) {
      // A cursor (streaming): pg handles it as is.
      countStatement('postgresql');
      return (this.client.query as (...a: unknown[]) => never)(...args);
    }
    if (this.broken) {
      return Promise.reject(new StoreUnavailableError('database connection abandoned after a failure')) as never;
    }
    const left = Math.floor(this.deadline - performance.now());
    if (left <= 0) {
      this.broken = true;
      return Promise.reject(new StoreUnavailableError('database wait exceeded db_timeout_seconds')) as never;
    }
    const name = this.names.nameOf(first, parameters.length);
    countStatement('postgresql');
    const pending =
      name === null
        ? this.client.query({ text: first, values: parameters, query_timeout: left } as pg.QueryConfig)
        : this.client.query({ name, text: first, values: parameters, query_timeout: left } as pg.QueryConfig);
    return pending.catch((err: unknown) => {
      if (isStalePlan(err)) this.stale = true;
      // An answer of the server's (a conflict, a cancelled statement) leaves
      // the connection usable; anything else (read timeout, reset) does not.
      if (!(err instanceof pg.DatabaseError)) this.broken = true;
      throw err;
    }) as never;
  }

  release(destroy?: boolean): void {
    this.budget?.charge(performance.now() - this.checkedOutAt);
    const drop = destroy === true || this.stale || this.broken || this.lengthened;
    this.stale = false;
    this.broken = false;
    this.lengthened = false;
    this.budget = null;
    this.deadline = Infinity;
    // pg-pool ends a client released with an error; a client whose query is
    // still in flight is ended by destroying its socket (pg's Client.end).
    this.client.release(drop ? new Error('connection discarded') : undefined);
  }
}

export interface PreparingPoolOptions {
  /** Longest wait of one checkout (connection, then every statement), in ms: db_timeout_seconds. */
  timeoutMs: number;
}

/**
 * Kysely's pool: pg's, with named statements, and with each checkout bounded
 * in time as a whole: waiting for a connection and every statement until the
 * release share one allowance (./db-budget.ts), so that a transaction of
 * several statements waits at most `timeoutMs`, not that much per statement.
 */
export class PreparingPool implements PostgresPool {
  /** One wrapper per pg client: Kysely keeps its connection object per client. */
  private readonly clients = new WeakMap<pg.PoolClient, PreparingClient>();

  constructor(
    private readonly pool: pg.Pool,
    readonly names = new StatementNames(),
    private readonly options: PreparingPoolOptions = { timeoutMs: 3000 },
  ) {}

  async connect(): Promise<PostgresPoolClient> {
    const budget = currentDbBudget();
    const allowance = budget?.allowance(this.options.timeoutMs) ?? this.options.timeoutMs;
    if (allowance <= 0) throw new StoreUnavailableError('database wait exceeded db_timeout_seconds');
    const startedAt = performance.now();
    let client: pg.PoolClient;
    try {
      client = await withinMs(this.pool.connect(), allowance);
    } catch (err) {
      // No connection came: that wait is the request's too.
      budget?.charge(performance.now() - startedAt);
      throw err;
    }
    let wrapped = this.clients.get(client);
    if (wrapped === undefined) {
      wrapped = new PreparingClient(client, this.names);
      this.clients.set(client, wrapped);
    }
    wrapped.checkOut(startedAt, startedAt + allowance, budget);
    if (allowance > this.options.timeoutMs) {
      // A long job (migrations, an import: ../db-budget.ts withLongDbBudget):
      // the session's server-side timeouts are the request timeout; this
      // connection gets the job's, and is not pooled again afterwards.
      await wrapped.lengthenServerTimeouts(allowance);
    }
    return wrapped;
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

/**
 * The pool's client, or StoreUnavailableError after `ms` (pg-pool's own
 * timeout is the full db_timeout; a request may have less left). A client
 * that comes after the timeout goes back to the pool.
 */
function withinMs(pending: Promise<pg.PoolClient>, ms: number): Promise<pg.PoolClient> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new StoreUnavailableError('timeout exceeded when trying to connect'));
    }, ms);
    pending.then(
      (client) => {
        clearTimeout(timer);
        if (late) client.release();
        else resolve(client);
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!late) reject(err);
      },
    );
  });
}

/** Whether `err` is a prepared statement gone stale after a schema change. */
export function isStalePlan(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return code === STALE_PLAN_STATE && typeof message === 'string' && message.includes('cached plan');
}
