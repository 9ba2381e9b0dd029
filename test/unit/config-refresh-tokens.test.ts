// refresh_tokens (issue 19, item 2): the defaults, the ranges (0 turns a
// limit off), and the cross-key rule (absolute lifetime ≥ idle timeout when
// both are set), each error naming the key and where it came from.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/loader.js';
import { refreshTokenExpiry } from '../../src/tokens/refresh-expiry.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xivo-auth-config-'));
  file = path.join(dir, 'config.yml');
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function load(body: string, env: Record<string, string> = {}) {
  fs.writeFileSync(file, `extra_config_files: ${JSON.stringify(path.join(dir, 'none'))}\n${body}`);
  return loadConfig({ argv: { configFile: file }, env }).config;
}

function problems(body: string, env: Record<string, string> = {}): readonly string[] {
  try {
    load(body, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('refresh_tokens', () => {
  it('defaults: 90 days idle, 365 days in all, no rotation (wazo-auth), 10 s of grace', () => {
    expect(load('').refresh_tokens).toEqual({
      idle_timeout_seconds: 7_776_000,
      absolute_lifetime_seconds: 31_536_000,
      rotation: false,
      reuse_grace_seconds: 10,
    });
  });

  it('takes its keys from the file and the environment; 0 turns a limit off', () => {
    const config = load('refresh_tokens: {idle_timeout_seconds: 0, rotation: true}\n', {
      XIVO_AUTH_REFRESH_TOKENS__ABSOLUTE_LIFETIME_SECONDS: '0',
    });
    expect(config.refresh_tokens).toEqual({
      idle_timeout_seconds: 0,
      absolute_lifetime_seconds: 0,
      rotation: true,
      reuse_grace_seconds: 10,
    });
    expect(refreshTokenExpiry({ idleTimeoutSeconds: 0, absoluteLifetimeSeconds: 0 }, 5_000_000)).toEqual({
      lastUsedBefore: null,
      createdBefore: null,
    });
    expect(refreshTokenExpiry({ idleTimeoutSeconds: 60, absoluteLifetimeSeconds: 3600 }, 5_000_000)).toEqual({
      lastUsedBefore: 5_000_000 - 60_000,
      createdBefore: 5_000_000 - 3_600_000,
    });
    // An idle timeout alone, or a lifetime alone.
    expect(
      load('refresh_tokens: {idle_timeout_seconds: 600, absolute_lifetime_seconds: 0}\n').refresh_tokens.idle_timeout_seconds,
    ).toBe(600);
    expect(
      load('refresh_tokens: {idle_timeout_seconds: 0, absolute_lifetime_seconds: 600}\n').refresh_tokens
        .absolute_lifetime_seconds,
    ).toBe(600);
  });

  it('refuses negative, fractional and out-of-range values, naming the key and the file', () => {
    expect(
      problems(
        'refresh_tokens: {idle_timeout_seconds: -1, absolute_lifetime_seconds: 1.5, reuse_grace_seconds: 301, rotation: "yes"}\n',
      ),
    ).toEqual([
      `refresh_tokens.idle_timeout_seconds: expected an integer from 0 to 315360000, got -1 (from file ${file})`,
      `refresh_tokens.absolute_lifetime_seconds: expected an integer from 0 to 315360000, got 1.5 (from file ${file})`,
      `refresh_tokens.rotation: expected true or false, got "yes" (from file ${file})`,
      `refresh_tokens.reuse_grace_seconds: expected an integer from 0 to 300, got 301 (from file ${file})`,
    ]);
  });

  it('refuses an absolute lifetime shorter than the idle timeout, naming both origins', () => {
    expect(
      problems('refresh_tokens: {idle_timeout_seconds: 7200}\n', { XIVO_AUTH_REFRESH_TOKENS__ABSOLUTE_LIFETIME_SECONDS: '3600' }),
    ).toEqual([
      'refresh_tokens.absolute_lifetime_seconds: expected at least refresh_tokens.idle_timeout_seconds (7200, ' +
        `from file ${file}), or 0 for no limit, got 3600 (from environment variable XIVO_AUTH_REFRESH_TOKENS__ABSOLUTE_LIFETIME_SECONDS)`,
    ]);
    // Equal is fine.
    expect(
      load('refresh_tokens: {idle_timeout_seconds: 3600, absolute_lifetime_seconds: 3600}\n').refresh_tokens
        .absolute_lifetime_seconds,
    ).toBe(3600);
  });
});
