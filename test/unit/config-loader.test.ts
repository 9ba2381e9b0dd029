import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, type ConfigFlags, type LoadedConfig } from '../../src/config/loader.js';
import { ConfigError } from '../../src/config/errors.js';
import { DEFAULT_CONFIG } from '../../src/config/schema.js';
import { parseArgs } from '../../src/cli/args.js';

let dir: string;
let confd: string;
let mainFile: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xivo-auth-config-'));
  confd = path.join(dir, 'conf.d');
  fs.mkdirSync(confd);
  mainFile = path.join(dir, 'config.yml');
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes the main file; it always points extra_config_files at the temp conf.d. */
function writeMain(body = ''): void {
  fs.writeFileSync(mainFile, `extra_config_files: ${JSON.stringify(confd)}\n${body}`);
}

function writeExtra(name: string, body: string): string {
  const file = path.join(confd, name);
  fs.writeFileSync(file, body);
  return file;
}

function load(env: Record<string, string | undefined> = {}, argv: ConfigFlags = {}): LoadedConfig {
  return loadConfig({ argv: { configFile: mainFile, ...argv }, env });
}

function loadError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const enoent = (file: string) =>
  Object.assign(new Error(`ENOENT: no such file or directory, open '${file}'`), { code: 'ENOENT' });

describe('loadConfig: defaults and the main file', () => {
  it('returns the built-in defaults when the default main file and conf.d do not exist', () => {
    const read: string[] = [];
    const { config, warnings, sources } = loadConfig({
      argv: parseArgs([]),
      env: {},
      readFile: (file) => {
        read.push(file);
        throw enoent(file);
      },
      listDir: (d) => {
        throw enoent(d);
      },
    });
    expect(read).toEqual(['/etc/xivo-auth/config.yml']);
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(warnings).toEqual([]);
    expect(sources.mainFile).toBeNull();
    expect(sources.extraConfigDir).toBe('/etc/xivo-auth/conf.d/');
    expect(sources.extraFiles).toEqual([]);
    expect(sources.keys).toEqual({});
  });

  it('reads the default main file when it exists', () => {
    const { config, sources } = loadConfig({
      argv: {},
      env: {},
      readFile: (file) => {
        if (file === '/etc/xivo-auth/config.yml') return 'default_token_lifetime: 60\n';
        throw enoent(file);
      },
      listDir: () => [],
    });
    expect(config.default_token_lifetime).toBe(60);
    expect(sources.mainFile).toBe('/etc/xivo-auth/config.yml');
  });

  it('does not mutate the defaults', () => {
    writeMain('rest_api:\n  port: 1234\n  cors:\n    allow_origins: [a]\n');
    const { config } = load();
    config.rest_api.cors.allow_origins.push('b');
    expect(DEFAULT_CONFIG.rest_api.port).toBe(9497);
    expect(DEFAULT_CONFIG.rest_api.cors.allow_origins).toEqual(['*']);
  });

  it('main file overrides defaults and merges mappings deeply', () => {
    writeMain('rest_api:\n  port: 9000\n  cors:\n    enabled: true\namqp:\n  enabled: true\n');
    const { config, sources } = load();
    expect(config.rest_api.port).toBe(9000);
    expect(config.rest_api.listen).toBe('127.0.0.1');
    expect(config.rest_api.cors.enabled).toBe(true);
    expect(config.rest_api.cors.allow_origins).toEqual(['*']);
    expect(config.amqp).toEqual({ ...DEFAULT_CONFIG.amqp, enabled: true });
    expect(sources.mainFile).toBe(mainFile);
    expect(sources.keys['rest_api.port']).toBe(`file ${mainFile}`);
    expect(sources.keys['rest_api.listen']).toBeUndefined();
  });

  it('lists replace, record mappings merge', () => {
    writeMain('rest_api:\n  cors:\n    allow_headers: [X-One]\nenabled_backend_plugins:\n  ldap_user: true\n');
    const { config } = load();
    expect(config.rest_api.cors.allow_headers).toEqual(['X-One']);
    expect(config.enabled_backend_plugins).toEqual({ xivo_user: true, ldap_user: true });
  });

  it('an empty section leaves the mapping as it is', () => {
    writeMain('amqp:\n# enabled: true\nrest_api:\n');
    const { config } = load();
    expect(config.amqp).toEqual(DEFAULT_CONFIG.amqp);
    expect(config.rest_api).toEqual(DEFAULT_CONFIG.rest_api);
  });

  it('an empty main file is fine', () => {
    fs.writeFileSync(mainFile, '# nothing\n');
    const { config } = loadConfig({ argv: { configFile: mainFile }, env: {}, listDir: () => [] });
    expect(config.debug).toBe(false);
  });

  it('reads default_policies', () => {
    writeMain('default_policies:\n  operator:\n    acl: [auth.users.read, "confd.#"]\n    description: Operators\n');
    const { config } = load();
    expect(config.default_policies).toEqual({
      operator: { acl: ['auth.users.read', 'confd.#'], description: 'Operators' },
    });
  });
});

