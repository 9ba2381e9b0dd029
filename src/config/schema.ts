// The one schema of the configuration: types, ranges, defaults and a
// description per key (the descriptions feed the documentation; the types of
// src/config/types.ts are read off it with Static<>).
//
// `DEFAULT_CONFIG` is derived from the schema's defaults, so a default is
// written exactly once.

import { Kind, Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AuditSchema, PasswordPolicySchema, SecuritySchema } from './sections/security.js';
import { EnabledExternalAuthSchema, ExternalAuthSchema, GoogleSchema, MicrosoftSchema } from './sections/external.js';
import { SELF_SERVICE_CONFIG_PROPERTIES } from './sections/mail.js';
import { MfaSchema } from './sections/mfa.js';
import { OidcSchema, SamlSchema } from './sections/sso.js';
import { TracingSchema } from './sections/tracing.js';
import { ACCESS_LIMITS_TEXT, ACCESS_WILDCARDS_PATTERN, MAX_ACCESS_LENGTH, MAX_ACL_ENTRIES } from '../access-limits.js';

export const LOG_LEVELS = ['critical', 'error', 'warning', 'info', 'debug'] as const;

/** Longest refresh-token idle timeout or lifetime that can be configured (10 years, as a token's `expiration`). */
export const MAX_REFRESH_TOKEN_SECONDS = 315_360_000;

/** The main file read when `-c` is not given (only if it exists). */
export const DEFAULT_CONFIG_FILE = '/etc/xivo-auth/config.yml';

const nullableString = (description: string, extra: Record<string, unknown> = {}) =>
  Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null, description, ...extra });

/** One access (ACL template) written in the configuration: the limits of the API's (src/access-limits.ts). */
const AccessSchema = Type.String({
  minLength: 1,
  maxLength: MAX_ACCESS_LENGTH,
  pattern: ACCESS_WILDCARDS_PATTERN,
  expected: ACCESS_LIMITS_TEXT,
});

const PolicySchema = Type.Object(
  {
    acl: Type.Array(AccessSchema, {
      maxItems: MAX_ACL_ENTRIES,
      expected: 'a list of non-empty strings',
      description: 'ACL templates granted by the policy.',
    }),
    description: Type.Optional(Type.String({ description: 'Free text shown to administrators.' })),
    name: Type.Optional(Type.String({ minLength: 1, description: 'Policy name (defaults to the mapping key).' })),
  },
  { description: 'A policy: a named list of ACL templates.' },
);

