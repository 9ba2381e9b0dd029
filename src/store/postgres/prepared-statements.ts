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

import type pg from 'pg';
import type { PostgresPool, PostgresPoolClient } from 'kysely';

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

  constructor(private readonly client: pg.PoolClient, private readonly names: StatementNames) {}

  query(...args: unknown[]): never {
    const [first, parameters] = args;
    if (typeof first !== 'string' || !Array.isArray(parameters)) {
      // A cursor (streaming): pg handles it as is.
      return (this.client.query as (...a: unknown[]) => never)(...args);
    }
    const name = this.names.nameOf(first, parameters.length);
    const pending = name === null
      ? this.client.query(first, parameters)
      : this.client.query({ name, text: first, values: parameters });
    return pending.catch((err: unknown) => {
      if (isStalePlan(err)) this.stale = true;
      throw err;
    }) as never;
  }

  release(destroy?: boolean): void {
    this.client.release(destroy === true || this.stale);
    this.stale = false;
  }
}

/** Kysely's pool: pg's, with named statements. */
export class PreparingPool implements PostgresPool {
  /** One wrapper per pg client: Kysely keeps its connection object per client. */
  private readonly clients = new WeakMap<pg.PoolClient, PreparingClient>();

  constructor(private readonly pool: pg.Pool, readonly names = new StatementNames()) {}

  async connect(): Promise<PostgresPoolClient> {
    const client = await this.pool.connect();
    let wrapped = this.clients.get(client);
    if (wrapped === undefined) {
      wrapped = new PreparingClient(client, this.names);
      this.clients.set(client, wrapped);
    }
    return wrapped;
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

/** Whether `err` is a prepared statement gone stale after a schema change. */
export function isStalePlan(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return code === STALE_PLAN_STATE && typeof message === 'string' && message.includes('cached plan');
}
