// The effective configuration, after defaults, files, environment and flags
// are merged and validated. Key names follow XiVO's YAML keys (snake_case).
//
// Every type here is read off the one schema (src/config/schema.ts, with the
// per-feature src/config/sections/*.ts modules it plugs in): a key, its type
// and its description are written once, there.
import type { Static } from '@sinclair/typebox';
import type { ConfigSchema } from './schema.js';

export type Config = Static<typeof ConfigSchema>;

export type LogLevel = Config['log_level'];

/** A policy of default_policies: a named list of ACL templates. */
export type ConfigPolicy = Config['default_policies'][string];

/** A gateway route: requests to `path` (with `{param}` segments) need `access`; `methods` absent means every method. */
export type AuthzRoute = Config['authz']['routes'][number];

/** A service account: a stored argon2id hash, or a plain password hashed at start-up. */
export type ServiceAccountConfig = Config['service_accounts'][string];

/** A third-party backend: the module to import and the options given to its factory. */
export type BackendPluginConfig = Config['backend_plugins'][string];
