// Issue 19, item 5(b): the SQLite errors of a failing disk are "the store is
// unavailable" (503 + Retry-After), never a 500.
import { describe, expect, it } from 'vitest';
import { StoreConflictError, StoreUnavailableError } from '../../src/store/errors.js';
import { mapSqliteError } from '../../src/store/sqlite/map-sqlite-error.js';

const sqliteError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('mapSqliteError on disk faults', () => {
  it.each([
    ['SQLITE_FULL', 'database or disk is full'],
    ['SQLITE_IOERR', 'disk I/O error'],
    ['SQLITE_IOERR_WRITE', 'disk I/O error'],
    ['SQLITE_IOERR_FSYNC', 'disk I/O error'],
    ['SQLITE_IOERR_SHMSIZE', 'disk I/O error'],
    ['SQLITE_IOERR_TRUNCATE', 'disk I/O error'],
    ['SQLITE_READONLY', 'attempt to write a readonly database'],
    ['SQLITE_READONLY_DBMOVED', 'attempt to write a readonly database'],
    ['SQLITE_CANTOPEN', 'unable to open database file'],
  ])('%s → StoreUnavailableError', (code, message) => {
    const mapped = mapSqliteError(sqliteError(code, message));
    expect(mapped).toBeInstanceOf(StoreUnavailableError);
    expect((mapped as Error).message).toContain(message);
  });

  it('leaves the other errors to their own mapping', () => {
    expect(mapSqliteError(sqliteError('SQLITE_CONSTRAINT_UNIQUE', 'UNIQUE constraint failed: users.uuid'))).toBeInstanceOf(
      StoreConflictError,
    );
    const other = sqliteError('SQLITE_ERROR', 'no such table: nothing');
    expect(mapSqliteError(other)).toBe(other);
  });
});
