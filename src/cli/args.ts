// Command-line parsing: `xivo-auth [options] [command ...]`.
//
// Pure: no I/O, no process.exit. Bad usage throws `UsageError` (main maps it
// to exit code 2 and prints USAGE).

import { parseArgs as nodeParseArgs } from 'node:util';
import { DEFAULT_CONFIG_FILE, LOG_LEVELS } from '../config/schema.js';
import type { ConfigFlags } from '../config/loader.js';
import type { LogLevel } from '../config/types.js';

export type Command = 'serve' | 'bootstrap' | 'migrate' | 'config-show' | 'import-wazo-auth';

/** Parsed arguments: the configuration's flags (config/loader.ts) and the command's own. */
export interface ParsedArgs extends ConfigFlags {
  help: boolean;
  configFile?: string;
  user?: string;
  debug: boolean;
  foreground: boolean;
  logLevel?: LogLevel;
  listenPort?: number;
  dbUpgradeOnStartup: boolean;
  command: Command;
  bootstrapUsername?: string;
  bootstrapPassword?: string;
  /** `import wazo-auth SOURCE_URI`: the wazo-auth database to read. */
  importSource?: string;
  /** `import wazo-auth --dry-run`: count, write nothing. */
  dryRun?: boolean;
  /** Internal: this process is the detached child of `xivo-auth` without -f. */
  daemonChild: boolean;
}

