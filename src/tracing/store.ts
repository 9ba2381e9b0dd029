// Store spans (src/tracing/tracing.ts): from Kysely's query log, set on the
// Kysely instance only when tracing is on (off: no log function at all).
// One span per statement, a child of the request's span: its operation and
// table, never its text or parameters (token hashes, logins...).
import type { LogEvent, RootOperationNode } from 'kysely';
import { SpanKind, SpanStatusCode, startSpan, tracing } from './tracing.js';

const OPERATIONS: Record<string, string> = {
  SelectQueryNode: 'SELECT',
  InsertQueryNode: 'INSERT',
  UpdateQueryNode: 'UPDATE',
  DeleteQueryNode: 'DELETE',
  MergeQueryNode: 'MERGE',
};

function tableName(node: unknown): string | undefined {
  const n = node as { table?: { identifier?: { name?: unknown } } } | undefined;
  const name = n?.table?.identifier?.name;
  return typeof name === 'string' ? name : undefined;
}

function describeQuery(node: RootOperationNode, sql: string): { operation: string; table: string | undefined } {
  const q = node as unknown as { kind: string; from?: { froms?: unknown[] }; into?: unknown; table?: unknown };
  const operation = OPERATIONS[q.kind] ?? /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? 'QUERY';
  let table: string | undefined;
  if (q.kind === 'SelectQueryNode' || q.kind === 'DeleteQueryNode') table = tableName(q.from?.froms?.[0]);
  else if (q.kind === 'InsertQueryNode') table = tableName(q.into);
  else if (q.kind === 'UpdateQueryNode') table = tableName(q.table);
  return { operation, table };
}

/** Spread into a Kysely config: `{ log }` when tracing is on, nothing otherwise. */
export function storeTracing(system: 'sqlite' | 'postgresql'): { log?: (event: LogEvent) => void } {
  if (!tracing.enabled) return {};
  return {
    log(event: LogEvent) {
      if (!tracing.enabled) return;
      const end = Date.now();
      const { operation, table } = describeQuery(event.query.query, event.query.sql);
      const span = startSpan(
        table === undefined ? operation : `${operation} ${table}`,
        {
          'db.system.name': system,
          'db.operation.name': operation,
          ...(table === undefined ? {} : { 'db.collection.name': table }),
        },
        SpanKind.CLIENT,
        undefined,
        end - event.queryDurationMillis,
      );
      // The log runs once the statement is done: the span covers its duration.
      if (event.level === 'error')
        span.setStatus({ code: SpanStatusCode.ERROR, message: (event.error as Error | undefined)?.name ?? 'error' });
      span.end(end);
    },
  };
}
