// db_timeout_seconds (issue 19) and its deprecated alias db_timeout_ms:
// the alias, when set, wins; rest_api's slow-client keys validate.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/loader.js';
import { dbTimeoutMs } from '../../src/main.js';
import { httpServerTimeouts } from '../../src/http/server-limits.js';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xivo-auth-config-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function load(body: string, env: Record<string, string> = {}) {
  const file = path.join(dir, 'config.yml');
  fs.writeFileSync(file, `extra_config_files: ${JSON.stringify(path.join(dir, 'none'))}\n${body}`);
  return loadConfig({ argv: { configFile: file }, env }).config;
}

describe('db_timeout_seconds', () => {
  it('defaults to 3 s; db_timeout_ms is unset', () => {
    const config = load('');
    expect(config.db_timeout_seconds).toBe(3);
    expect(config.db_timeout_ms).toBeNull();
    expect(dbTimeoutMs(config)).toBe(3000);
  });

  it('takes fractions of a second, from the file or the environment', () => {
    expect(dbTimeoutMs(load('db_timeout_seconds: 1.5\n'))).toBe(1500);
    expect(dbTimeoutMs(load('', { XIVO_AUTH_DB_TIMEOUT_SECONDS: '0.5' }))).toBe(500);
  });

  it('the deprecated db_timeout_ms, when set, wins over db_timeout_seconds', () => {
    expect(dbTimeoutMs(load('db_timeout_ms: 800\n'))).toBe(800);
    expect(dbTimeoutMs(load('db_timeout_ms: 800\ndb_timeout_seconds: 10\n'))).toBe(800);
  });

  it('refuses values out of range, naming the key', () => {
    expect(() => load('db_timeout_seconds: 0\n')).toThrow(ConfigError);
    expect(() => load('db_timeout_seconds: 0\n')).toThrow(/db_timeout_seconds/);
    expect(() => load('db_timeout_ms: 10\n')).toThrow(/db_timeout_ms/);
  });
});

describe('rest_api slow-client limits', () => {
  it("turn into the HTTP server's timeouts, the header timeout never above the request timeout", () => {
    const config = load('');
    expect(httpServerTimeouts(config.rest_api)).toEqual({
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      connectionsCheckingInterval: 1000,
      keepAliveTimeout: 72_000,
    });
    expect(
      httpServerTimeouts(load('rest_api: {headers_timeout_seconds: 60, request_timeout_seconds: 20}\n').rest_api),
    ).toMatchObject({ headersTimeout: 20_000, requestTimeout: 20_000 });
    expect(() => load('rest_api: {max_connections: -1}\n')).toThrow(/rest_api\.max_connections/);
  });
});
