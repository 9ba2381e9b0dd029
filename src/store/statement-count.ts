// Statements sent to the database, per engine, counted where they leave the
// process: the PostgreSQL pool's client (postgres/prepared-statements.ts:
// BEGIN and COMMIT included) and the SQLite connection
// (sqlite/bounded-driver.ts: BEGIN IMMEDIATE and COMMIT included). Exposed
// as xivo_auth_db_statements_total{engine} (src/metrics/metrics.ts): how many
// statements a request costs is the first thing to look at when the
// database is the bottleneck (docs/observability.md). Process-wide: every
// store of the process adds to its engine's count.

export type StatementEngine = 'sqlite' | 'postgresql';

const counts: Record<StatementEngine, number> = { sqlite: 0, postgresql: 0 };

/** One statement sent (or attempted) on `engine`. */
export function countStatement(engine: StatementEngine): void {
  counts[engine] += 1;
}

/** Statements sent so far by this process on `engine`. */
export function statementsSent(engine: StatementEngine): number {
  return counts[engine];
}
