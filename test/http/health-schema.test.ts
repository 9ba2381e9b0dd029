// Issue 19, item 4: /health/ready checks that the database's schema is the
// version this build expects, on every probe: a migration missing (the
// operator has not run `xivo-auth migrate` yet, db_upgrade_on_startup off)
// or one this build does not know (a newer release migrated the database)
// answers 503 naming the `migrations` check, and ready again once it matches.
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postgresMigrations } from '../../src/store/migrations/postgres.js';
import { expectedSchemaVersion } from '../../src/store/migrations/run-migrations.js';
import { sqliteMigrations } from '../../src/store/migrations/sqlite.js';
import { sqlitePath } from '../../src/store/open-store.js';
import { ENGINES, startTestService, type Engine, type TestService } from '../helpers/service.js';

async function sql(engine: Engine, uri: string, text: string): Promise<void> {
  if (engine === 'sqlite') {
    const db = new Database(sqlitePath(uri));
    try {
      db.exec(text);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function ready(t: TestService): Promise<{ status: number; checks: Record<string, string> }> {
  // PostgreSQL: the revocation listener connects just after start-up.
  for (let i = 0; ; i += 1) {
    const res = await t.service.app.inject({ method: 'GET', url: '/health/ready' });
    const checks = res.json().checks as Record<string, string>;
    if (checks.listener === 'ok' || i >= 50) return { status: res.statusCode, checks };
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(ENGINES)('readiness against the schema version (%s)', (engine) => {
  it('503 naming migrations for an unknown or a missing migration, 200 when it matches', async () => {
    const t = await startTestService(engine);
    const uri = t.config.db_uri!;
    const expected = expectedSchemaVersion(engine === 'sqlite' ? sqliteMigrations : postgresMigrations);
    expect(expected).toBeGreaterThan(0);
    expect(await t.service.store.schemaVersion()).toEqual({ expected, current: expected, missing: [], unknown: [] });
    expect(await ready(t)).toEqual({ status: 200, checks: { store: 'ok', migrations: 'ok', listener: 'ok', draining: 'ok' } });

    // A newer release migrated the database.
    await sql(
      engine,
      uri,
      `INSERT INTO schema_migrations (version, name, applied_at) VALUES (${expected + 1000}, 'from a newer release', 0)`,
    );
    expect(await t.service.store.schemaVersion()).toMatchObject({
      current: expected + 1000,
      unknown: [expected + 1000],
      missing: [],
    });
    expect(await ready(t)).toEqual({ status: 503, checks: { store: 'ok', migrations: 'fail', listener: 'ok', draining: 'ok' } });

    // An older schema: this build's last migration not applied.
    await sql(engine, uri, `DELETE FROM schema_migrations WHERE version >= ${expected}`);
    expect(await t.service.store.schemaVersion()).toMatchObject({ missing: [expected], unknown: [] });
    expect(await ready(t)).toMatchObject({ status: 503, checks: { store: 'ok', migrations: 'fail' } });

    // Back to the expected version (as after `xivo-auth migrate`): ready again, no restart.
    await sql(engine, uri, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (${expected}, 'back', 0)`);
    expect(await ready(t)).toMatchObject({ status: 200, checks: { migrations: 'ok' } });
  });
});
