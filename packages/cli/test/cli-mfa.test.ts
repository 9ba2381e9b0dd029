// xivo-auth-cli token create for a user with a TOTP factor (issue 24): the
// challenge flow with --totp, against a real xivo-auth.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FakeClock } from '../../../src/clock.js';
import { REPO_ROOT } from '../../../test/helpers/cli.js';
import { externalAuthWith, tempKeyFile } from '../../../test/helpers/external.js';
import { ADMIN, basic, startTestService, type TestService } from '../../../test/helpers/service.js';

const BIN = join(REPO_ROOT, 'packages', 'cli', 'bin', 'xivo-auth-cli.js');
let t: TestService;
let url: string;
let secret: string;

function cli(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? '', HOME: '/nonexistent', XIVO_AUTH_URL: url, XIVO_AUTH_USERNAME: 'cli-mfa', XIVO_AUTH_PASSWORD: 'cli-mfa-password' };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const code = () => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: t.clock.now() });

async function call(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(`${url}/0.1${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (res.status === 204 ? {} : await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

beforeAll(async () => {
  t = await startTestService('sqlite', { external_auth: externalAuthWith(tempKeyFile().file) });
  url = await t.service.listen();
  const admin = (await call('POST', '/token', { authorization: basic(ADMIN.username, ADMIN.password) }, {})).body.data.token;
  const user = (await call('POST', '/users', { 'x-auth-token': admin }, { username: 'cli-mfa', password: 'cli-mfa-password' })).body;
  const policy = (await call('POST', '/policies', { 'x-auth-token': admin }, { name: 'cli mfa', acl: ['auth.users.me.mfa.#'] })).body;
  await call('PUT', `/users/${user.uuid}/policies/${policy.uuid}`, { 'x-auth-token': admin });
  const token = (await call('POST', '/token', { authorization: basic('cli-mfa', 'cli-mfa-password') }, {})).body.data.token;
  const enrol = (await call('POST', '/users/me/mfa/totp', { 'x-auth-token': token }, {})).body;
  secret = enrol.secret;
  expect((await call('PUT', `/users/me/mfa/totp/${enrol.uuid}/confirm`, { 'x-auth-token': token }, { code: code() })).status).toBe(204);
  (t.clock as FakeClock).advance(30_000);
});

describe('token create with a second factor', () => {
  it('logs in with --totp; a wrong code fails', async () => {
    const wrong = await cli(['-f', 'json', 'token', 'create', '--totp', code() === '000000' ? '111111' : '000000']);
    expect(wrong.code).not.toBe(0);
    const ok = await cli(['-f', 'json', 'token', 'create', '--totp', code()]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).token).toMatch(/./);
  });

  it('asks for the code (a line on stdin with --password-stdin, else a prompt) when none is given', async () => {
    (t.clock as FakeClock).advance(30_000);
    const ok = await cli(['-f', 'json', 'token', 'create', '--password-stdin'], `${code()}\n`);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).token).toMatch(/./);
  });
});
