// The effective configuration, after defaults, files, environment and flags
// are merged and validated. Key names follow XiVO's YAML keys (snake_case).
import type { AuditConfig, PasswordPolicyConfig, SecurityConfig } from '../security/config-schema.js';
import type { ExternalAuthConfig, OAuthProviderConfig } from '../external/config-schema.js';
import type { SelfServiceConfigKeys } from '../mail/config-schema.js';
import type { MfaConfig } from '../mfa/config-schema.js';
import type { OidcConfig, SamlConfig } from '../sso/config-schema.js';
import type { TracingConfig } from '../tracing/tracing.js';

export type LogLevel = 'critical' | 'error' | 'warning' | 'info' | 'debug';

export interface ConfigPolicy {
  acl: string[];
  description?: string;
  name?: string;
}

/** A gateway route: requests to `path` (with `{param}` segments) need `access`. */
export interface AuthzRoute {
  path: string;
  access: string;
  /** HTTP methods this entry applies to; absent means every method. */
  methods?: string[];
}

/** A service account: a stored argon2id hash, or a plain password hashed at start-up. */
export type ServiceAccountConfig = { password_hash: string; acl: string[] } | { password: string; acl: string[] };

/** A third-party backend: the module to import and the options given to its factory. */
export interface BackendPluginConfig {
  module: string;
  options?: Record<string, unknown>;
}

/** Self-service accounts (issue 21): smtp, mail_outbox, self_service, enabled_http_plugins and wazo-auth's mail keys. */
export interface Config extends SelfServiceConfigKeys {
  debug: boolean;
  log_level: LogLevel;
  log_filename: string;
  /** Log per-request timings (PATCH /config /profiling_enabled). */
  profiling_enabled: boolean;
  foreground: boolean;
  pid_filename: string;
  /** Unix user to switch to after binding; null keeps the current user. */
  user: string | null;
  /** Installation uuid (xivo_uuid in tokens); null when not configured. */
  uuid: string | null;
  /** Directory for the embedded store and other local state. */
  data_dir: string;
  default_token_lifetime: number;
  token_cleanup_interval: number;
  token_cleanup_batch_size: number;
  max_user_concurrent_sessions: number;
  /** Refresh-token lifecycle (issue 19): 0 turns a limit off. */
  refresh_tokens: {
    idle_timeout_seconds: number;
    absolute_lifetime_seconds: number;
    rotation: boolean;
    reuse_grace_seconds: number;
  };
  rest_api: {
    listen: string;
    port: number;
    certificate: string | null;
    private_key: string | null;
    cors: {
      enabled: boolean;
      allow_origins: string[];
      allow_headers: string[];
    };
    num_proxies: number;
    max_body_bytes: number;
    /** Slow clients (src/http/server-limits.ts). */
    headers_timeout_seconds: number;
    request_timeout_seconds: number;
    keep_alive_timeout_seconds: number;
    max_requests_per_socket: number;
    max_connections: number;
    max_connections_per_address: number;
  };
  /** `sqlite:<path>` or `postgresql://...`; null means `sqlite:<data_dir>/xivo-auth.sqlite`. */
  db_uri: string | null;
  /** Longest database wait of one request (s): see dbTimeoutMs(). */
  db_timeout_seconds: number;
  /** Deprecated alias of db_timeout_seconds, in ms; wins when set. */
  db_timeout_ms: number | null;
  db_upgrade_on_startup: boolean;
  amqp: {
    uri: string;
    exchange_name: string;
    exchange_type: string;
    enabled: boolean;
    timeout_ms: number;
    batch_size: number;
    poll_interval_ms: number;
    retry_min_ms: number;
    retry_max_ms: number;
    expire_soon_seconds: number;
  };
  enabled_backend_plugins: Record<string, boolean>;
  /** ldap_user backend (per-tenant directories are configured over HTTP). */
  ldap: {
    /** Seconds for each step of an LDAP login. */
    timeout: number;
    /** Extra CA certificates (PEM file) for ldaps/StartTLS; null: system CAs only. */
    tls_ca_cert: string | null;
  };
  /** xivo_service accounts by login name. */
  service_accounts: Record<string, ServiceAccountConfig>;
  /** Third-party backends by name (enabled through enabled_backend_plugins). */
  backend_plugins: Record<string, BackendPluginConfig>;
  /** Seconds a third-party backend may take to check a password. */
  backend_plugin_timeout: number;
  default_user_policy: string | null;
  default_policies: Record<string, ConfigPolicy>;
  bootstrap_user_on_startup: boolean;
  bootstrap_user_username: string;
  bootstrap_user_password: string | null;
  password_hashing: {
    memory_kib: number;
    iterations: number;
    parallelism: number;
    /** Concurrent hashes allowed in flight; 0 = number of CPUs. */
    max_concurrent: number;
    /** Logins allowed to wait for a hashing slot before 503. */
    max_queue: number;
    niceness: number;
  };
  token_cache: {
    /** Max token records cached in process; 0 disables the cache. */
    max_entries: number;
  };
  /** The gateway endpoint GET|HEAD /0.1/authz. */
  authz: {
    /** Route → access table for requests that name no access (first match wins). */
    routes: AuthzRoute[];
    /** 0: `Cache-Control: no-store`; N: `private, max-age=min(N, token's remaining life)`. */
    cache_max_age: number;
  };
  /** A second listener for /metrics and /health/* apart from the public API. */
  management: {
    enabled: boolean;
    listen: string;
    port: number;
  };
  /** External auth types enabled by name (issue 22). */
  enabled_external_auth_plugins: Record<string, boolean>;
  /** External accounts: encryption key, provider timeouts, device-flow polling. */
  external_auth: ExternalAuthConfig;
  /** OAuth 2.0 endpoints and default scopes of Google and Microsoft connections. */
  google: OAuthProviderConfig;
  microsoft: OAuthProviderConfig;
  /** Multi-factor authentication (issue 24): TOTP, recovery codes, enforcement. */
  mfa: MfaConfig;
  saml: SamlConfig;
  oidc: OidcConfig;
  /** OpenTelemetry traces (issue 26; src/tracing/). */
  tracing: TracingConfig;
  /** Brute-force protection, rate limits, HTTP hardening (issue 7). */
  security: SecurityConfig;
  password_policy: PasswordPolicyConfig;
  audit: AuditConfig;
  /** The admin web console at /console/ (issue 25). */
  console: { enabled: boolean };
  /** Directory whose `*.yml`/`*.yaml` files override the main file (first file defining a key wins). */
  extra_config_files: string;
}
