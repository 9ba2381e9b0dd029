// A sqlite: db_uri in a fresh temporary directory.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempSqlite {
  uri: string;
  /** The database file's path. */
  path: string;
  /** Removes the directory and everything in it. */
  cleanup(): void;
}

/** The database file sits in a subdirectory that does not exist yet: opening the store creates it. */
export function tempSqliteUri(): TempSqlite {
  const dir = mkdtempSync(join(tmpdir(), 'xivo-auth-test-'));
  const path = join(dir, 'data', 'auth.db');
  return {
    uri: `sqlite:${path}`,
    path,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
