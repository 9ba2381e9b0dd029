// better-sqlite3 errors → typed store errors.

import { constraintOfColumns, fieldOfConstraint } from '../constraint-fields.js';
import { StoreConflictError, StoreError, StoreInvalidInputError, StoreUnavailableError } from '../errors.js';

interface SqliteErrorLike {
  code?: unknown;
  message?: unknown;
}

export function mapSqliteError(err: unknown): unknown {
  if (err instanceof StoreError || typeof err !== 'object' || err === null) return err;
  const { code, message } = err as SqliteErrorLike;
  const text = typeof message === 'string' ? message : '';

  if (typeof code === 'string') {
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      const field = fieldOfConstraint(constraintOf(text));
      return new StoreConflictError(`${field ?? 'value'} already exists`, field, { cause: err });
    }
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
      // SQLite does not say which reference failed.
      return new StoreConflictError('a referenced record does not exist', undefined, { cause: err });
    }
    if (code === 'SQLITE_TOOBIG') {
      return new StoreInvalidInputError('value too large for the database', { cause: err });
    }
    // FULL: the disk is full (writes refused, reads go on; writes work again
    // once space is freed). IOERR_*: the file system failed a read or write
    // (on a full disk too, e.g. growing the -shm). READONLY_*: the file
    // system was remounted read-only (ext4's errors=remount-ro).
    if (/^SQLITE_(BUSY|CANTOPEN|IOERR|FULL|READONLY)/.test(code)) {
      return new StoreUnavailableError(`database unavailable: ${text}`, { cause: err });
    }
  }
  // Raised by better-sqlite3 when a query comes in after close() (shutdown).
  if (err instanceof TypeError && text === 'The database connection is not open') {
    return new StoreUnavailableError('database closed', { cause: err });
  }
  return err;
}

/**
 * "UNIQUE constraint failed: index 'users_username_key'" (expression index)
 * or "UNIQUE constraint failed: users.uuid" (column list).
 */
function constraintOf(message: string): string | undefined {
  const detail = /constraint failed: (.*)$/.exec(message)?.[1];
  if (detail === undefined) return undefined;
  const index = /^index '([^']+)'$/.exec(detail)?.[1];
  return index ?? constraintOfColumns(detail);
}
