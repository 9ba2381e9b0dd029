// `xivo-auth import wazo-auth SOURCE_URI [--dry-run]` on the command line.
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError, USAGE } from '../../src/cli/args.js';

function usageError(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`expected a UsageError for ${JSON.stringify(argv)}`);
}

describe('import wazo-auth', () => {
  const uri = 'postgresql://asterisk:secret@localhost/asterisk';

  it('reads the source URI and --dry-run, with the usual options', () => {
    expect(parseArgs(['-c', '/etc/xivo-auth/config.yml', 'import', 'wazo-auth', uri])).toMatchObject({
      command: 'import-wazo-auth',
      importSource: uri,
      configFile: '/etc/xivo-auth/config.yml',
    });
    expect(parseArgs(['import', 'wazo-auth', uri]).dryRun).toBeUndefined();
    expect(parseArgs(['import', 'wazo-auth', uri, '--dry-run']).dryRun).toBe(true);
    expect(parseArgs(['import', '--dry-run', 'wazo-auth', 'postgres://h/db']).importSource).toBe('postgres://h/db');
  });

  it('refuses a missing or unknown source, a URI that is not PostgreSQL, extra arguments, --dry-run elsewhere; never echoing the URI', () => {
    expect(usageError(['import'])).toContain('needs a source');
    expect(usageError(['import', 'keycloak', uri])).toContain('unknown import source "keycloak"');
    expect(usageError(['import', 'wazo-auth'])).toContain('needs the wazo-auth database URI');
    const notPg = usageError(['import', 'wazo-auth', 'mysql://root:pw-in-uri@h/db']);
    expect(notPg).toContain('must start with postgresql://');
    expect(notPg).not.toContain('pw-in-uri');
    expect(usageError(['import', 'wazo-auth', uri, 'more'])).toContain('unexpected argument "more"');
    expect(usageError(['migrate', '--dry-run'])).toContain('--dry-run is only valid with the "import wazo-auth" command');
  });

  it('is in the help', () => {
    expect(USAGE).toContain('import wazo-auth SOURCE_URI [--dry-run]');
  });
});