describe('loadConfig: extra_config_files (conf.d)', () => {
  it('conf.d files beat the main file; the first file (alphabetically) defining a key wins', () => {
    writeMain('default_token_lifetime: 10\ntoken_cleanup_batch_size: 11\nmax_user_concurrent_sessions: 12\n');
    const b = writeExtra('20-b.yml', 'default_token_lifetime: 30\ntoken_cleanup_batch_size: 31\n');
    const a = writeExtra('10-a.yaml', 'default_token_lifetime: 20\n');
    writeExtra('30-c.yml', 'default_token_lifetime: 40\ntoken_cleanup_batch_size: 41\n');
    writeExtra('ignored.txt', 'default_token_lifetime: 50\n');
    writeExtra('.hidden.yml', 'default_token_lifetime: 60\n');
    const { config, sources } = load();
    expect(config.default_token_lifetime).toBe(20);
    expect(config.token_cleanup_batch_size).toBe(31);
    expect(config.max_user_concurrent_sessions).toBe(12);
    expect(sources.extraConfigDir).toBe(confd);
    expect(sources.extraFiles).toEqual([a, b, path.join(confd, '30-c.yml')]);
    expect(sources.keys.default_token_lifetime).toBe(`file ${a}`);
    expect(sources.keys.token_cleanup_batch_size).toBe(`file ${b}`);
    expect(sources.keys.max_user_concurrent_sessions).toBe(`file ${mainFile}`);
  });

  it('merges mappings deeply across conf.d files, first file winning per key', () => {
    writeMain('rest_api:\n  listen: 10.0.0.1\n');
    writeExtra('a.yml', 'rest_api:\n  port: 1001\n');
    writeExtra('b.yml', 'rest_api:\n  port: 1002\n  num_proxies: 3\n  cors: {enabled: true}\n');
    const { config } = load();
    expect(config.rest_api.listen).toBe('10.0.0.1');
    expect(config.rest_api.port).toBe(1001);
    expect(config.rest_api.num_proxies).toBe(3);
    expect(config.rest_api.cors.enabled).toBe(true);
    expect(config.rest_api.cors.allow_origins).toEqual(['*']);
  });

  it('the first conf.d file replaces a list entirely', () => {
    writeExtra('a.yml', 'rest_api: {cors: {allow_origins: [https://a]}}\n');
    writeExtra('b.yml', 'rest_api: {cors: {allow_origins: [https://b, https://c]}}\n');
    writeMain();
    expect(load().config.rest_api.cors.allow_origins).toEqual(['https://a']);
  });

  it('a missing extra_config_files directory is fine', () => {
    fs.rmSync(confd, { recursive: true });
    writeMain('debug: true\n');
    const { config, warnings, sources } = load();
    expect(config.debug).toBe(true);
    expect(warnings).toEqual([]);
    expect(sources.extraFiles).toEqual([]);
  });

  it('the directory may be moved by the environment', () => {
    const other = path.join(dir, 'other.d');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'x.yml'), 'default_token_lifetime: 77\n');
    writeExtra('a.yml', 'default_token_lifetime: 66\n');
    writeMain();
    const { config, sources } = load({ XIVO_AUTH_EXTRA_CONFIG_FILES: other });
    expect(config.default_token_lifetime).toBe(77);
    expect(config.extra_config_files).toBe(other);
    expect(sources.extraConfigDir).toBe(other);
  });

  it('extra_config_files inside a conf.d file is ignored with a warning', () => {
    writeExtra('a.yml', 'extra_config_files: /elsewhere\n');
    writeMain();
    const { config, warnings } = load();
    expect(config.extra_config_files).toBe(confd);
    expect(warnings.join('\n')).toMatch(/extra_config_files is ignored in .*a\.yml/);
  });

  it('an unreadable extra_config_files path is an error naming it', () => {
    fs.rmSync(confd, { recursive: true });
    fs.writeFileSync(confd, 'not a directory');
    writeMain();
    const err = loadError(() => load());
    expect(err.message).toContain(confd);
    expect(err.message).toMatch(/not a directory/);
  });
});

