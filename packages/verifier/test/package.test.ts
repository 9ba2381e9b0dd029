// The published @xivo-auth/verifier: tarball content and the README's
// examples run as written against a real xivo-auth and RabbitMQ.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test/helpers/cli.js';
import { codeBlocks, expectedPrints, packAndInstall, type Scratch } from '../../../test/helpers/pack.js';
import { ADMIN, startTestService } from '../../../test/helpers/service.js';
import { AMQP_URL, publisher, uniqueExchange } from './helpers.js';

const README = join(REPO_ROOT, 'packages', 'verifier', 'README.md');
const exchange = uniqueExchange();

describe('@xivo-auth/verifier as published', () => {
  let scratch: Scratch;
  let url: string;
  beforeAll(async () => {
    const t = await startTestService('sqlite', {
      amqp: { enabled: true, uri: AMQP_URL, exchange_name: exchange, poll_interval_ms: 50 },
    });
    url = await t.service.listen();
    scratch = await packAndInstall(['acl', 'client', 'verifier']);
  });
  afterAll(async () => {
    scratch?.cleanup();
    const p = await publisher(exchange);
    await p.close(); // deletes the test exchange
  });

  it('ships dist, the typing entry and the README; declares its dependencies', () => {
    const files = scratch.packed[2].files;
    for (const f of [
      'package.json',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/fastify.js',
      'dist/express.js',
      'types/fastify-request.d.ts',
    ]) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('test/') || f.endsWith('.tsbuildinfo'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(scratch.dir, 'node_modules/@xivo-auth/verifier/package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['@xivo-auth/acl', '@xivo-auth/client']);
    expect(manifest.peerDependenciesMeta.amqplib.optional).toBe(true);
  });

  it('runs every README example as written, printing what its comments say', async () => {
    const blocks = codeBlocks(README, 'js');
    expect(blocks.length).toBe(2);
    const env = {
      XIVO_AUTH_URL: url,
      XIVO_AUTH_USERNAME: ADMIN.username,
      XIVO_AUTH_PASSWORD: ADMIN.password,
      AMQP_URL,
      XIVO_AUTH_EXCHANGE: exchange,
    };
    for (const [i, source] of blocks.entries()) {
      const { stdout } = await scratch.runNode(`readme-${i}.mjs`, source, env);
      expect(stdout.trimEnd().split('\n')).toEqual(expectedPrints(source));
    }
  });

  it('type-checks Fastify and Express consumers against the shipped declarations', async () => {
    const report = await scratch.typeCheck(
      [
        "import Fastify from 'fastify';",
        "import '@xivo-auth/verifier/fastify-request';",
        "import { createVerifier, type VerifierAuth } from '@xivo-auth/verifier';",
        "import { xivoAuth, authOf } from '@xivo-auth/verifier/fastify';",
        "import { expressAuth } from '@xivo-auth/verifier/express';",
        "const verifier = createVerifier({ url: 'http://127.0.0.1:9497', mode: 'cached', ttl: 1000, bus: { url: 'amqp://localhost' } });",
        'export async function f() {',
        '  const app = Fastify();',
        '  await app.register(xivoAuth, { verifier });',
        "  app.get('/x/:id', { preHandler: app.requireAccess('a.{id}.read') }, async (req) => {",
        '    const a: VerifierAuth | null = req.auth;',
        "    return { id: a?.identity.authId, ok: authOf(req).can('a.b') };",
        '  });',
        "  const mw = expressAuth(verifier).requireAccess('a.b');",
        '  return mw;',
        '}',
        '// @ts-expect-error: the mode is remote or cached',
        "createVerifier({ url: 'x', mode: 'sometimes' });",
      ].join('\n'),
    );
    expect(report).toBe('');
  });
});
