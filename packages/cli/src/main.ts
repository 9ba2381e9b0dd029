// xivo-auth-cli: administer xivo-auth from a shell.
//   xivo-auth-cli [global options] <group> <verb> [arguments] [options]
// Exit codes: 0 success; 1 a negative answer (token check: invalid or lacking
// the scope; acl test: denied); 2 usage or configuration error; 3
// authentication or permission refused; 4 not found; 5 request refused by the
// service (invalid data, conflict, rate limit); 6 service unreachable or
// failing.
import { parseArgs } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import {
  ApiError,
  ConflictError,
  InvalidDataError,
  MfaRequiredError,
  NotFoundError,
  RateLimitedError,
  ServiceUnavailableError,
  UnauthorizedError,
  XivoAuthClient,
} from '@xivo-auth/client';
import { ConfigError, loadSettings, type CliSettings } from './config.js';
import { FORMATS, type Format } from './output.js';
import { promptHidden, StdinLines } from './secrets.js';
import { ArgError, COMMANDS, SecondFactorError, secondFactorAnswer, type Command, type Context } from './commands.js';

export const EXIT = { ok: 0, negative: 1, usage: 2, unauthorized: 3, notFound: 4, refused: 5, unavailable: 6 } as const;

export class UsageError extends Error {}

export interface Io {
  argv: string[];
  env: Record<string, string | undefined>;
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
  home?: string;
}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  format: { type: 'string', short: 'f' },
  config: { type: 'string', short: 'c' },
  url: { type: 'string' },
  'auth-username': { type: 'string' },
  backend: { type: 'string' },
  'auth-password-stdin': { type: 'boolean' },
  'password-stdin': { type: 'boolean' },
  timeout: { type: 'string' },
  tenant: { type: 'string' },
  // lists
  recurse: { type: 'boolean' },
  search: { type: 'string' },
  limit: { type: 'string' },
  offset: { type: 'string' },
  order: { type: 'string' },
  direction: { type: 'string' },
  // tokens
  expiration: { type: 'string' },
  'access-type': { type: 'string' },
  'client-id': { type: 'string' },
  totp: { type: 'string' },
  'recovery-code': { type: 'string' },
  mobile: { type: 'boolean' },
  scope: { type: 'string' },
  // resources
  uuid: { type: 'string' },
  'new-username': { type: 'string' },
  firstname: { type: 'string' },
  lastname: { type: 'string' },
  email: { type: 'string' },
  purpose: { type: 'string' },
  enable: { type: 'boolean' },
  disable: { type: 'boolean' },
  name: { type: 'string' },
  slug: { type: 'string' },
  description: { type: 'string' },
  acl: { type: 'string', multiple: true },
  shared: { type: 'boolean' },
  parent: { type: 'string' },
  domain: { type: 'string', multiple: true },
  contact: { type: 'string' },
  phone: { type: 'string' },
  'auth-method': { type: 'string' },
  purposes: { type: 'string' },
  clear: { type: 'boolean' },
  user: { type: 'string' },
  'auth-id': { type: 'string' },
  'session-uuid': { type: 'string' },
} as const;