export const ConfigSchema = Type.Object(
  {
    debug: Type.Boolean({ default: false, description: 'Log at debug level (same as `-d`).' }),
    log_level: Type.Union(
      LOG_LEVELS.map((level) => Type.Literal(level)),
      { default: 'info', description: 'Minimum level logged: critical, error, warning, info or debug.' },
    ),
    log_filename: Type.String({
      minLength: 1,
      default: '/var/log/xivo-auth.log',
      description: 'Log file used when running in the background.',
    }),
    profiling_enabled: Type.Boolean({
      default: false,
      description:
        'Log the timing of every request Fastify serves, at info level (also switched by PATCH /config). ' +
        'The HEAD /0.1/token and /0.1/authz fast path is not timed: see the metrics.',
    }),
    foreground: Type.Boolean({
      default: false,
      description: 'Stay in the foreground and log to stdout instead of detaching (same as `-f`).',
    }),
    pid_filename: Type.String({
      minLength: 1,
      default: '/run/xivo-auth/xivo-auth.pid',
      description: 'File the process id is written to when detached.',
    }),
    user: nullableString('Unix user to switch to after binding the listening socket; null keeps the current user.'),
    uuid: nullableString('Installation uuid, returned as `xivo_uuid` in tokens; null when not configured.'),
    data_dir: Type.String({
      minLength: 1,
      default: './data',
      description:
        'Directory for the embedded database and other local state; a relative path is relative to the current directory.',
    }),
    default_token_lifetime: Type.Integer({
      minimum: 1,
      default: 7200,
      description: 'Token lifetime in seconds when the client does not ask for one.',
    }),
    token_cleanup_interval: Type.Number({
      exclusiveMinimum: 0,
      default: 60,
      description: 'Seconds between two runs of the expired-token reaper.',
    }),
    token_cleanup_batch_size: Type.Integer({
      minimum: 1,
      default: 5000,
      description: 'Maximum number of expired tokens deleted per reaper batch.',
    }),
    max_user_concurrent_sessions: Type.Integer({
      minimum: 1,
      default: 100,
      description: 'Maximum number of sessions a user may hold at the same time.',
    }),
    refresh_tokens: Type.Object(
      {
        idle_timeout_seconds: Type.Integer({
          minimum: 0,
          maximum: MAX_REFRESH_TOKEN_SECONDS,
          default: 7_776_000,
          description:
            'A refresh token not used for a refresh-token login this many seconds expires (401, then purged by the reaper); each such login starts the window again. 0: no idle timeout (wazo-auth).',
        }),
        absolute_lifetime_seconds: Type.Integer({
          minimum: 0,
          maximum: MAX_REFRESH_TOKEN_SECONDS,
          default: 31_536_000,
          description:
            'A refresh token expires this many seconds after its offline login, however often it is used (rotation does not extend it). 0: no limit (wazo-auth). When both are set, at least idle_timeout_seconds.',
        }),
        rotation: Type.Boolean({
          default: false,
          description:
            'Each refresh-token login answers a new refresh_token and retires the one presented; presenting a retired one again revokes its whole family (refresh token, access tokens, sessions). false: refresh tokens are reusable (wazo-auth).',
        }),
        reuse_grace_seconds: Type.Integer({
          minimum: 0,
          maximum: 300,
          default: 10,
          description:
            'With rotation: a refresh token retired less than this many seconds ago is refused (401) without revoking its family (a client retrying after a lost answer, the loser of two concurrent refreshes). 0: every reuse revokes.',
        }),
      },
      { default: {}, description: 'Refresh-token lifecycle: idle timeout, absolute lifetime, rotation with reuse detection.' },
    ),
    rest_api: Type.Object(
      {
        listen: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Address the HTTP API listens on.' }),
        port: Type.Integer({
          minimum: 0,
          maximum: 65535,
          default: 9497,
          description: 'TCP port of the HTTP API (0 picks a free port, for tests).',
        }),
        certificate: nullableString('Path to the TLS certificate (PEM); null serves plain HTTP.'),
        private_key: nullableString('Path to the TLS private key (PEM); required with `certificate`.'),
        cors: Type.Object(
          {
            enabled: Type.Boolean({ default: false, description: 'Answer CORS requests.' }),
            allow_origins: Type.Array(Type.String({ minLength: 1 }), {
              default: ['*'],
              description: 'Origins allowed by CORS (`*` for any).',
            }),
            allow_headers: Type.Array(Type.String({ minLength: 1 }), {
              default: ['Authorization', 'Content-Type', 'Accept', 'X-Auth-Token', 'Wazo-Tenant', 'Wazo-Session-Type'],
              description: 'Request headers allowed by CORS.',
            }),
          },
          { default: {}, description: 'Cross-origin resource sharing.' },
        ),
        num_proxies: Type.Integer({
          minimum: 0,
          default: 1,
          description: 'Number of trusted reverse proxies in front of the service (for the client address).',
        }),
        max_body_bytes: Type.Integer({
          minimum: 1,
          default: 65536,
          description: 'Largest accepted request body, in bytes.',
        }),
        headers_timeout_seconds: Type.Number({
          minimum: 0.1,
          maximum: 3600,
          default: 10,
          description:
            'A connection that has not sent a complete request head this long after it opened (or after its request began) is closed (408): slow-header clients (slowloris) cannot hold connections.',
        }),
        request_timeout_seconds: Type.Number({
          minimum: 0.1,
          maximum: 3600,
          default: 30,
          description:
            'A request not received whole (head and body) within this many seconds is answered 408 and its connection closed.',
        }),
        keep_alive_timeout_seconds: Type.Number({
          minimum: 0,
          maximum: 3600,
          default: 72,
          description:
            "An idle keep-alive connection is closed after this many seconds (0: after each response). Keep it above the proxy's own idle timeout.",
        }),
        max_requests_per_socket: Type.Integer({
          minimum: 0,
          default: 0,
          description: 'Requests served on one connection before it is closed (0: no limit).',
        }),
        max_connections: Type.Integer({
          minimum: 0,
          default: 10000,
          description:
            "Open client connections beyond which new ones are refused (0: no limit). Keep it below the process's file descriptor limit (`ulimit -n`), with room for the database.",
        }),
        max_connections_per_address: Type.Integer({
          minimum: 0,
          default: 0,
          description:
            'Open connections one client address may hold; beyond it, new ones from that address are closed at once (0: no limit). Leave 0 behind a reverse proxy (every connection then comes from its address).',
        }),
      },
      { default: {}, description: 'HTTP API.' },
    ),
    db_uri: Type.Union([Type.String({ pattern: '^(sqlite:.+|postgres(ql)?://.+)$' }), Type.Null()], {
      default: null,
      description:
        'Database: `sqlite:<path>` or `postgresql://user:password@host/db`; null means `sqlite:<data_dir>/xivo-auth.sqlite`.',
      expected: 'a "sqlite:<path>" or "postgresql://..." URI, or null',
    }),
    db_timeout_seconds: Type.Number({
      minimum: 0.1,
      maximum: 600,
      default: 3,
      description:
        'Longest wait of one request on the database, all its statements together (connection, statements, transaction; SQLite: a lock held by another connection); past it the request answers 503 with Retry-After.',
    }),
    db_timeout_ms: Type.Union([Type.Integer({ minimum: 100, maximum: 600_000 }), Type.Null()], {
      default: null,
      description: 'Deprecated: db_timeout_seconds in milliseconds; when set, it wins over db_timeout_seconds.',
      expected: 'an integer from 100 to 600000, or null',
    }),
    db_upgrade_on_startup: Type.Boolean({
      default: true,
      description: 'Apply pending database migrations at start-up (same as `--db-upgrade-on-startup`).',
    }),
    amqp: Type.Object(
      {
        uri: Type.String({
          minLength: 1,
          default: 'amqp://guest:guest@localhost:5672/',
          description: 'AMQP broker URI.',
        }),
        exchange_name: Type.String({ minLength: 1, default: 'xivo', description: 'Exchange events are published to.' }),
        exchange_type: Type.String({ minLength: 1, default: 'topic', description: 'Type of that exchange.' }),
        enabled: Type.Boolean({
          default: false,
          description:
            'Publish events to the AMQP broker. Events are written to the outbox with each change only when true; with false none are recorded (the outbox stays empty). Set it alike on every instance.',
        }),
        timeout_ms: Type.Integer({
          minimum: 100,
          maximum: 600_000,
          default: 5000,
          description: 'Connecting to the broker, and waiting for the confirms of a batch, give up after this many milliseconds.',
        }),
        batch_size: Type.Integer({
          minimum: 1,
          maximum: 10_000,
          default: 200,
          description: 'Events published per batch (one round of confirms).',
        }),
        poll_interval_ms: Type.Integer({
          minimum: 10,
          maximum: 600_000,
          default: 500,
          description: 'How often the relay looks for events committed by other instances (its own wake it at once).',
        }),
        retry_min_ms: Type.Integer({
          minimum: 10,
          maximum: 600_000,
          default: 500,
          description: 'First pause after a failed publication; doubles on each failure.',
        }),
        retry_max_ms: Type.Integer({
          minimum: 10,
          maximum: 3_600_000,
          default: 30_000,
          description: 'Longest pause between publication attempts.',
        }),
        expire_soon_seconds: Type.Integer({
          minimum: 1,
          maximum: 86_400,
          default: 60,
          description: 'auth_session_expire_soon is published when a token has this many seconds or less to live.',
        }),
      },
      { default: {}, description: 'Message bus.' },
    ),
    enabled_backend_plugins: Type.Record(Type.String(), Type.Boolean(), {
      default: { xivo_user: true },
      description: 'Authentication backends by name; `true` enables one.',
      expected: 'a mapping of backend name to true/false',
    }),
    // Backends (issue 6): LDAP, service accounts, third-party plugins.
    ldap: Type.Object(
      {
        timeout: Type.Number({
          exclusiveMinimum: 0,
          default: 2,
          description:
            'Seconds allowed for each step of an LDAP login (connect, StartTLS, bind, search); a directory that does not answer in time fails the login (401).',
        }),
        tls_ca_cert: nullableString(
          'PEM file of CA certificates trusted (besides the system ones) for ldaps and StartTLS directories; null trusts the system CAs only.',
        ),
      },
      { default: {}, description: "ldap_user backend (each tenant's directory is configured over HTTP: /0.1/backends/ldap)." },
    ),
    service_accounts: Type.Record(
      Type.String(),
      Type.Union(
        [
          Type.Object({
            password_hash: Type.String({ pattern: '^\\$argon2id\\$', description: 'argon2id PHC string of the password.' }),
            acl: Type.Array(AccessSchema, { description: "ACL of the account's tokens." }),
          }),
          Type.Object({
            password: Type.String({ minLength: 1, description: 'Plain password, hashed at start-up (prefer password_hash).' }),
            acl: Type.Array(AccessSchema, { description: "ACL of the account's tokens." }),
          }),
        ],
        { description: 'A service account.' },
      ),
      {
        default: {},
        description:
          'xivo_service backend: service accounts by login name, each with `password_hash` (argon2id) or `password`, and `acl`.',
        expected: 'a mapping of account name to {password_hash: "$argon2id$...", acl: [...]} or {password: "...", acl: [...]}',
      },
    ),
    backend_plugins: Type.Record(
      Type.String(),
      Type.Object(
        {
          module: Type.String({
            minLength: 1,
            description: 'npm package name, or path of the module (relative to the current directory).',
          }),
          options: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "Passed to the plugin's factory." })),
        },
        { description: 'A third-party backend.' },
      ),
      {
        default: {},
        description:
          'Third-party backends by name (enable them in enabled_backend_plugins): `module` and `options` (see docs/backends.md).',
        expected: 'a mapping of backend name to {module: "...", options: {...}}',
      },
    ),
    backend_plugin_timeout: Type.Number({
      exclusiveMinimum: 0,
      default: 2,
      description: 'Seconds a third-party backend may take to check a password; beyond that the login fails (401).',
    }),
    default_user_policy: nullableString(
      'Slug of a policy (usually one of default_policies) whose ACL is added to every user token; null for none.',
    ),
    default_policies: Type.Record(Type.String(), PolicySchema, {
      default: {},
      description: 'Policies created or updated at start-up in the top tenant, by slug; read-only over HTTP.',
      expected: 'a mapping of policy name to {acl: [...], description, name}',
    }),
    bootstrap_user_on_startup: Type.Boolean({
      default: false,
      description: 'Create the bootstrap administrator (bootstrap_user_username) at start-up when it does not exist.',
    }),
    bootstrap_user_username: Type.String({
      minLength: 1,
      default: 'admin',
      description: 'Username of the first administrator.',
    }),
    bootstrap_user_password: nullableString(
      'Password of the bootstrap administrator; null generates one, written once to <data_dir>/bootstrap-password (mode 0600).',
    ),
    password_hashing: Type.Object(
      {
        memory_kib: Type.Integer({ minimum: 8, default: 19456, description: 'argon2id memory cost, in KiB.' }),
        iterations: Type.Integer({ minimum: 1, default: 2, description: 'argon2id time cost (passes).' }),
        parallelism: Type.Integer({ minimum: 1, maximum: 255, default: 1, description: 'argon2id lanes.' }),
        max_concurrent: Type.Integer({
          minimum: 0,
          default: 0,
          description: 'Hashes computed at the same time; 0 means the number of CPUs.',
        }),
        max_queue: Type.Integer({
          minimum: 0,
          default: 64,
          description: 'Logins allowed to wait for a hashing slot before answering 503.',
        }),
        niceness: Type.Integer({
          minimum: 0,
          maximum: 19,
          default: 10,
          description:
            "Nice value of the hashing threads (Linux): checks and the rest of each login preempt hashing; 0 hashes at the event loop's priority.",
        }),
      },
      { default: {}, description: 'Password hashing (argon2id; the defaults are the OWASP minimum).' },
    ),
    token_cache: Type.Object(
      {
        max_entries: Type.Integer({
          minimum: 0,
          default: 20000,
          description: 'Token records cached in process (about 2.5 KiB each with their compiled ACL); 0 disables the cache.',
        }),
      },
      { default: {}, description: 'In-process token cache.' },
    ),
    authz: Type.Object(
      {
        routes: Type.Array(
          Type.Object({
            path: Type.String({
              minLength: 1,
              pattern: '^/',
              description: 'Path of the protected API, `{name}` matching one segment, e.g. `/api/users/{user_uuid}`.',
            }),
            access: Type.String({
              minLength: 1,
              description: 'Access required, `{name}` filled from the path, e.g. `confd.users.{user_uuid}.read`.',
            }),
            methods: Type.Optional(
              Type.Array(Type.String({ minLength: 1 }), { description: 'Methods the entry applies to (default: all).' }),
            ),
          }),
          {
            default: [],
            description:
              'Route → access table of GET /0.1/authz for requests naming no access (X-Original-URI/X-Forwarded-Uri and X-Forwarded-Method); the first match wins.',
            expected: 'a list of {path, access, methods?}',
          },
        ),
        cache_max_age: Type.Integer({
          minimum: 0,
          default: 0,
          description:
            "Seconds a gateway may cache an allowed answer (`Cache-Control: private, max-age`, never beyond the token's life); 0 sends `no-store`.",
        }),
      },
      { default: {}, description: 'Gateway authorization endpoint (GET|HEAD /0.1/authz).' },
    ),
    management: Type.Object(
      {
        enabled: Type.Boolean({
          default: false,
          description: 'Serve /metrics and /health/* on a separate listener (and /metrics no longer on the public API).',
        }),
        listen: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Address of the management listener.' }),
        port: Type.Integer({
          minimum: 0,
          maximum: 65535,
          default: 9496,
          description: 'TCP port of the management listener (0 picks a free port).',
        }),
      },
      { default: {}, description: 'Management listener (metrics and health probes).' },
    ),
    // External accounts (issue 22): src/config/sections/external.ts.
    enabled_external_auth_plugins: EnabledExternalAuthSchema,
    external_auth: ExternalAuthSchema,
    google: GoogleSchema,
    microsoft: MicrosoftSchema,
    // Multi-factor authentication (issue 24): src/config/sections/mfa.ts.
    mfa: MfaSchema,
    // Single sign-on (issue 23): src/config/sections/sso.ts.
    saml: SamlSchema,
    oidc: OidcSchema,
    // OpenTelemetry traces (issue 26): src/config/sections/tracing.ts.
    tracing: TracingSchema,
    // Self-service accounts (issue 21): src/config/sections/mail.ts.
    ...SELF_SERVICE_CONFIG_PROPERTIES,
    // Security (issue 7): src/config/sections/security.ts.
    security: SecuritySchema,
    password_policy: PasswordPolicySchema,
    audit: AuditSchema,
    // The admin web console (issue 25): src/http/routes/console.ts.
    console: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description: 'Serve the admin web console at /console/ (static files built by `npm run build`).',
        }),
      },
      { default: {}, description: 'Admin web console.' },
    ),
    extra_config_files: Type.String({
      minLength: 1,
      default: '/etc/xivo-auth/conf.d/',
      description:
        'Directory of `*.yml`/`*.yaml` files read alphabetically after the main file; the first file defining a key wins. Honoured in the main file and the environment only.',
    }),
  },
  { description: 'xivo-auth configuration.' },
);

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value as object)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Built-in defaults (frozen: clone before mutating). */
export const DEFAULT_CONFIG = deepFreeze(Value.Default(ConfigSchema, {}) as Static<typeof ConfigSchema>);

