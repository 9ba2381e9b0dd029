// List query parameters of the IAM endpoints: the schema (common.ts ListParams)
// checks types; the order column is checked against each list's own columns.
import type { Static } from '@sinclair/typebox';
import { InvalidListParamError } from '../errors.js';
import type { ListQuery } from '../lists.js';
import type { ListParams } from './schemas/common.js';

export function listQuery(q: Static<typeof ListParams>, orderColumns: readonly string[]): ListQuery & { recurse?: boolean } {
  if (q.order !== undefined && !orderColumns.includes(q.order)) {
    throw new InvalidListParamError('Invalid order column', {
      order: { constraint_id: 'enum', message: `one of ${orderColumns.join(', ')}` },
    });
  }
  return q;
}
