// What the aggregates' paged, searched, ordered listings share.
import type { SelectQueryBuilder } from 'kysely';
import type { DatabaseSchema } from '../database-schema.js';
import { containsAny, orderTerms, pageLimit, type OrderColumn } from '../list-query.js';
import type { ListQuery, ListResult } from '../types.js';

/** {total, filtered, items} of a scoped query: counts, then one page. */
export async function listPage<TB extends keyof DatabaseSchema, R, T>(
  scoped: SelectQueryBuilder<DatabaseSchema, TB, object>,
  searchColumns: readonly string[],
  orders: Readonly<Record<string, OrderColumn>>,
  defaultOrder: OrderColumn,
  tieBreaker: string,
  q: ListQuery,
  fromRow: (row: R) => T,
): Promise<ListResult<T>> {
  const matching = q.search ? scoped.where(containsAny(searchColumns, q.search)) : scoped;
  const order = orders[q.order ?? ''] ?? defaultOrder;
  const total = await countRows(scoped);
  const filtered = q.search ? await countRows(matching) : total;
  const rows = await paged(matching.selectAll(), order, tieBreaker, q).execute();
  return { total, filtered, items: (rows as unknown as R[]).map(fromRow) };
}

export async function countRows<TB extends keyof DatabaseSchema>(
  query: SelectQueryBuilder<DatabaseSchema, TB, object>,
): Promise<number> {
  const row = await query.select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export function paged<TB extends keyof DatabaseSchema, O>(
  query: SelectQueryBuilder<DatabaseSchema, TB, O>,
  order: OrderColumn,
  tieBreaker: string,
  q: ListQuery,
): SelectQueryBuilder<DatabaseSchema, TB, O> {
  const direction = q.direction === 'desc' ? 'desc' : 'asc';
  let result = query;
  for (const term of orderTerms(order, tieBreaker)) result = result.orderBy(term, direction);
  const limit = pageLimit(q.limit, q.offset);
  if (limit !== undefined) result = result.limit(limit);
  if (q.offset !== undefined && q.offset > 0) result = result.offset(q.offset);
  return result;
}