// ---------------------------------------------------------------------------
// Schema walking helpers (used by the loader and for documentation).

type AnySchema = TSchema & Record<string, unknown>;

/** The schema describing `path` (config key segments), or undefined for an unknown key. */
export function schemaAt(path: readonly string[], root: TSchema = ConfigSchema): TSchema | undefined {
  let current: TSchema | undefined = root;
  for (const segment of path) {
    if (current === undefined) return undefined;
    current = childSchema(current, segment);
  }
  return current;
}

/** The schema of one child key of an object or record schema; undefined when unknown. */
export function childSchema(schema: TSchema, key: string): TSchema | undefined {
  const s = schema as AnySchema;
  if (s[Kind] === 'Object') {
    const props = s.properties as Record<string, TSchema>;
    return Object.prototype.hasOwnProperty.call(props, key) ? props[key] : undefined;
  }
  if (s[Kind] === 'Record') {
    const patterns = s.patternProperties as Record<string, TSchema>;
    return Object.values(patterns)[0];
  }
  return undefined;
}

/** True when the schema is a mapping with a fixed set of keys (so other keys are unknown). */
export function isFixedObject(schema: TSchema): boolean {
  return (schema as AnySchema)[Kind] === 'Object';
}

/** True when the schema (or one branch of its union) accepts the given JSON type. */
export function acceptsKind(schema: TSchema, kind: 'String' | 'Null' | 'Boolean' | 'Number'): boolean {
  const s = schema as AnySchema;
  if (s[Kind] === 'Union') return (s.anyOf as TSchema[]).some((inner) => acceptsKind(inner, kind));
  if (kind === 'Number') return s[Kind] === 'Number' || s[Kind] === 'Integer';
  return s[Kind] === kind;
}

