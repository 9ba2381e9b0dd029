// The published artifact: `npm pack` content, exports and types, the README's
// examples run as written against the packed tarball, and the server using
// this package rather than a copy.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test/helpers/cli.js';
import { codeBlocks, expectedPrints, packAndInstall, type Scratch } from '../../../test/helpers/pack.js';

const README = join(REPO_ROOT, 'packages', 'acl', 'README.md');

describe('@xivo-auth/acl as published', () => {
  let scratch: Scratch;
  beforeAll(async () => {
    scratch = await packAndInstall(['acl']);
  });
  afterAll(() => scratch?.cleanup());

  it('ships the compiled code, its types and the README, not the tests', () => {
    const files = scratch.packed[0].files;
    for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/pattern.js', 'dist/chunk.js']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('test/') || f.endsWith('.tsbuildinfo'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(scratch.dir, 'node_modules/@xivo-auth/acl/package.json'), 'utf8'));
    expect(manifest.dependencies ?? {}).toEqual({});
  });

  it('runs every README example as written, printing what its comments say', async () => {
    const blocks = codeBlocks(README, 'js');
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const [i, source] of blocks.entries()) {
      const { stdout } = await scratch.runNode(`readme-${i}.mjs`, source);
      expect(stdout.trimEnd().split('\n')).toEqual(expectedPrints(source));
    }
  });

  it('type-checks a TypeScript consumer against the shipped declarations', async () => {
    const report = await scratch.typeCheck(
      [
        "import { compileAcl, explain, hasAccess, type AclContext, type AclExplanation, type CompiledAcl } from '@xivo-auth/acl';",
        "const ctx: AclContext = { authId: '1' };",
        "const c: CompiledAcl = compileAcl(['a.#'], ctx);",
        "const e: AclExplanation = explain(['a.#'], 'a.b');",
        "const ok: boolean = hasAccess(['a'], 'a') && c.matches('a.b') && e.allowed;",
        'export { ok };',
        '// @ts-expect-error: an ACL is a list of strings',
        'compileAcl([1]);',
      ].join('\n'),
    );
    expect(report).toBe('');
  });
});

describe('the server uses this package', () => {
  it('has no copy of the matcher and imports @xivo-auth/acl', () => {
    expect(existsSync(join(REPO_ROOT, 'src', 'acl'))).toBe(false);
    for (const f of ['src/login/token-service.ts', 'src/tokens/cache.ts', 'src/identity/privileges.ts']) {
      expect(readFileSync(join(REPO_ROOT, f), 'utf8')).toContain("from '@xivo-auth/acl'");
    }
  });

  it('resolves @xivo-auth/acl to this workspace package', () => {
    const resolved = import.meta.resolve('@xivo-auth/acl');
    expect(resolved).toContain('/packages/acl/dist/index.js');
  });
});