describe('loadConfig: environment', () => {
  it('environment beats conf.d and the main file', () => {
    writeMain('rest_api:\n  port: 9000\n  listen: 0.0.0.0\n');
    writeExtra('a.yml', 'rest_api:\n  port: 9001\n');
    const { config, sources } = load({ XIVO_AUTH_REST_API__PORT: '9002' });
    expect(config.rest_api.port).toBe(9002);
    expect(config.rest_api.listen).toBe('0.0.0.0');
    expect(sources.keys['rest_api.port']).toBe('environment variable XIVO_AUTH_REST_API__PORT');
  });

  it('parses values as YAML scalars', () => {
    writeMain();
    const { config } = load({
      XIVO_AUTH_DEBUG: 'true',
      XIVO_AUTH_TOKEN_CLEANUP_INTERVAL: '0.5',
      XIVO_AUTH_REST_API__CORS__ENABLED: 'true',
      XIVO_AUTH_REST_API__CORS__ALLOW_ORIGINS: '[https://a, https://b]',
      XIVO_AUTH_ENABLED_BACKEND_PLUGINS__LDAP_USER: 'true',
      XIVO_AUTH_DB_URI: 'postgresql://u:p@db/auth',
      XIVO_AUTH_LOG_LEVEL: 'warning',
    });
    expect(config.debug).toBe(true);
    expect(config.token_cleanup_interval).toBe(0.5);
    expect(config.rest_api.cors.enabled).toBe(true);
    expect(config.rest_api.cors.allow_origins).toEqual(['https://a', 'https://b']);
    expect(config.enabled_backend_plugins).toEqual({ xivo_user: true, ldap_user: true });
    expect(config.db_uri).toBe('postgresql://u:p@db/auth');
    expect(config.log_level).toBe('warning');
  });

  it('keeps the raw text for string keys, null where null is allowed', () => {
    writeMain('db_uri: sqlite:/x.db\n');
    const { config } = load({
      XIVO_AUTH_BOOTSTRAP_USER_PASSWORD: '12345',
      XIVO_AUTH_BOOTSTRAP_USER_USERNAME: 'true',
      XIVO_AUTH_USER: "'quoted'",
      XIVO_AUTH_DB_URI: 'null',
    });
    expect(config.bootstrap_user_password).toBe('12345');
    expect(config.bootstrap_user_username).toBe('true');
    expect(config.user).toBe("'quoted'");
    expect(config.db_uri).toBeNull();
  });

  it('XIVO_UUID sets uuid; XIVO_AUTH_UUID wins over it', () => {
    writeMain('uuid: from-file\n');
    expect(load({ XIVO_UUID: 'from-env' }).config.uuid).toBe('from-env');
    expect(load({ XIVO_UUID: 'a', XIVO_AUTH_UUID: 'b' }).config.uuid).toBe('b');
  });

  it('ignores empty values and unrelated variables', () => {
    writeMain('rest_api: {port: 9000}\n');
    const { config, warnings } = load({ XIVO_AUTH_REST_API__PORT: '', XIVO_UUID: '', PATH: '/bin', XIVO_OTHER: 'x' });
    expect(config.rest_api.port).toBe(9000);
    expect(config.uuid).toBeNull();
    expect(warnings).toEqual([]);
  });

  it('a more specific variable beats a whole-mapping one', () => {
    writeMain();
    const { config } = load({ XIVO_AUTH_REST_API__PORT: '2', XIVO_AUTH_REST_API: '{port: 1, listen: 0.0.0.0}' });
    expect(config.rest_api.port).toBe(2);
    expect(config.rest_api.listen).toBe('0.0.0.0');
    expect(config.rest_api.num_proxies).toBe(1);
  });

  it('a wrong type from the environment names the variable', () => {
    writeMain();
    const err = loadError(() => load({ XIVO_AUTH_REST_API__PORT: 'abc' }));
    expect(err.message).toBe(
      'rest_api.port: expected an integer from 0 to 65535, got "abc" (from environment variable XIVO_AUTH_REST_API__PORT)',
    );
  });

  it('an unknown variable warns with its name', () => {
    writeMain();
    const { warnings } = load({ XIVO_AUTH_REST_API__PROT: '1', XIVO_AUTH_A____B: 'x' });
    expect(warnings).toContain(
      'unknown configuration key "rest_api.prot" in environment variable XIVO_AUTH_REST_API__PROT (ignored)',
    );
    expect(warnings.some((w) => w.includes('XIVO_AUTH_A____B') && w.includes('empty key segment'))).toBe(true);
  });
});