/** Human words for what a schema expects, e.g. "an integer from 0 to 65535". */
export function describeExpected(schema: TSchema): string {
  const s = schema as AnySchema;
  if (typeof s.expected === 'string') return s.expected;
  switch (s[Kind]) {
    case 'Union': {
      const branches = s.anyOf as AnySchema[];
      if (branches.every((b) => b[Kind] === 'Literal')) {
        return `one of ${branches.map((b) => String(b.const)).join(', ')}`;
      }
      return branches.map((b) => describeExpected(b)).join(' or ');
    }
    case 'Literal':
      return JSON.stringify(s.const);
    case 'Null':
      return 'null';
    case 'Boolean':
      return 'true or false';
    case 'Integer':
    case 'Number':
      return `${s[Kind] === 'Integer' ? 'an integer' : 'a number'}${describeRange(s)}`;
    case 'String':
      if (typeof s.pattern === 'string') return `a string matching ${s.pattern}`;
      return typeof s.minLength === 'number' && s.minLength > 0 ? 'a non-empty string' : 'a string';
    case 'Array':
      return `a list of ${plural(describeExpected(s.items as TSchema))}`;
    case 'Object':
      return 'a mapping';
    case 'Record':
      return `a mapping of names to ${plural(describeExpected(Object.values(s.patternProperties as Record<string, TSchema>)[0]))}`;
    default:
      return 'a valid value';
  }
}

