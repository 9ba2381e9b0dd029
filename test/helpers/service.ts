// Builds a real service (real store, real hashing) for HTTP tests, on either engine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import type { Config } from '../../src/config/types.js';
import { FakeClock, type Clock } from '../../src/clock.js';
import { createService, type Service } from '../../src/main.js';
import { closeAtEnd } from './cleanup.js';
import { createTestDatabase } from './pg.js';
import { tempSqliteUri } from './sqlite.js';

export type Engine = 'sqlite' | 'postgresql';
export const ENGINES: Engine[] = ['sqlite', 'postgresql'];

/** Cheap argon2id parameters: tests exercise the code, not the cost. */
export const FAST_HASHING = { memory_kib: 1024, iterations: 1, parallelism: 1, max_concurrent: 0, max_queue: 64, niceness: 10 };

export const ADMIN = { username: 'admin', password: 'admin-secret-password' };

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

/**
 * Local state of the services under test (a generated external-auth key...)
 * goes to a temporary directory of this test process, never into the
 * working tree's ./data.
 */
let testDataDir: string | null = null;
function dataDirOfTests(): string {
  if (testDataDir === null) {
    const dir = mkdtempSync(join(tmpdir(), 'xivo-auth-test-data-'));
    testDataDir = dir;
    closeAtEnd(async () => rmSync(dir, { recursive: true, force: true }));
  }
  return testDataDir;
}

export function testConfig(dbUri: string, overrides: DeepPartial<Config> = {}): Config {
  const base = structuredClone(DEFAULT_CONFIG) as Config;
  const merged = {
    ...base,
    data_dir: dataDirOfTests(),
    ...overrides,
    rest_api: {
      ...base.rest_api,
      port: 0,
      ...(overrides.rest_api ?? {}),
      cors: { ...base.rest_api.cors, ...(overrides.rest_api?.cors ?? {}) },
    },
    password_hashing: { ...FAST_HASHING, ...(overrides.password_hashing ?? {}) },
    token_cache: { ...base.token_cache, ...(overrides.token_cache ?? {}) },
    amqp: { ...base.amqp, ...(overrides.amqp ?? {}) },
    db_uri: dbUri,
    foreground: true,
    bootstrap_user_on_startup: true,
    bootstrap_user_username: ADMIN.username,
    bootstrap_user_password: ADMIN.password,
  } as Config;
  return merged;
}

export interface TestService {
  service: Service;
  clock: Clock;
  config: Config;
  close(): Promise<void>;
}

export async function dbUriFor(engine: Engine): Promise<{ uri: string; cleanup(): Promise<void> }> {
  if (engine === 'sqlite') {
    const t = tempSqliteUri();
    return { uri: t.uri, cleanup: async () => t.cleanup() };
  }
  const db = await createTestDatabase();
  return { uri: db.uri, cleanup: db.drop };
}

/** A service on a fresh database, closed after the file's tests. */
export async function startTestService(engine: Engine, overrides: DeepPartial<Config> = {}, clock?: Clock): Promise<TestService> {
  const db = await dbUriFor(engine);
  const config = testConfig(db.uri, overrides);
  // Silent, and writing nowhere even if a test turns the level up (PATCH /config debug).
  const logger = pino({ level: 'silent' }, { write() {} });
  const theClock = clock ?? new FakeClock(Date.now());
  const service = await createService(config, logger, { clock: theClock });
  await service.app.ready();
  const close = closeAtEnd(async () => {
    await service.close();
    await db.cleanup();
  });
  return { service, clock: theClock, config, close };
}

export function basic(login: string, password: string): string {
  return `Basic ${Buffer.from(`${login}:${password}`, 'utf8').toString('base64')}`;
}