export const HELP = `usage: xivo-auth-cli [options] <command>

commands:
  token create [--expiration S] [--access-type online|offline --client-id ID] [--mobile] [--totp CODE | --recovery-code CODE]
                                           a user with a second factor: the code given, else prompted
                                           (a line on stdin with --password-stdin, or after the password with --auth-password-stdin)
  token check <token|-> [--scope ACCESS] [--tenant UUID]     exit 0 valid, 1 invalid
  token show <token|->
  token revoke <token|->
  user list | show <uuid> | delete <uuid>
  user create <username> [--password-stdin] [--firstname F] [--lastname L] [--email E] [--purpose P] [--uuid U] [--disable]
  user update <uuid> [--new-username N] [--firstname F] [--lastname L] [--email E] [--purpose P] [--enable|--disable]
  user set-password <uuid>                 old and new password: prompted, or two lines on stdin
  user mfa <uuid> | user mfa delete <uuid> <factor-uuid>   the user's second factors (no secrets); remove one
  policy list | show <uuid> | delete <uuid>
  policy create <name> [--acl A]... [--description D] [--slug S] [--shared]
  policy update <uuid> [--name N] [--acl A]... [--description D] [--shared]
  policy acl add <uuid> <access> | policy acl remove <uuid> <access>
  group list | show <uuid> | delete <uuid> | create <name> [--slug S] | update <uuid> --name N
  group users <uuid> | group add-user <group> <user> | group remove-user <group> <user>
  group policies <uuid> | group add-policy <group> <policy> | group remove-policy <group> <policy>
  tenant list | show <uuid> | delete <uuid>
  tenant create <name> [--slug S] [--parent UUID] [--domain D]... [--contact USER] [--phone P] [--auth-method native|ldap|saml]
  tenant update <uuid> [--name N] [--slug S] [--domain D]... [--contact USER] [--phone P] [--auth-method M]   (other fields kept)
  tenant domains <uuid> | tenant move <uuid> <parent-uuid>
  tenant mfa <uuid> [--acl A]... [--purposes user,internal,external_api] [--clear]
                                           the tenant's mfa.required_for; replaced (whole) when --acl, --purposes or --clear is given
  session list [--user UUID] | session revoke <uuid> [--user UUID]
  acl test <pattern>... <access> [--auth-id ID] [--session-uuid UUID]   explain; exit 0 allowed, 1 denied

options:
  -f, --format table|json|yaml|csv   output format (default table)
  -c, --config PATH                  configuration file or directory (wazo-auth-cli format accepted)
  --url URL                          xivo-auth base URL (default from the configuration, http://localhost:9497)
  --auth-username NAME, --backend B  credentials to log in with (the password: configuration,
                                     XIVO_AUTH_PASSWORD, --auth-password-stdin, or a prompt)
  --totp CODE, --recovery-code CODE  the login's second factor, for a user with one (else prompted, or the
                                     line after the password with --auth-password-stdin)
  --tenant UUID                      act on this tenant (Wazo-Tenant)
  --timeout MS                       per request (default 10000)
  lists: --search S --limit N --offset N --order COLUMN --direction asc|desc --recurse
Passwords are never accepted as arguments. A token argument "-" is read from stdin.
`;

function exitFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof ArgError) return EXIT.usage;
  if (err instanceof UnauthorizedError || err instanceof SecondFactorError) return EXIT.unauthorized;
  if (err instanceof NotFoundError) return EXIT.notFound;
  if (err instanceof InvalidDataError || err instanceof ConflictError || err instanceof RateLimitedError) return EXIT.refused;
  if (err instanceof ServiceUnavailableError) return EXIT.unavailable;
  if (err instanceof ApiError) return err.status >= 500 ? EXIT.unavailable : EXIT.refused;
  return EXIT.unavailable;
}