function describeRange(s: AnySchema): string {
  const min = s.minimum as number | undefined;
  const max = s.maximum as number | undefined;
  const xmin = s.exclusiveMinimum as number | undefined;
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` >= ${min}`;
  if (xmin !== undefined) return ` > ${xmin}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

function plural(words: string): string {
  return words
    .replace(/^an? integer/, 'integers')
    .replace(/^a number/, 'numbers')
    .replace(/^a non-empty string/, 'non-empty strings')
    .replace(/^a string/, 'strings')
    .replace(/^a mapping/, 'mappings')
    .replace(/^a list/, 'lists');
}

export interface ConfigKeyDoc {
  /** Dotted key, e.g. `rest_api.port`. */
  key: string;
  expected: string;
  default: unknown;
  description: string;
}

/** Every documented key (leaves and nested mappings), in schema order, for generated docs. */
export function listConfigKeys(): ConfigKeyDoc[] {
  const out: ConfigKeyDoc[] = [];
  const visit = (schema: AnySchema, prefix: string[]): void => {
    for (const [key, child] of Object.entries(schema.properties as Record<string, AnySchema>)) {
      const path = [...prefix, key];
      const isObject = child[Kind] === 'Object';
      out.push({
        key: path.join('.'),
        expected: describeExpected(child),
        default: isObject ? undefined : readPath(DEFAULT_CONFIG, path),
        description: String(child.description ?? ''),
      });
      if (isObject) visit(child, path);
    }
  };
  visit(ConfigSchema as unknown as AnySchema, []);
  return out;
}

function readPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
