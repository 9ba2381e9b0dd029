import { describe, it, expect } from 'vitest';
import { Kind, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, DEFAULT_CONFIG, listConfigKeys, schemaAt } from '../../src/config/schema.js';
import type { Config } from '../../src/config/types.js';

const EXPECTED_DEFAULTS: Config = {
  debug: false,
  log_level: 'info',
  log_filename: '/var/log/xivo-auth.log',
  profiling_enabled: false,
  foreground: false,
  pid_filename: '/run/xivo-auth/xivo-auth.pid',
  user: null,
  uuid: null,
  data_dir: './data',
  default_token_lifetime: 7200,
  token_cleanup_interval: 60,
  token_cleanup_batch_size: 5000,
  max_user_concurrent_sessions: 100,
  refresh_tokens: {
    idle_timeout_seconds: 7_776_000,
    absolute_lifetime_seconds: 31_536_000,
    rotation: false,
    reuse_grace_seconds: 10,
  },
  rest_api: {
    listen: '127.0.0.1',
    port: 9497,
    certificate: null,
    private_key: null,
    cors: {
      enabled: false,
      allow_origins: ['*'],
      allow_headers: ['Authorization', 'Content-Type', 'Accept', 'X-Auth-Token', 'Wazo-Tenant', 'Wazo-Session-Type'],
    },
    num_proxies: 1,
    max_body_bytes: 65536,
    headers_timeout_seconds: 10,
    request_timeout_seconds: 30,
    keep_alive_timeout_seconds: 72,
    max_requests_per_socket: 0,
    max_connections: 10000,
    max_connections_per_address: 0,
  },
  db_uri: null,
  db_timeout_seconds: 3,
  db_timeout_ms: null,
  db_upgrade_on_startup: true,
  amqp: {
    uri: 'amqp://guest:guest@localhost:5672/',
    exchange_name: 'xivo',
    exchange_type: 'topic',
    enabled: false,
    timeout_ms: 5000,
    batch_size: 200,
    poll_interval_ms: 500,
    retry_min_ms: 500,
    retry_max_ms: 30_000,
    expire_soon_seconds: 60,
  },
  enabled_backend_plugins: { xivo_user: true },
  ldap: { timeout: 2, tls_ca_cert: null },
  service_accounts: {},
  backend_plugins: {},
  backend_plugin_timeout: 2,
  default_user_policy: null,
  default_policies: {},
  bootstrap_user_on_startup: false,
  bootstrap_user_username: 'admin',
  bootstrap_user_password: null,
  password_hashing: { memory_kib: 19456, iterations: 2, parallelism: 1, max_concurrent: 0, max_queue: 64, niceness: 10 },
  token_cache: { max_entries: 20000 },
  authz: { routes: [], cache_max_age: 0 },
  management: { enabled: false, listen: '127.0.0.1', port: 9496 },
  enabled_external_auth_plugins: { google: true, microsoft: true, mobile: true },
  external_auth: {
    encryption_key_file: null,
    provider_timeout_seconds: 10,
    poll_interval_seconds: 2,
    refresh_margin_seconds: 60,
  },
  saml: {
    saml_login_timeout_seconds: 600,
    saml_session_lifetime_seconds: 604800,
    acs_url_template: 'https://{{STACK_URL}}/api/auth/0.1/saml/acs',
    key_file: null,
    cert_file: null,
  },
  oidc: { login_timeout_seconds: 600, session_lifetime_seconds: 604800, allow_http_issuers: false, provider_timeout_seconds: 5 },
  mfa: {
    issuer: 'xivo-auth',
    challenge_lifetime_seconds: 300,
    totp_drift_steps: 1,
    required_for: { acl: [], purposes: [] },
    exempt_backends: ['xivo_service'],
    exempt_purposes: ['external_api'],
    trust_identity_provider: false,
    webauthn: { rp_id: 'localhost', rp_name: 'xivo-auth', origins: ['https://localhost'] },
  },
  tracing: {
    enabled: false,
    endpoint: 'http://127.0.0.1:4318/v1/traces',
    headers: {},
    service_name: 'xivo-auth',
    sample_ratio: 1,
    batch_delay_ms: 5000,
    export_timeout_ms: 10000,
  },
  google: {
    device_authorization_url: 'https://oauth2.googleapis.com/device/code',
    token_url: 'https://oauth2.googleapis.com/token',
    revocation_url: 'https://oauth2.googleapis.com/revoke',
    scope: ['https://www.googleapis.com/auth/contacts.readonly'],
  },
  microsoft: {
    device_authorization_url: 'https://login.microsoftonline.com/common/oauth2/v2.0/devicecode',
    token_url: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    revocation_url: null,
    scope: ['offline_access', 'Contacts.Read'],
  },
  security: {
    login_throttle: {
      enabled: true,
      threshold: 5,
      base_delay_seconds: 1,
      max_delay_seconds: 900,
      account_threshold: 100,
      account_delay_seconds: 1,
      trusted_address_days: 30,
      reset_after_seconds: 86400,
    },
    rate_limits: {
      enabled: true,
      max_addresses: 100000,
      login: { per_second: 10, burst: 100 },
      api: { per_second: 100, burst: 1000 },
      checks: { per_second: 5000, burst: 10000 },
    },
    max_header_bytes: 16384,
    hsts_max_age: 31536000,
  },
  password_policy: { min_length: 8, reject_common: true },
  audit: { enabled: true, retention_days: 30, purge_interval_seconds: 3600 },
  console: { enabled: true },
  // Self-service accounts (issue 21).
  smtp: {
    hostname: 'localhost',
    port: 25,
    starttls: false,
    username: null,
    password: null,
    timeout_seconds: 10,
    ca_file: null,
    tls_reject_unauthorized: true,
  },
  mail_outbox: {
    enabled: true,
    poll_interval_ms: 1000,
    batch_size: 20,
    retry_min_ms: 2000,
    retry_max_ms: 300_000,
    lease_seconds: 120,
    retention_days: 7,
  },
  self_service: {
    public_base_url: null,
    password_reset_url: null,
    rate_limits: {
      enabled: true,
      password_reset_per_address: { per_hour: 60, burst: 10 },
      password_reset_per_login: { per_hour: 12, burst: 3 },
      mails_per_account: { per_hour: 12, burst: 5 },
      registrations_per_address: { per_hour: 10, burst: 3 },
    },
    max_pending_requests: 1000,
  },
  enabled_http_plugins: { email_confirm: true, password_reset: true, user_registration: false },
  password_reset_expiration: 172800,
  password_reset_from_name: 'xivo-auth',
  password_reset_from_address: 'noreply@localhost',
  password_reset_email_template: null,
  password_reset_email_html_template: null,
  password_reset_email_subject_template: null,
  email_confirmation_expiration: 172800,
  email_confirmation_from_name: 'xivo-auth',
  email_confirmation_from_address: 'noreply@localhost',
  email_confirmation_template: null,
  email_confirmation_html_template: null,
  email_confirmation_subject_template: null,
  email_confirmation_get_response_body_template: null,
  email_confirmation_get_mimetype: 'text/html',
  extra_config_files: '/etc/xivo-auth/conf.d/',
};