describe('loadConfig: command-line flags', () => {
  it('flags beat the environment, conf.d and the main file', () => {
    writeMain('rest_api: {port: 1}\nforeground: false\nuser: file-user\nlog_level: error\ndb_upgrade_on_startup: false\n');
    writeExtra('a.yml', 'rest_api: {port: 2}\n');
    const argv = parseArgs([
      '-c',
      mainFile,
      '--listen-port',
      '4',
      '-f',
      '-u',
      'flag-user',
      '-l',
      'critical',
      '--db-upgrade-on-startup',
    ]);
    const { config, sources } = loadConfig({
      argv,
      env: { XIVO_AUTH_REST_API__PORT: '3', XIVO_AUTH_USER: 'env-user', XIVO_AUTH_LOG_LEVEL: 'info' },
    });
    expect(config.rest_api.port).toBe(4);
    expect(config.foreground).toBe(true);
    expect(config.user).toBe('flag-user');
    expect(config.log_level).toBe('critical');
    expect(config.db_upgrade_on_startup).toBe(true);
    expect(sources.keys['rest_api.port']).toBe('command line (--listen-port)');
  });

  it('-d sets debug and the debug log level; an explicit -l still wins', () => {
    writeMain('log_level: error\n');
    expect(load({}, { debug: true }).config).toMatchObject({ debug: true, log_level: 'debug' });
    expect(load({}, { debug: true, logLevel: 'warning' }).config).toMatchObject({ debug: true, log_level: 'warning' });
  });

  it('without flags, file and environment values stay', () => {
    writeMain('foreground: true\ndb_upgrade_on_startup: false\n');
    const { config } = load({}, parseArgs(['-c', mainFile]));
    expect(config.foreground).toBe(true);
    expect(config.db_upgrade_on_startup).toBe(false);
    expect(config.debug).toBe(false);
  });

  it('--listen-port 0 is allowed (pick a free port)', () => {
    writeMain();
    expect(load({}, { listenPort: 0 }).config.rest_api.port).toBe(0);
  });
});