/** Wrong command-line usage (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `usage: xivo-auth [-h] [-c CONFIG_FILE] [-u USER] [-d] [-f] [-l LOG_LEVEL]
                 [--listen-port PORT] [--db-upgrade-on-startup] [command ...]

Authentication service: issues tokens carrying an ACL and checks them.

options:
  -h, --help                  show this help and exit
  -c, --config-file FILE      main configuration file
                              (default: ${DEFAULT_CONFIG_FILE}, read only if it exists)
  -u, --user USER             Unix user to run as after binding (default: current user)
  -d, --debug                 log at debug level (default: off)
  -f, --foreground            stay in the foreground and log to stdout
                              (default: detach and write pid_filename)
  -l, --log-level LEVEL       critical, error, warning, info or debug (default: info)
  --listen-port PORT          HTTP API port, 0-65535; 0 picks a free port (default: 9497)
  --db-upgrade-on-startup     apply pending database migrations at start-up
                              (default: db_upgrade_on_startup, true)

commands:
  serve                       run the HTTP API (default)
  bootstrap [--username U] [--password P]
                              create the first administrator if none exists and
                              print its credentials (idempotent; default username:
                              admin; without --password one is generated)
  migrate                     apply pending database migrations and exit
  import wazo-auth SOURCE_URI [--dry-run]
                              copy a wazo-auth PostgreSQL database (SOURCE_URI:
                              postgresql://user:password@host/database, wazo 25.14
                              or later) into the configured store: tenants, users
                              and their passwords, policies, groups, LDAP
                              configurations, refresh tokens and live tokens keep
                              working; prints what was created, updated, left
                              unchanged and skipped. Idempotent; --dry-run only
                              counts
  config show                 print the effective configuration, secrets masked

configuration, lowest to highest precedence:
  1. built-in defaults
  2. the main file (-c, default ${DEFAULT_CONFIG_FILE})
  3. every *.yml / *.yaml file in extra_config_files (default /etc/xivo-auth/conf.d/),
     read alphabetically; the first file defining a key wins
  4. environment: XIVO_UUID sets uuid; XIVO_AUTH_<KEY> sets a key, with "__"
     between nesting levels, e.g. XIVO_AUTH_REST_API__PORT=9000,
     XIVO_AUTH_DB_URI=postgresql://..., XIVO_AUTH_DEBUG=true (values are YAML scalars)
  5. the options above
Mappings merge deeply; lists and scalars replace.
`;

export function parseArgs(argv: readonly string[]): ParsedArgs {
  let parsed: ReturnType<typeof runNodeParser>;
  try {
    parsed = runNodeParser(argv);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;

  const result: ParsedArgs = {
    help: values.help === true,
    debug: values.debug === true,
    foreground: values.foreground === true,
    dbUpgradeOnStartup: values['db-upgrade-on-startup'] === true,
    command: 'serve',
    daemonChild: values['daemon-child'] === true,
  };
  // --help wins over everything else: no further validation.
  if (result.help) return result;

  result.command = parseCommand(positionals);
  if (result.command === 'import-wazo-auth') result.importSource = positionals[2];
  if (values['dry-run'] === true) {
    if (result.command !== 'import-wazo-auth')
      throw new UsageError('--dry-run is only valid with the "import wazo-auth" command');
    result.dryRun = true;
  }

  if (values['config-file'] !== undefined) {
    result.configFile = nonEmpty('--config-file', values['config-file']);
  }
  if (values.user !== undefined) result.user = nonEmpty('--user', values.user);
  if (values['log-level'] !== undefined) result.logLevel = parseLogLevel(values['log-level']);
  if (values['listen-port'] !== undefined) result.listenPort = parsePort(values['listen-port']);

  if (values.username !== undefined || values.password !== undefined) {
    if (result.command !== 'bootstrap') {
      const flag = values.username !== undefined ? '--username' : '--password';
      throw new UsageError(`${flag} is only valid with the "bootstrap" command`);
    }
    if (values.username !== undefined) result.bootstrapUsername = nonEmpty('--username', values.username);
    if (values.password !== undefined) result.bootstrapPassword = nonEmpty('--password', values.password);
  }
  return result;
}

function runNodeParser(argv: readonly string[]) {
  return nodeParseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      'config-file': { type: 'string', short: 'c' },
      user: { type: 'string', short: 'u' },
      debug: { type: 'boolean', short: 'd' },
      foreground: { type: 'boolean', short: 'f' },
      'log-level': { type: 'string', short: 'l' },
      'listen-port': { type: 'string' },
      'db-upgrade-on-startup': { type: 'boolean' },
      username: { type: 'string' },
      password: { type: 'string' },
      'dry-run': { type: 'boolean' },
      // Internal: marks the detached child started by a daemonising parent (not in USAGE).
      'daemon-child': { type: 'boolean' },
    },
  });
}

function parseCommand(positionals: readonly string[]): ParsedArgs['command'] {
  const [verb, ...rest] = positionals;
  const noMore = (name: string) => {
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}" after "${name}"`);
  };
  switch (verb) {
    case undefined:
      return 'serve';
    case 'serve':
    case 'bootstrap':
    case 'migrate':
      noMore(verb);
      return verb;
    case 'import': {
      const [source, uri, ...extra] = rest;
      if (source !== 'wazo-auth') {
        throw new UsageError(
          source === undefined
            ? '"import" needs a source: import wazo-auth SOURCE_URI'
            : `unknown import source "${source}" (expected: import wazo-auth SOURCE_URI)`,
        );
      }
      if (uri === undefined || uri === '')
        throw new UsageError(
          '"import wazo-auth" needs the wazo-auth database URI, e.g. postgresql://user:password@host/asterisk',
        );
      if (!/^postgres(ql)?:\/\//.test(uri)) {
        throw new UsageError(
          'the wazo-auth database URI must start with postgresql:// (e.g. postgresql://user:password@host/asterisk)',
        );
      }
      if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" after "import wazo-auth SOURCE_URI"`);
      return 'import-wazo-auth';
    }
    case 'config': {
      const [sub, ...extra] = rest;
      if (sub === undefined) throw new UsageError('"config" needs a subcommand: config show');
      if (sub !== 'show') throw new UsageError(`unknown command "config ${sub}" (expected: config show)`);
      if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" after "config show"`);
      return 'config-show';
    }
    default:
      throw new UsageError(
        `unknown command "${verb}" (expected one of: serve, bootstrap, migrate, config show, import wazo-auth)`,
      );
  }
}

function parseLogLevel(raw: string): LogLevel {
  const level = raw.toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new UsageError(`invalid log level "${raw}" for -l/--log-level (expected one of: ${LOG_LEVELS.join(', ')})`);
}

function parsePort(raw: string): number {
  if (/^\d{1,5}$/.test(raw)) {
    const port = Number(raw);
    if (port <= 65535) return port;
  }
  throw new UsageError(`invalid port "${raw}" for --listen-port (expected an integer from 0 to 65535)`);
}

function nonEmpty(flag: string, raw: string): string {
  if (raw === '') throw new UsageError(`${flag} needs a non-empty value`);
  return raw;
}