function describe(err: unknown): string {
  if (err instanceof MfaRequiredError) {
    // Not the challenge: it is of no use past this run.
    return `${err.status} ${err.message} (${err.errorId}): factors ${err.factors.join(', ')}; give the code with --totp or --recovery-code`;
  }
  if (err instanceof ApiError) {
    const id = err.errorId !== null ? ` (${err.errorId})` : '';
    const details = Object.keys(err.details).length > 0 ? ` ${JSON.stringify(err.details)}` : '';
    return `${err.status > 0 ? `${err.status} ` : ''}${err.message}${id}${details}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Runs one command line; resolves with the exit code. */
export async function run(io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: io.argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr.write(`xivo-auth-cli: ${(err as Error).message}\n\n${HELP}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help === true || positionals.length === 0) {
    (values.help === true ? io.stdout : io.stderr).write(HELP);
    return values.help === true ? EXIT.ok : EXIT.usage;
  }
  const format = (values.format ?? 'table') as Format;
  if (!FORMATS.includes(format)) {
    io.stderr.write(`xivo-auth-cli: unknown format ${format} (table, json, yaml, csv)\n`);
    return EXIT.usage;
  }

  let command: Command | undefined;
  let args: string[] = [];
  for (let words = Math.min(3, positionals.length); words >= 1; words--) {
    command = COMMANDS[positionals.slice(0, words).join(' ')];
    if (command !== undefined) {
      args = positionals.slice(words);
      break;
    }
  }
  if (command === undefined) {
    io.stderr.write(`xivo-auth-cli: unknown command "${positionals.slice(0, 2).join(' ')}"\n\n${HELP}`);
    return EXIT.usage;
  }

  const stdin = new StdinLines(io.stdin);
  let client: XivoAuthClient | null = null;
  let sessionToken: string | null = null;
  try {
    const settings: CliSettings = loadSettings({
      configPath: values.config,
      env: io.env,
      home: io.home,
      flags: { url: values.url, username: values['auth-username'], backend: values.backend },
    });
    const timeout = values.timeout === undefined ? 10_000 : Number(values.timeout);
    if (!Number.isInteger(timeout) || timeout <= 0) throw new UsageError('--timeout must be a positive integer (ms)');
    const agentOptions =
      settings.verifyCertificate === false
        ? { rejectUnauthorized: false }
        : typeof settings.verifyCertificate === 'string'
          ? { ca: (await import('node:fs')).readFileSync(settings.verifyCertificate) }
          : {};
    const theClient = new XivoAuthClient({ url: settings.url, timeout, agentOptions, userAgent: 'xivo-auth-cli/0.1' });
    client = theClient;
    if (values.tenant !== undefined && !command.tenantIsQuery) theClient.setTenant(values.tenant);

    const readSecret = async (what: string, flag: 'auth-password-stdin' | 'password-stdin'): Promise<string> => {
      if (values[flag] === true) {
        const line = await stdin.next();
        if (line === null || line === '') throw new UsageError(`${what}: expected on stdin (--${flag}), got nothing`);
        return line;
      }
      if (io.stdin.isTTY === true) return promptHidden(`${what}: `, io.stdin, io.stderr);
      throw new UsageError(`${what}: give it on stdin with --${flag}, or run in a terminal to be prompted`);
    };
    const credentials = async () => {
      if (settings.username === null)
        throw new UsageError('no username: set auth.username in the configuration, XIVO_AUTH_USERNAME or --auth-username');
      const password = settings.password ?? (await readSecret(`password for ${settings.username}`, 'auth-password-stdin'));
      return { username: settings.username, password, ...(settings.backend !== null ? { backend: settings.backend } : {}) };
    };
    const ctx: Context = {
      client: theClient,
      args,
      values: values as Context['values'],
      format,
      out: (s) => io.stdout.write(s),
      err: (s) => io.stderr.write(s),
      credentials,
      readSecret: (what) => readSecret(what, 'password-stdin'),
      readLoginSecret: (what) => readSecret(what, 'auth-password-stdin'),
      readTokenArg: async (arg) => {
        if (arg === undefined) throw new UsageError('a token is required (or "-" to read it from stdin)');
        if (arg !== '-') return arg;
        const line = await stdin.next();
        if (line === null || line === '') throw new UsageError('expected a token on stdin');
        return line.trim();
      },
      login: async () => {
        if (settings.token !== null) {
          theClient.setToken(settings.token);
          return;
        }
        // A user with a second factor answers its challenge (README "Multi-factor authentication").
        const { answer, attempts } = secondFactorAnswer(values as Context['values'], (what) =>
          readSecret(what, 'auth-password-stdin'),
        );
        const token = await theClient.token.createWithSecondFactor(
          { ...(await credentials()), expiration: 600 },
          answer,
          attempts,
        );
        sessionToken = token.token;
        theClient.setToken(token.token);
      },
    };
    return await command.run(ctx);
  } catch (err) {
    io.stderr.write(`xivo-auth-cli: ${describe(err)}\n`);
    return exitFor(err);
  } finally {
    if (client !== null) {
      // The session this run opened for itself is closed with it.
      if (sessionToken !== null) await client.token.revoke(sessionToken).catch(() => undefined);
      client.close();
    }
  }
}
