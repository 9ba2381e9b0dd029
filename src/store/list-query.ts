// Building blocks of the paged, searched, ordered lists (users, refresh tokens).

import { sql } from 'kysely';
import type { Expression, RawBuilder, SqlBool } from 'kysely';

export interface OrderColumn {
  column: string;
  /** Text is ordered case-insensitively, as on both engines alike. */
  text: boolean;
  /** Ordered by this expression instead of the column (e.g. a value of another table). */
  expression?: RawBuilder<unknown>;
}

/**
 * The ORDER BY terms for one column, giving the same order on both engines:
 * NULLs last when ascending (PostgreSQL's default; SQLite puts them first),
 * text compared lower-cased (PostgreSQL's collation ignores case, SQLite's
 * BINARY does not), then the primary key so pages never overlap.
 */
export function orderTerms(order: OrderColumn, tieBreaker: string): RawBuilder<unknown>[] {
  const ref = order.expression ?? sql.ref(order.column);
  const terms: RawBuilder<unknown>[] = [sql`(${ref} is null)`];
  if (order.text) terms.push(sql`lower(${ref})`);
  terms.push(sql`${ref}`, sql`${sql.ref(tieBreaker)}`);
  return terms;
}

/**
 * Case-insensitive substring match of `search` in any of `columns`. LIKE's
 * wildcards in the search text are escaped: "%" finds a percent sign.
 * lower() on both sides: SQLite's LIKE and lower() fold ASCII letters only.
 */
export function containsAny(columns: readonly string[], search: string): Expression<SqlBool> {
  const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const matches = columns.map((c) => sql<SqlBool>`lower(${sql.ref(c)}) like lower(${pattern}) escape '\\'`);
  return sql<SqlBool>`(${sql.join(matches, sql` or `)})`;
}

/**
 * SQLite refuses OFFSET without LIMIT; an unreachable LIMIT works on both
 * engines.
 */
export function pageLimit(limit: number | undefined, offset: number | undefined): number | undefined {
  if (limit !== undefined) return limit;
  return offset !== undefined && offset > 0 ? Number.MAX_SAFE_INTEGER : undefined;
}
