// xivo-auth-cli tenant mfa (issue 24): the tenant's mfa.required_for shown,
// replaced and cleared, against a real xivo-auth.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/config/index.js';
import { REPO_ROOT } from '../../../test/helpers/cli.js';
import { ADMIN, basic, startTestService, type TestService } from '../../../test/helpers/service.js';

const BIN = join(REPO_ROOT, 'packages', 'cli', 'bin', 'xivo-auth-cli.js');
let t: TestService;
let url: string;
let tenant: string;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: '/nonexistent',
    XIVO_AUTH_URL: url,
    XIVO_AUTH_USERNAME: ADMIN.username,
    XIVO_AUTH_PASSWORD: ADMIN.password,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  // The bootstrap administrator (purpose internal, ACL `#`) is exempted, or it too must enrol first.
  t = await startTestService('sqlite', {
    mfa: {
      ...DEFAULT_CONFIG.mfa,
      required_for: { acl: ['confd.admin.#'], purposes: [] },
      exempt_purposes: ['external_api', 'internal'],
    },
  });
  url = await t.service.listen();
  const login = await fetch(`${url}/0.1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basic(ADMIN.username, ADMIN.password) },
    body: '{}',
  });
  const admin = ((await login.json()) as { data: { token: string } }).data.token;
  const created = await fetch(`${url}/0.1/tenants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-token': admin },
    body: JSON.stringify({ name: 'cli mfa tenant' }),
  });
  tenant = ((await created.json()) as { uuid: string }).uuid;
});

describe('tenant mfa', () => {
  it('shows the rule, replaces it with --acl and --purposes, and clears it with --clear', async () => {
    const shown = await cli(['-f', 'json', 'tenant', 'mfa', tenant]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      tenant_uuid: tenant,
      acl: [],
      purposes: [],
      effective_acl: ['confd.admin.#'],
      updated_at: null,
    });

    const set = await cli([
      '-f',
      'json',
      'tenant',
      'mfa',
      tenant,
      '--acl',
      'confd.#',
      '--acl',
      'auth.#',
      '--purposes',
      'user,internal',
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      acl: ['confd.#', 'auth.#'],
      purposes: ['user', 'internal'],
      effective_acl: ['confd.admin.#', 'confd.#', 'auth.#'],
      effective_purposes: ['user', 'internal'],
    });

    const bad = await cli(['tenant', 'mfa', tenant, '--purposes', 'robot']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('robot');

    const cleared = await cli(['-f', 'json', 'tenant', 'mfa', tenant, '--clear']);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(JSON.parse(cleared.stdout)).toMatchObject({ acl: [], purposes: [] });
  });
});
