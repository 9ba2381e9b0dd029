// What GET /health/ready reports (src/http/routes/health.ts) for the service
// built by src/main.ts: the store answers, its schema is the version this
// build expects, revocation notices flow, the instance is not draining.
import type { Logger } from 'pino';
import type { ReadinessCheck } from './routes/health.js';

/** What readiness reads of the store. */
export interface ReadinessStore {
  ping(): Promise<void>;
  schemaVersion(): Promise<{ expected: number; current: number | null; missing: number[]; unknown: number[] }>;
}

export interface Readiness {
  check: ReadinessCheck;
  /** Closing: not ready any more. */
  startDraining(): void;
}

/**
 * The schema must be the version this build expects: with
 * db_upgrade_on_startup off, until the operator runs `xivo-auth migrate`
 * (re-read on every probe); or after a newer release migrated the database
 * (this build may lack what that schema relies on). Warns once per mismatch.
 */
export function schemaCheck(store: Pick<ReadinessStore, 'schemaVersion'>, logger: Pick<Logger, 'warn'>): () => Promise<boolean> {
  let schemaMatches: boolean | null = null;
  return async () => {
    try {
      const version = await store.schemaVersion();
      const matches = version.missing.length === 0 && version.unknown.length === 0;
      if (!matches && schemaMatches !== false) {
        logger.warn(
          { expected: version.expected, current: version.current, missing: version.missing, unknown: version.unknown },
          'database schema is not the version this build expects: not ready (run `xivo-auth migrate`, or upgrade this instance)',
        );
      }
      schemaMatches = matches;
    } catch {
      // Unreachable: the store check says so; the last reading stands.
    }
    return schemaMatches === true;
  };
}

/** Reads the schema version once now (a mismatch is logged at start-up). */
export async function createReadiness(deps: {
  store: ReadinessStore;
  logger: Pick<Logger, 'warn'>;
  listening: () => boolean;
}): Promise<Readiness> {
  const { store } = deps;
  const migrations = schemaCheck(store, deps.logger);
  await migrations();
  let draining = false;
  return {
    check: { store: () => store.ping(), migrations, listener: deps.listening, draining: () => draining },
    startDraining() {
      draining = true;
    },
  };
}
