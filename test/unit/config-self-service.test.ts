// Self-service configuration (issue 21): wazo-auth's key names and defaults,
// smtp.starttls's three values, the errors naming the key and the file, the
// SMTP password masked, and a file setting a nested key merged with the
// defaults (enabled_http_plugins).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/loader.js';
import { maskSecrets } from '../../src/config/mask.js';

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

function problems(body: string): readonly string[] {
  try {
    load(body);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('self-service configuration', () => {
  it("defaults: localhost:25 without STARTTLS, two-day links, registration off, wazo-auth's key names", () => {
    const config = load('');
    expect(config.smtp).toEqual({
      hostname: 'localhost',
      port: 25,
      starttls: false,
      username: null,
      password: null,
      timeout_seconds: 10,
      ca_file: null,
      tls_reject_unauthorized: true,
    });
    expect(config.password_reset_expiration).toBe(172800);
    expect(config.email_confirmation_expiration).toBe(172800);
    expect(config.email_confirmation_get_mimetype).toBe('text/html');
    expect(config.enabled_http_plugins).toEqual({ email_confirm: true, password_reset: true, user_registration: false });
    for (const key of [
      'password_reset_email_template',
      'password_reset_email_subject_template',
      'email_confirmation_template',
      'email_confirmation_subject_template',
      'email_confirmation_get_response_body_template',
    ] as const) {
      expect(config[key], key).toBeNull();
    }
    expect(config.self_service.public_base_url).toBeNull();
    expect(config.mail_outbox.enabled).toBe(true);
  });

  it('takes starttls true, false or "opportunistic", and merges enabled_http_plugins with its defaults', () => {
    for (const value of ['true', 'false', 'opportunistic']) {
      const expected = value === 'opportunistic' ? value : value === 'true';
      expect(load(`smtp: {starttls: ${value}}\n`).smtp.starttls).toBe(expected);
    }
    expect(load('enabled_http_plugins: {user_registration: true}\n').enabled_http_plugins).toEqual({
      email_confirm: true,
      password_reset: true,
      user_registration: true,
    });
    expect(load('', { XIVO_AUTH_SMTP__PORT: '587' }).smtp.port).toBe(587);
  });

  it('refuses bad values, naming the key and the file', () => {
    const found = problems(
      [
        'smtp: {starttls: "yes", port: 0}',
        'password_reset_expiration: 10',
        'password_reset_from_address: nobody',
        'self_service: {public_base_url: "ftp://x"}',
        'email_confirmation_get_mimetype: "text html"',
        '',
      ].join('\n'),
    );
    for (const key of [
      'smtp.starttls',
      'smtp.port',
      'password_reset_expiration',
      'password_reset_from_address',
      'self_service.public_base_url',
      'email_confirmation_get_mimetype',
    ]) {
      expect(
        found.some((p) => p.startsWith(`${key}: `) && p.includes(file)),
        `${key} in ${found.join('\n')}`,
      ).toBe(true);
    }
  });

  it('masks the SMTP password', () => {
    const masked = maskSecrets(load('smtp: {username: mailer, password: s3cret-value}\n')) as {
      smtp: { username: string; password: string };
    };
    expect(masked.smtp.username).toBe('mailer');
    expect(masked.smtp.password).not.toContain('s3cret');
  });
});
