// The published xivo-auth-cli: tarball content, a working `bin`, and the
// README's shell examples run as written against a real xivo-auth.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test/helpers/cli.js';
import { codeBlocks, expectedPrints, packAndInstall, type Scratch } from '../../../test/helpers/pack.js';
import { ADMIN, startTestService } from '../../../test/helpers/service.js';

const README = join(REPO_ROOT, 'packages', 'cli', 'README.md');

describe('xivo-auth-cli as published', () => {
  let scratch: Scratch;
  let url: string;
  beforeAll(async () => {
    const t = await startTestService('sqlite');
    url = await t.service.listen();
    scratch = await packAndInstall(['acl', 'client', 'cli']);
  });
  afterAll(() => scratch?.cleanup());

  it('ships the bin, dist and README; declares its dependencies', () => {
    const files = scratch.packed[2].files;
    for (const f of ['package.json', 'README.md', 'bin/xivo-auth-cli.js', 'dist/main.js', 'dist/commands.js', 'dist/config.js']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('test/') || f.endsWith('.tsbuildinfo'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(scratch.dir, 'node_modules/xivo-auth-cli/package.json'), 'utf8'));
    expect(manifest.bin).toEqual({ 'xivo-auth-cli': 'bin/xivo-auth-cli.js' });
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['@xivo-auth/acl', '@xivo-auth/client', 'yaml']);
  });

  it('runs from its bin', async () => {
    const { stdout } = await scratch.runShell('xivo-auth-cli --help');
    expect(stdout).toContain('usage: xivo-auth-cli');
  });

  it('runs every README shell example as written, printing what its comments say', async () => {
    const blocks = codeBlocks(README, 'sh').filter((b) => b.includes('xivo-auth-cli ') && !b.startsWith('npm install'));
    expect(blocks.length).toBe(2);
    const env = { XIVO_AUTH_URL: url, XIVO_AUTH_USERNAME: ADMIN.username, XIVO_AUTH_PASSWORD: ADMIN.password, HOME: scratch.dir };
    for (const source of blocks) {
      const { stdout } = await scratch.runShell(source, env);
      expect(stdout.trimEnd().split('\n')).toEqual(expectedPrints(source, '#'));
    }
  });
});
