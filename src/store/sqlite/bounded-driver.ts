// Kysely's SQLite driver (one connection, used by one caller at a time), with
// every checkout bounded in time (db_timeout_seconds, ../db-budget.ts):
//  - waiting for the connection (another request's transaction holds it) gives
//    up after the checkout's allowance;
//  - a write that finds the database file locked by another connection (the
//    CLI, the purge thread, a second process) is retried off the event loop
//    until the allowance runs out, then fails with SQLITE_BUSY (503). The
//    connection's own busy_timeout stays short: better-sqlite3 waits for a lock
//    on the event loop's thread, which would stall every other request.
// Every transaction starts with BEGIN IMMEDIATE: a deferred transaction that
// reads and then writes cannot wait for the lock (it fails at once with
// SQLITE_BUSY), whereas taking the write lock up front can be waited for.
// This also makes migrations safe across processes.
import { CompiledQuery, SelectQueryNode } from 'kysely';
import type { DatabaseConnection, Driver, QueryResult, SqliteStatement } from 'kysely';
import { currentDbBudget, type DbBudget } from '../../db-budget.js';
import { StoreUnavailableError } from '../errors.js';
import { countStatement } from '../statement-count.js';

/** What the driver needs of the database: statements (cached) and the transaction state. */
export interface BoundedSqliteDatabase {
  prepare(sql: string): SqliteStatement;
  readonly inTransaction: boolean;
  /** Resolves once nothing of this database (the checkpoint thread included) touches its files any more. */
  close(): void | Promise<void>;
}

/** Pauses between two tries of a write that found the file locked. */
const BUSY_RETRY_MS = [2, 5, 10, 20, 40, 50];

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, ms);
  });
}

/** One holder at a time, in arrival order; a waiter gives up after its allowance. */
class DeadlineMutex {
  private held = false;
  private readonly waiters: Array<() => void> = [];

  lock(ms: number): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new StoreUnavailableError('database busy: no connection free within db_timeout_seconds'));
      }, ms);
      this.waiters.push(grant);
    });
  }

  unlock(): void {
    const next = this.waiters.shift();
    if (next === undefined) this.held = false;
    else next();
  }
}

class BoundedSqliteConnection implements DatabaseConnection {
  private deadline = Infinity;
  private checkedOutAt = 0;
  private budget: DbBudget | null = null;
  /** Between BEGIN and COMMIT/ROLLBACK as Kysely sees it (SQLite may have ended it meanwhile). */
  private transactionOpen = false;

  constructor(private readonly db: BoundedSqliteDatabase) {}

  checkOut(startedAt: number, deadline: number, budget: DbBudget | null): void {
    this.checkedOutAt = startedAt;
    this.deadline = deadline;
    this.budget = budget;
  }

  checkIn(): void {
    this.budget?.charge(performance.now() - this.checkedOutAt);
    this.budget = null;
    this.deadline = Infinity;
  }

  async begin(): Promise<void> {
    // A transaction left open by a failed ROLLBACK (an I/O error): end it first.
    if (this.db.inTransaction) this.rollbackQuietly();
    await this.executeQuery(CompiledQuery.raw('begin immediate'));
    this.transactionOpen = true;
  }

  async commit(): Promise<void> {
    this.assertStillInTransaction();
    await this.executeQuery(CompiledQuery.raw('commit'));
    this.transactionOpen = false;
  }

  /**
   * On a full disk (SQLITE_FULL), an I/O error or out of memory, SQLite may
   * roll the whole transaction back by itself: a ROLLBACK would then fail
   * ("no transaction is active") and hide the error that caused it (a 500
   * instead of a 503).
   */
  async rollback(): Promise<void> {
    this.transactionOpen = false;
    if (!this.db.inTransaction) return;
    try {
      this.run(CompiledQuery.raw('rollback'));
    } catch (err) {
      if (this.db.inTransaction) throw err;
    }
  }

  private rollbackQuietly(): void {
    try {
      this.run(CompiledQuery.raw('rollback'));
    } catch {
      // Still failing: BEGIN below says so.
    }
  }

  /**
   * SQLite rolled the transaction back by itself (a full disk, an I/O error):
   * what follows must not run outside it, one statement at a time.
   */
  private assertStillInTransaction(): void {
    if (this.transactionOpen && !this.db.inTransaction) {
      throw new StoreUnavailableError('database unavailable: the transaction was rolled back by SQLite (disk full or I/O error)');
    }
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    this.assertStillInTransaction();
    for (let attempt = 0; ; attempt += 1) {
      try {
        return this.run<R>(compiledQuery);
      } catch (err) {
        // Outside a transaction a statement that met a lock did nothing (a
        // write in autocommit, BEGIN IMMEDIATE itself): it can be tried again.
        // Inside one, the transaction's caller decides (it rolls back).
        if (!isBusy(err) || this.db.inTransaction) throw err;
        const left = this.deadline - performance.now();
        if (left <= 0) throw err;
        await sleep(Math.min(left, BUSY_RETRY_MS[Math.min(attempt, BUSY_RETRY_MS.length - 1)]));
      }
    }
  }

  private run<R>(compiledQuery: CompiledQuery): QueryResult<R> {
    const { sql, parameters } = compiledQuery;
    countStatement('sqlite');
    const stmt = this.db.prepare(sql);
    if (stmt.reader) return { rows: stmt.all(parameters) as R[] };
    const { changes, lastInsertRowid } = stmt.run(parameters);
    return {
      numAffectedRows: changes !== undefined && changes !== null ? BigInt(changes) : undefined,
      insertId: lastInsertRowid !== undefined && lastInsertRowid !== null ? BigInt(lastInsertRowid) : undefined,
      rows: [],
    };
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const { sql, parameters, query } = compiledQuery;
    if (!SelectQueryNode.is(query)) throw new Error('Sqlite driver only supports streaming of select queries');
    countStatement('sqlite');
    for (const row of this.db.prepare(sql).iterate(parameters)) yield { rows: [row as R] };
  }
}

export class BoundedSqliteDriver implements Driver {
  readonly #gate = new DeadlineMutex();
  readonly #connection: BoundedSqliteConnection;

  constructor(
    private readonly db: BoundedSqliteDatabase,
    private readonly timeoutMs: number,
  ) {
    this.#connection = new BoundedSqliteConnection(db);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const budget = currentDbBudget();
    const allowance = budget?.allowance(this.timeoutMs) ?? this.timeoutMs;
    if (allowance <= 0) throw new StoreUnavailableError('database wait exceeded db_timeout_seconds');
    const startedAt = performance.now();
    try {
      await this.#gate.lock(allowance);
    } catch (err) {
      // The connection stayed busy: that wait is the request's too.
      budget?.charge(performance.now() - startedAt);
      throw err;
    }
    this.#connection.checkOut(startedAt, startedAt + allowance, budget);
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as BoundedSqliteConnection).begin();
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as BoundedSqliteConnection).commit();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as BoundedSqliteConnection).rollback();
  }

  async releaseConnection(): Promise<void> {
    this.#connection.checkIn();
    this.#gate.unlock();
  }

  async destroy(): Promise<void> {
    await this.db.close();
  }
}
