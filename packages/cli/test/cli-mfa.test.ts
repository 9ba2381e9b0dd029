// xivo-auth-cli and a user with a second factor (issue 24), against a real
// xivo-auth: token create and the run's own login of every other command
// answer the challenge (--totp, --recovery-code, a line on stdin, else a
// prompt); a user whose only factor is a passkey is told to use something else.
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
let recoveryCodes: string[];
let userUuid: string;

function cli(
  args: string[],
  stdin = '',
  extraEnv: Record<string, string | undefined> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: '/nonexistent',
    XIVO_AUTH_URL: url,
    XIVO_AUTH_USERNAME: 'cli-mfa',
    XIVO_AUTH_PASSWORD: 'cli-mfa-password',
    ...extraEnv,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k as keyof typeof env];
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
  const res = await fetch(`${url}/0.1${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (res.status === 204 ? {} : await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

beforeAll(async () => {
  t = await startTestService('sqlite', { external_auth: externalAuthWith(tempKeyFile().file) });
  url = await t.service.listen();
  const admin = (await call('POST', '/token', { authorization: basic(ADMIN.username, ADMIN.password) }, {})).body.data.token;
  const user = (await call('POST', '/users', { 'x-auth-token': admin }, { username: 'cli-mfa', password: 'cli-mfa-password' }))
    .body;
  userUuid = user.uuid;
  const policy = (
    await call(
      'POST',
      '/policies',
      { 'x-auth-token': admin },
      { name: 'cli mfa', acl: ['auth.users.me.mfa.#', 'auth.users.read'] },
    )
  ).body;
  await call('PUT', `/users/${user.uuid}/policies/${policy.uuid}`, { 'x-auth-token': admin });
  const token = (await call('POST', '/token', { authorization: basic('cli-mfa', 'cli-mfa-password') }, {})).body.data.token;
  const enrol = (await call('POST', '/users/me/mfa/totp', { 'x-auth-token': token }, {})).body;
  secret = enrol.secret;
  expect(
    (await call('PUT', `/users/me/mfa/totp/${enrol.uuid}/confirm`, { 'x-auth-token': token }, { code: code() })).status,
  ).toBe(204);
  recoveryCodes = (await call('POST', '/users/me/mfa/recovery_codes', { 'x-auth-token': token })).body.codes;
  expect(recoveryCodes).toHaveLength(10);
  (t.clock as FakeClock).advance(30_000);
});

/** The user's sessions still open (each run closes the one it opened for itself). */
async function openSessions(): Promise<number> {
  const admin = (await call('POST', '/token', { authorization: basic(ADMIN.username, ADMIN.password) }, {})).body.data.token;
  const res = await call('GET', `/users/${userUuid}/sessions`, { 'x-auth-token': admin });
  expect(res.status).toBe(200);
  return res.body.total as number;
}

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
    // Not a terminal and no line given: a usage error naming the way, nothing sent for it.
    const none = await cli(['token', 'create']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--auth-password-stdin');
  });

  it('logs in with --recovery-code, each code once', async () => {
    const [first] = recoveryCodes.splice(0, 1);
    const ok = await cli(['-f', 'json', 'token', 'create', '--recovery-code', first]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).token).toMatch(/./);
    const again = await cli(['token', 'create', '--recovery-code', first]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('mfa-invalid');
    // The challenge is not printed: it is of no use past the run.
    expect(again.stderr).not.toMatch(/[A-Za-z0-9_-]{43}/);
  });
});

describe('every other command, for a user with a second factor', () => {
  it('logs in with --totp, then closes the session it opened', async () => {
    (t.clock as FakeClock).advance(30_000);
    const before = await openSessions();
    const ok = await cli(['-f', 'json', 'user', 'list', '--totp', code()]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as { username: string }[]).map((u) => u.username)).toContain('cli-mfa');
    expect(await openSessions()).toBe(before);
  });

  it('reads the code on the line after the password with --auth-password-stdin', async () => {
    (t.clock as FakeClock).advance(30_000);
    const ok = await cli(['-f', 'json', 'user', 'list', '--auth-password-stdin'], `cli-mfa-password\n${code()}\n`, {
      XIVO_AUTH_PASSWORD: undefined,
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ username: 'cli-mfa' })]));
    // A wrong code given as an option is not asked again: exit 3.
    const wrong = await cli(['user', 'list', '--totp', code() === '000000' ? '111111' : '000000']);
    expect(wrong.code).toBe(3);
    expect(wrong.stdout).toBe('');
  });

  it("user mfa lists a user's factors (no secrets) and user mfa delete removes one, for an administrator", async () => {
    const asAdmin = { XIVO_AUTH_USERNAME: ADMIN.username, XIVO_AUTH_PASSWORD: ADMIN.password };
    const listed = await cli(['-f', 'json', 'user', 'mfa', userUuid], '', asAdmin);
    expect(listed.code, listed.stderr).toBe(0);
    const factors = JSON.parse(listed.stdout) as { uuid: string; type: string; confirmed: boolean }[];
    expect(factors.map((f) => f.type).sort()).toEqual(['recovery_code', 'totp']);
    expect(listed.stdout).not.toContain(secret);
    const totp = factors.find((f) => f.type === 'totp')!;
    const removed = await cli(['user', 'mfa', 'delete', userUuid, totp.uuid], '', asAdmin);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe('deleted\n');
    expect((await cli(['user', 'mfa', 'delete', userUuid, totp.uuid], '', asAdmin)).code).toBe(4);
    // Recovery codes alone do not make a login ask: the password suffices again.
    const plain = await cli(['-f', 'json', 'token', 'create']);
    expect(plain.code, plain.stderr).toBe(0);
  });

  it('tells a user whose only factor is a passkey to use a recovery code or a token', async () => {
    const admin = (await call('POST', '/token', { authorization: basic(ADMIN.username, ADMIN.password) }, {})).body.data.token;
    const user = (
      await call('POST', '/users', { 'x-auth-token': admin }, { username: 'cli-passkey', password: 'cli-passkey-password' })
    ).body;
    // A passkey stored as its registration would (only its type matters to the command line).
    const factor = '00000000-0000-4000-8000-00000000cafe';
    await t.service.store.insertMfaFactor({
      uuid: factor,
      userUuid: user.uuid,
      tenantUuid: user.tenant_uuid,
      type: 'webauthn',
      name: 'key',
      secret: JSON.stringify({ id: 'AAAA', publicKey: 'AAAA', counter: 0, transports: [] }),
      confirmed: false,
      lastStep: null,
      createdAt: t.clock.now(),
      confirmedAt: null,
    });
    expect(await t.service.store.confirmMfaFactor(factor, t.clock.now(), null)).toBe(true);
    const res = await cli(['user', 'list'], '', {
      XIVO_AUTH_USERNAME: 'cli-passkey',
      XIVO_AUTH_PASSWORD: 'cli-passkey-password',
    });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('passkey');
    expect(res.stderr).toContain('--recovery-code');
  });
});