describe('loadConfig: errors', () => {
  it('an explicit -c file that does not exist is an error naming it', () => {
    const missing = path.join(dir, 'nope.yml');
    const err = loadError(() => loadConfig({ argv: { configFile: missing }, env: {} }));
    expect(err.message).toBe(`configuration file ${missing} does not exist`);
  });

  it('an unreadable explicit -c file is an error naming it', () => {
    const err = loadError(() => loadConfig({ argv: { configFile: dir }, env: {} }));
    expect(err.message).toContain(`cannot read configuration file ${dir}`);
    expect(err.message).toContain('EISDIR');
    const denied = loadError(() =>
      loadConfig({
        argv: { configFile: '/secret.yml' },
        env: {},
        readFile: () => {
          throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
        },
        listDir: () => [],
      }),
    );
    expect(denied.message).toBe('cannot read configuration file /secret.yml: permission denied (EACCES)');
  });

  it('an existing but unreadable default main file is an error', () => {
    const err = loadError(() =>
      loadConfig({
        argv: {},
        env: {},
        readFile: () => {
          throw Object.assign(new Error('denied'), { code: 'EACCES' });
        },
        listDir: () => [],
      }),
    );
    expect(err.message).toContain('/etc/xivo-auth/config.yml');
  });

  it('bad YAML names the file and the line', () => {
    writeMain('rest_api:\n  port: 9000\n  listen: [a, b\ndebug: true\n');
    const err = loadError(() => load());
    expect(err.message).toMatch(new RegExp(`^invalid YAML in ${escape(mainFile)} at line 5, column \\d+: `));
  });

  it('bad YAML in a conf.d file names that file; duplicate keys are errors', () => {
    writeMain();
    const file = writeExtra('a.yml', 'debug: true\ndebug: false\n');
    const err = loadError(() => load());
    expect(err.message).toMatch(new RegExp(`invalid YAML in ${escape(file)} at line 2, column 1: Map keys must be unique`));
  });

  it('a file whose top level is not a mapping is an error', () => {
    fs.writeFileSync(mainFile, '- a\n- b\n');
    const err = loadError(() => loadConfig({ argv: { configFile: mainFile }, env: {}, listDir: () => [] }));
    expect(err.message).toBe(`invalid configuration file ${mainFile}: expected a mapping at the top level, got a list`);
  });

  it('a wrong type names the dotted key, the file and what was expected (no coercion)', () => {
    writeMain('rest_api:\n  port: "9000"\n');
    const err = loadError(() => load());
    expect(err.message).toBe(`rest_api.port: expected an integer from 0 to 65535, got "9000" (from file ${mainFile})`);
  });

  it('the error names the conf.d file that won', () => {
    writeMain('amqp: {enabled: true}\n');
    const file = writeExtra('a.yml', 'amqp: {enabled: "on"}\n');
    writeExtra('b.yml', 'amqp: {enabled: false}\n');
    const err = loadError(() => load());
    expect(err.message).toBe(`amqp.enabled: expected true or false, got "on" (from file ${file})`);
  });

  it('reports every problem, one per line', () => {
    writeMain(
      [
        'log_level: verbose',
        'default_token_lifetime: 0',
        'rest_api:',
        '  port: 70000',
        '  cors: {allow_origins: [""]}',
        'default_policies:',
        '  p: {description: no acl}',
        'db_uri: mysql://x',
        'password_hashing: fast',
        '',
      ].join('\n'),
    );
    const err = loadError(() => load({ XIVO_AUTH_TOKEN_CACHE__MAX_ENTRIES: '-1' }));
    const from = `(from file ${mainFile})`;
    expect(err.problems).toEqual([
      `log_level: expected one of critical, error, warning, info, debug, got "verbose" ${from}`,
      `default_token_lifetime: expected an integer >= 1, got 0 ${from}`,
      `rest_api.port: expected an integer from 0 to 65535, got 70000 ${from}`,
      `rest_api.cors.allow_origins[0]: expected a non-empty string, got "" ${from}`,
      `db_uri: expected a "sqlite:<path>" or "postgresql://..." URI, or null, got "mysql://x" ${from}`,
      `default_policies.p.acl: missing; expected a list of non-empty strings ${from}`,
      `password_hashing: expected a mapping, got "fast" ${from}`,
      'token_cache.max_entries: expected an integer >= 0, got -1 (from environment variable XIVO_AUTH_TOKEN_CACHE__MAX_ENTRIES)',
    ]);
    expect(err.message.split('\n')).toHaveLength(8);
  });

  it('reports YAML errors from several files together', () => {
    writeMain();
    const a = writeExtra('a.yml', 'a: b: c\n');
    const b = writeExtra('b.yml', 'x: [\n');
    const err = loadError(() => load({ XIVO_AUTH_DEBUG: 'maybe' }));
    expect(err.problems).toHaveLength(3);
    expect(err.problems[0]).toMatch(new RegExp(`^invalid YAML in ${escape(a)} at line 1`));
    expect(err.problems[1]).toMatch(new RegExp(`^invalid YAML in ${escape(b)} at line \\d+`));
    expect(err.problems[2]).toBe('debug: expected true or false, got "maybe" (from environment variable XIVO_AUTH_DEBUG)');
  });

  it('does not look for conf.d files when the main file is broken', () => {
    fs.writeFileSync(mainFile, `extra_config_files: ${JSON.stringify(confd)}\nrest_api: [\n`);
    writeExtra('a.yml', 'a: b: c\n');
    const listed: string[] = [];
    const err = loadError(() => loadConfig({ argv: { configFile: mainFile }, env: {}, listDir: (d) => (listed.push(d), []) }));
    expect(listed).toEqual([]);
    expect(err.problems).toHaveLength(1);
    expect(err.message).toContain(`invalid YAML in ${mainFile}`);
  });

  it('does not print secret values in errors', () => {
    writeMain('bootstrap_user_password: 123456\ndb_uri: "postgresql://u:hunter2@h"\nlog_level: 3\n');
    const err = loadError(() => load({ XIVO_AUTH_DB_URI: 'mysql://u:hunter2@h/db' }));
    expect(err.message).not.toContain('123456');
    expect(err.message).not.toContain('hunter2');
    expect(err.message).toContain('bootstrap_user_password: expected a non-empty string or null, got an integer (value hidden)');
    expect(err.message).toContain('"mysql://u:********@h/db"');
  });

  it('TLS needs both the certificate and the private key', () => {
    writeMain('rest_api: {certificate: /etc/ssl/cert.pem}\n');
    const err = loadError(() => load());
    expect(err.message).toBe(
      `rest_api.private_key: expected a path because rest_api.certificate is set (from file ${mainFile}); set both or neither`,
    );
    writeMain('rest_api: {certificate: /c.pem, private_key: /k.pem}\n');
    expect(load().config.rest_api.private_key).toBe('/k.pem');
  });

  it('log_level in a file is validated', () => {
    writeMain('log_level: DEBUG\n');
    expect(loadError(() => load()).message).toContain('log_level: expected one of critical, error, warning, info, debug');
  });
});

describe('loadConfig: unknown keys', () => {
  it('warn with the key and the file, and do not fail', () => {
    writeMain(
      'rest_api:\n  prot: 1\nfoo: bar\ndefault_policies:\n  p: {acl: [a], colour: red}\nenabled_backend_plugins: {anything: true}\n',
    );
    const extra = writeExtra('a.yml', 'amqp: {urii: x}\n');
    const { config, warnings } = load();
    expect(warnings).toEqual([
      `unknown configuration key "rest_api.prot" in file ${mainFile} (ignored)`,
      `unknown configuration key "foo" in file ${mainFile} (ignored)`,
      `unknown configuration key "default_policies.p.colour" in file ${mainFile} (ignored)`,
      `unknown configuration key "amqp.urii" in file ${extra} (ignored)`,
    ]);
    expect(config.rest_api.port).toBe(9497);
    expect(config.enabled_backend_plugins).toEqual({ xivo_user: true, anything: true });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
