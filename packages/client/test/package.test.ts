// The published @xivo-auth/client: tarball content, types, and the README's
// examples run as written against a real xivo-auth.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test/helpers/cli.js';
import { codeBlocks, expectedPrints, packAndInstall, type Scratch } from '../../../test/helpers/pack.js';
import { ADMIN, startTestService } from '../../../test/helpers/service.js';

const README = join(REPO_ROOT, 'packages', 'client', 'README.md');

describe('@xivo-auth/client as published', () => {
  let scratch: Scratch;
  let url: string;
  beforeAll(async () => {
    const t = await startTestService('sqlite');
    url = await t.service.listen();
    scratch = await packAndInstall(['client']);
  });
  afterAll(() => scratch?.cleanup());

  it('ships the compiled code, its types and the README; no dependencies', () => {
    const files = scratch.packed[0].files;
    for (const f of [
      'package.json',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/client.js',
      'dist/transport.js',
      'dist/renewer.js',
      'dist/errors.js',
    ]) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('test/') || f.endsWith('.tsbuildinfo'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(scratch.dir, 'node_modules/@xivo-auth/client/package.json'), 'utf8'));
    expect(manifest.dependencies ?? {}).toEqual({});
  });

  it('runs every README example as written, printing what its comments say', async () => {
    const blocks = codeBlocks(README, 'js');
    expect(blocks.length).toBe(3);
    const env = { XIVO_AUTH_URL: url, XIVO_AUTH_USERNAME: ADMIN.username, XIVO_AUTH_PASSWORD: ADMIN.password };
    for (const [i, source] of blocks.entries()) {
      const { stdout } = await scratch.runNode(`readme-${i}.mjs`, source, env);
      expect(stdout.trimEnd().split('\n')).toEqual(expectedPrints(source));
    }
  });

  it('type-checks a TypeScript consumer against the shipped declarations', async () => {
    const report = await scratch.typeCheck(
      [
        "import { XivoAuthClient, InvalidTokenError, TokenRenewer, type Token, type User } from '@xivo-auth/client';",
        "const c = new XivoAuthClient({ url: 'http://127.0.0.1:9497', timeout: 500 });",
        'export async function f(): Promise<[Token, User[], boolean]> {',
        "  const t = await c.token.create({ username: 'a', password: 'b', accessType: 'offline', clientId: 'x' });",
        '  const users: User[] = [];',
        '  for await (const u of c.users.iterate({ pageSize: 10 })) users.push(u);',
        '  const e: unknown = null; const isInvalid = e instanceof InvalidTokenError;',
        "  new TokenRenewer({ client: c, login: { username: 'a', password: 'b' } });",
        '  return [t, users, isInvalid];',
        '}',
        '// @ts-expect-error: accessType is online or offline',
        "c.token.create({ accessType: 'forever' });",
      ].join('\n'),
    );
    expect(report).toBe('');
  });
});
