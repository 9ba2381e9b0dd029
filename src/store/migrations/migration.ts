// A numbered, plain-SQL schema change for one dialect. Kept as TypeScript
// string constants (not .sql files) so the compiled output carries them.

export interface Migration {
  /** Strictly increasing, never reused, never edited once released. */
  version: number;
  name: string;
  /** One or more statements; run inside the migration's transaction. */
  sql: string;
}
