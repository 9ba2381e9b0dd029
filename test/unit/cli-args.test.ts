import { describe, it, expect } from 'vitest';
import { parseArgs, UsageError, USAGE, type ParsedArgs } from '../../src/cli/args.js';

const BASE: ParsedArgs = {
  help: false,
  debug: false,
  foreground: false,
  dbUpgradeOnStartup: false,
  command: 'serve',
  daemonChild: false,
};

function usageError(argv: string[]): UsageError {
  try {
    parseArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error(`expected a UsageError for ${JSON.stringify(argv)}`);
}

describe('parseArgs', () => {
  it('defaults to serve with nothing set', () => {
    expect(parseArgs([])).toEqual(BASE);
  });

  it('reads every short option', () => {
    expect(parseArgs(['-c', '/etc/a.yml', '-u', 'www-data', '-d', '-f', '-l', 'warning'])).toEqual({
      ...BASE,
      configFile: '/etc/a.yml',
      user: 'www-data',
      debug: true,
      foreground: true,
      logLevel: 'warning',
    });
  });

  it('reads every long option', () => {
    expect(
      parseArgs([
        '--config-file=/etc/b.yml',
        '--user',
        'auth',
        '--debug',
        '--foreground',
        '--log-level',
        'critical',
        '--listen-port',
        '9000',
        '--db-upgrade-on-startup',
      ]),
    ).toEqual({
      ...BASE,
      configFile: '/etc/b.yml',
      user: 'auth',
      debug: true,
      foreground: true,
      logLevel: 'critical',
      listenPort: 9000,
      dbUpgradeOnStartup: true,
    });
  });

  it('accepts grouped short flags', () => {
    expect(parseArgs(['-df'])).toMatchObject({ debug: true, foreground: true });
  });

  it.each(['critical', 'error', 'warning', 'info', 'debug', 'DEBUG', 'Info'])('accepts log level %s', (level) => {
    expect(parseArgs(['-l', level]).logLevel).toBe(level.toLowerCase());
  });

  it('rejects an unknown log level with a clear message', () => {
    const err = usageError(['-l', 'verbose']);
    expect(err.message).toBe(
      'invalid log level "verbose" for -l/--log-level (expected one of: critical, error, warning, info, debug)',
    );
    usageError(['--log-level', 'warn']);
  });

  it.each([
    ['0', 0],
    ['1', 1],
    ['65535', 65535],
    ['09497', 9497],
  ])('accepts port %s', (raw, port) => {
    expect(parseArgs(['--listen-port', raw]).listenPort).toBe(port);
  });

  it.each(['65536', 'abc', '1.5', '', ' 80', '1e3', '999999'])('rejects port %j', (raw) => {
    expect(usageError([`--listen-port=${raw}`]).message).toMatch(/--listen-port|port/);
  });

  it('rejects a negative port', () => {
    usageError(['--listen-port', '-1']);
  });

  it('parses the subcommands', () => {
    expect(parseArgs(['serve']).command).toBe('serve');
    expect(parseArgs(['migrate']).command).toBe('migrate');
    expect(parseArgs(['config', 'show']).command).toBe('config-show');
    expect(parseArgs(['-c', '/x.yml', 'config', 'show'])).toMatchObject({ command: 'config-show', configFile: '/x.yml' });
    expect(parseArgs(['bootstrap'])).toEqual({ ...BASE, command: 'bootstrap' });
  });

  it('parses bootstrap options', () => {
    expect(parseArgs(['bootstrap', '--username', 'root', '--password', 's3cret'])).toEqual({
      ...BASE,
      command: 'bootstrap',
      bootstrapUsername: 'root',
      bootstrapPassword: 's3cret',
    });
    expect(parseArgs(['-d', 'bootstrap', '--username=op'])).toMatchObject({ debug: true, bootstrapUsername: 'op' });
  });

  it('rejects bootstrap options with another command', () => {
    expect(usageError(['--username', 'x']).message).toBe('--username is only valid with the "bootstrap" command');
    expect(usageError(['migrate', '--password', 'x']).message).toBe('--password is only valid with the "bootstrap" command');
  });

  it('rejects unknown or incomplete commands', () => {
    expect(usageError(['start']).message).toMatch(/unknown command "start"/);
    expect(usageError(['config']).message).toMatch(/config show/);
    expect(usageError(['config', 'dump']).message).toMatch(/unknown command "config dump"/);
    expect(usageError(['config', 'show', 'now']).message).toMatch(/unexpected argument "now"/);
    expect(usageError(['migrate', 'twice']).message).toMatch(/unexpected argument "twice"/);
  });

  it('rejects unknown options and missing values', () => {
    expect(usageError(['--frobnicate']).message).toMatch(/frobnicate/);
    expect(usageError(['-x']).message).toMatch(/-x/);
    expect(usageError(['-c']).message).toMatch(/-c|config-file/);
    expect(usageError(['-d=yes']).message).toBeTruthy();
  });

  it('rejects empty values', () => {
    expect(usageError(['-c', '']).message).toBe('--config-file needs a non-empty value');
    expect(usageError(['--user=']).message).toBe('--user needs a non-empty value');
  });

  it('-h / --help wins over everything else', () => {
    expect(parseArgs(['-h']).help).toBe(true);
    expect(parseArgs(['--help', '-l', 'nonsense', 'whatever']).help).toBe(true);
  });
});

describe('USAGE', () => {
  it('documents every option, the commands, config files and environment', () => {
    for (const word of [
      'usage: xivo-auth',
      '-h, --help',
      '-c, --config-file',
      '-u, --user',
      '-d, --debug',
      '-f, --foreground',
      '-l, --log-level',
      '--listen-port',
      '--db-upgrade-on-startup',
      'serve',
      'bootstrap',
      '--username',
      '--password',
      'migrate',
      'config show',
      '/etc/xivo-auth/config.yml',
      '/etc/xivo-auth/conf.d/',
      'XIVO_AUTH_',
      'XIVO_UUID',
      '__',
      '9497',
    ]) {
      expect(USAGE).toContain(word);
    }
    for (const line of USAGE.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
  });
});
