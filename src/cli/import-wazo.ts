// `xivo-auth import wazo-auth SOURCE_URI [--dry-run]`: copies a wazo-auth
// PostgreSQL database into the configured store (src/store/wazo-import/),
// then prints what it did per kind. Exit codes: 0 done, 1 the source or the
// store refused (unreachable, unknown schema revision, a store holding data of
// its own). Nothing secret is printed: URIs are masked, token strings,
// password hashes and bind passwords never appear.
import { systemClock } from '../clock.js';
import { maskUriPassword } from '../config/index.js';
import type { Config } from '../config/types.js';
import { createLogger } from '../logging.js';
import { dbTimeoutMs, resolveDbUri } from '../main.js';
import { createKyselyStore } from '../store/kysely-store.js';
import { LONG_JOB_TIMEOUT_MS, withLongDbBudget } from '../db-budget.js';
import { openStoreDialect } from '../store/open-store.js';
import { ImportRefusedError, importWazoAuth, type ImportSummary } from '../store/wazo-import/import.js';
import { maskedUri, openWazoSource, WazoSourceError } from '../store/wazo-import/source.js';
import { importedSamlSettings, sameImportedSaml } from '../sso/saml-service.js';
import type { ParsedArgs } from './args.js';
import type { CliIo } from './main.js';

export async function runImportWazo(config: Config, args: ParsedArgs, io: CliIo): Promise<number> {
  const sourceUri = args.importSource as string;
  const dryRun = args.dryRun === true;
  const logger = createLogger({ level: config.log_level, stderr: true });
  const targetUri = resolveDbUri(config);

  let source;
  try {
    source = await openWazoSource(sourceUri);
  } catch (err) {
    if (err instanceof WazoSourceError) {
      io.err(`xivo-auth: import failed: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  try {
    const dialect = openStoreDialect(targetUri, { logger, timeoutMs: dbTimeoutMs(config) });
    const store = createKyselyStore(dialect, logger);
    try {
      // The import needs the schema; a dry run leaves the store as it is (never migrated: every row counts as created).
      if (!dryRun) await store.migrate();
      // One long transaction: not bound by db_timeout_seconds (a request's bound).
      const summary = await withLongDbBudget(LONG_JOB_TIMEOUT_MS, () =>
        importWazoAuth(source, dialect, {
          dryRun,
          now: systemClock.now(),
          saml: { settings: importedSamlSettings, same: sameImportedSaml },
        }),
      );
      io.out(formatSummary(summary, maskedUri(sourceUri), maskUriPassword(targetUri)));
      return 0;
    } finally {
      await store.close();
    }
  } catch (err) {
    if (err instanceof ImportRefusedError || err instanceof WazoSourceError) {
      io.err(`xivo-auth: import refused: ${err.message}\n`);
      return 1;
    }
    io.err(
      `xivo-auth: import failed: ${(err as Error).message}\n` +
        'What was written before the failure stays; running the import again completes it.\n',
    );
    return 1;
  } finally {
    await source.close();
  }
}

export function formatSummary(summary: ImportSummary, source: string, target: string): string {
  const lines: string[] = [];
  lines.push(
    `${summary.dryRun ? 'dry run: ' : ''}wazo-auth ${source} (schema revision ${summary.revisions.join(', ')}) → ${target}`,
  );
  const header = ['kind', 'read', 'created', 'updated', 'unchanged', 'skipped'];
  const rows = summary.kinds.map((k) => [
    k.kind,
    String(k.read),
    String(k.created),
    String(k.updated),
    String(k.unchanged),
    String(Object.values(k.skipped).reduce((a, b) => a + b, 0)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const format = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  lines.push(format(header));
  for (const row of rows) lines.push(format(row));
  const skipped = summary.kinds.flatMap((k) => Object.entries(k.skipped).map(([why, n]) => `  ${k.kind}: ${n} ${why}`));
  if (skipped.length > 0) lines.push('skipped:', ...skipped);
  if (summary.notes.length > 0) lines.push('notes:', ...summary.notes.map((n) => `  ${n}`));
  lines.push(summary.dryRun ? 'dry run: nothing was written' : 'import complete');
  return `${lines.join('\n')}\n`;
}