describe('config schema', () => {
  it('DEFAULT_CONFIG holds the documented defaults and passes the schema', () => {
    expect(DEFAULT_CONFIG).toEqual(EXPECTED_DEFAULTS);
    expect(Value.Check(ConfigSchema, DEFAULT_CONFIG)).toBe(true);
    expect(Object.isFrozen(DEFAULT_CONFIG.rest_api.cors.allow_origins)).toBe(true);
  });

  it('every key has a description', () => {
    const keys = listConfigKeys();
    expect(keys.map((k) => k.key)).toContain('rest_api.cors.allow_headers');
    for (const key of keys) expect(key.description, key.key).not.toBe('');
    expect(keys.find((k) => k.key === 'rest_api.port')).toMatchObject({
      expected: 'an integer from 0 to 65535',
      default: 9497,
    });
  });

  it('every leaf of the defaults is described by the schema', () => {
    const visit = (value: unknown, path: string[]): void => {
      const schema = schemaAt(path) as (TSchema & { description?: string; [Kind]: string }) | undefined;
      expect(schema, path.join('.')).toBeDefined();
      const kind = schema?.[Kind];
      if (path.length > 0) expect(schema?.description, path.join('.')).toBeTruthy();
      if (kind === 'Object' && value !== null && typeof value === 'object') {
        for (const [k, v] of Object.entries(value)) visit(v, [...path, k]);
      }
    };
    visit(DEFAULT_CONFIG, []);
  });

  it.each([
    [{ rest_api: { ...EXPECTED_DEFAULTS.rest_api, port: 0 } }, true],
    [{ rest_api: { ...EXPECTED_DEFAULTS.rest_api, port: 65535 } }, true],
    [{ rest_api: { ...EXPECTED_DEFAULTS.rest_api, port: 65536 } }, false],
    [{ rest_api: { ...EXPECTED_DEFAULTS.rest_api, port: -1 } }, false],
    [{ rest_api: { ...EXPECTED_DEFAULTS.rest_api, port: 80.5 } }, false],
    [{ default_token_lifetime: 0 }, false],
    [{ token_cleanup_interval: 0 }, false],
    [{ token_cleanup_interval: 0.5 }, true],
    [{ db_uri: 'sqlite:/var/lib/xivo-auth/db.sqlite' }, true],
    [{ db_uri: 'postgresql://u:p@h:5432/db' }, true],
    [{ db_uri: 'mysql://h/db' }, false],
    [{ log_level: 'warn' }, false],
    [{ default_policies: { p: { acl: ['a.b'], name: 'P' } } }, true],
    [{ default_policies: { p: { acl: 'a.b' } } }, false],
    [{ enabled_backend_plugins: { x: 'yes' } }, false],
    [{ password_hashing: { ...EXPECTED_DEFAULTS.password_hashing, parallelism: 0 } }, false],
  ])('checks %j → %s', (patch, ok) => {
    expect(Value.Check(ConfigSchema, { ...EXPECTED_DEFAULTS, ...patch })).toBe(ok);
  });
});
