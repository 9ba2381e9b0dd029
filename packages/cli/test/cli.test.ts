// xivo-auth-cli, run as a real child process (the built bin) against a real
// xivo-auth (SQLite, loopback HTTP): every verb, exit codes, output formats,
// credentials from the wazo-auth-cli file format / environment / stdin, and
// no secret in the output or in the process arguments.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test/helpers/cli.js';
import { ADMIN, basic, startTestService, type TestService } from '../../../test/helpers/service.js';

const BIN = join(REPO_ROOT, 'packages', 'cli', 'bin', 'xivo-auth-cli.js');
let t: TestService;
let url: string;
let home: string;
let configDir: string;
/** Every command line run, with the arguments the process really had. */
const cmdlines: string[] = [];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], opts: { env?: Record<string, string>; stdin?: string; config?: boolean } = {}): Promise<Result> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home, ...(opts.env ?? {}) };
  const full = [BIN, ...(opts.config === false ? [] : ['-c', configDir]), ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, full, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      cmdlines.push(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').join(' '));
    } catch {
      cmdlines.push(full.join(' ')); // already gone: its arguments were these
    }
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

const json = (r: Result) => {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};

beforeAll(async () => {
  t = await startTestService('sqlite');
  url = await t.service.listen();
  const { port } = new URL(url);
  home = mkdtempSync(join(tmpdir(), 'xivo-auth-cli-home-'));
  configDir = join(home, 'credentials.d'); // not a default location: only read with -c
  mkdirSync(configDir, { recursive: true });
  // wazo-auth-cli's own format: a default file, then credentials overriding it
  writeFileSync(join(configDir, '000-default.yml'), 'auth:\n  host: localhost\n  port: 1\n');
  writeFileSync(
    join(configDir, '050-credentials.yml'),
    YAML.stringify({
      auth: { host: '127.0.0.1', port: Number(port), username: ADMIN.username, password: ADMIN.password, backend: 'wazo_user' },
    }),
  );
});

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  // No password was ever on a command line.
  for (const line of cmdlines) {
    expect(line).not.toContain(ADMIN.password);
    expect(line).not.toContain('pw-');
  }
});

describe('usage', () => {
  it('--help exits 0; no command or an unknown one exits 2', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: xivo-auth-cli');
    expect((await cli([])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['user', 'list', '--bogus'])).code).toBe(2);
    expect((await cli(['-f', 'xml', 'user', 'list'])).code).toBe(2);
  });

  it('has no way to take a password on the command line', async () => {
    for (const flag of ['--password', '--auth-password', '-p']) {
      const r = await cli(['user', 'create', 'x', flag, 'hunter2']);
      expect(r.code).toBe(2);
      expect(r.stdout + r.stderr).not.toContain('hunter2');
    }
  });
});

describe('credentials', () => {
  it('reads the wazo-auth-cli credentials directory, later files overriding earlier ones', async () => {
    const r = json(await cli(['-f', 'json', 'token', 'create', '--expiration', '120']));
    expect(r.auth_id).toBeTruthy();
    expect(r.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('finds ~/.config/wazo-auth-cli by itself, and WAZO_AUTH_CLI_CONFIG', async () => {
    const otherHome = mkdtempSync(join(tmpdir(), 'xivo-auth-cli-home2-'));
    try {
      const dir = join(otherHome, '.config', 'wazo-auth-cli');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, '050-credentials.yml'), readFileSync(join(configDir, '050-credentials.yml')));
      expect((await cli(['user', 'list'], { env: { HOME: otherHome }, config: false })).code).toBe(0);
      expect(
        (await cli(['user', 'list'], { env: { WAZO_AUTH_CLI_CONFIG: join(configDir, '050-credentials.yml') }, config: false }))
          .code,
      ).toBe(0);
      // and without any configuration: the default URL, no username
      const none = await cli(['user', 'list'], { config: false });
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('no username');
    } finally {
      rmSync(otherHome, { recursive: true, force: true });
    }
  });

  it('reads the environment, and a password from stdin', async () => {
    const env = { XIVO_AUTH_URL: url, XIVO_AUTH_USERNAME: ADMIN.username };
    const r = await cli(['-f', 'json', 'user', 'list', '--auth-password-stdin'], {
      env,
      stdin: `${ADMIN.password}\n`,
      config: false,
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).map((u: { username: string }) => u.username)).toContain(ADMIN.username);
    expect(r.stdout + r.stderr).not.toContain(ADMIN.password);
    const withEnvPassword = await cli(['user', 'list'], { env: { ...env, XIVO_AUTH_PASSWORD: ADMIN.password }, config: false });
    expect(withEnvPassword.code).toBe(0);
  });

  it('exits 2 without a password and no terminal to prompt on', async () => {
    const r = await cli(['user', 'list'], { env: { XIVO_AUTH_URL: url, XIVO_AUTH_USERNAME: ADMIN.username }, config: false });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--auth-password-stdin');
  });

  it('exits 3 on a wrong password, without printing it', async () => {
    const r = await cli(['user', 'list', '--auth-password-stdin'], {
      env: { XIVO_AUTH_URL: url, XIVO_AUTH_USERNAME: ADMIN.username },
      stdin: 'pw-wrong-secret\n',
      config: false,
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Authentication Failed');
    expect(r.stdout + r.stderr).not.toContain('pw-wrong-secret');
  });

  it('exits 6 when xivo-auth cannot be reached', async () => {
    const r = await cli(['user', 'list'], {
      env: { XIVO_AUTH_URL: 'http://127.0.0.1:1', XIVO_AUTH_USERNAME: 'a', XIVO_AUTH_PASSWORD: 'pw-x' },
      config: false,
    });
    expect(r.code).toBe(6);
    expect(r.stderr).not.toContain('pw-x');
  });

  it('closes the session it opened for itself', async () => {
    const count = async () => json(await cli(['-f', 'json', 'session', 'list'])).length;
    const before = await count();
    await cli(['user', 'list']);
    await cli(['policy', 'list']);
    expect(await count()).toBe(before);
  });
});

describe('token', () => {
  it('create, check (argument or stdin), show, revoke, with exit codes', async () => {
    const created = json(await cli(['-f', 'json', 'token', 'create']));
    const token = created.token as string;
    const check = await cli(['token', 'check', token]);
    expect(check).toMatchObject({ code: 0, stdout: 'valid\n' });
    const fromStdin = await cli(['token', 'check', '-', '--scope', 'auth.users.read'], { stdin: `${token}\n` });
    expect(fromStdin).toMatchObject({ code: 0, stdout: 'valid for auth.users.read\n' });
    const denied = await cli(['-f', 'json', 'token', 'check', '-', '--scope', 'nothing.here'], { stdin: token });
    expect(denied.code === 0 || denied.code === 1).toBe(true);

    const shown = json(await cli(['-f', 'json', 'token', 'show', '-'], { stdin: token }));
    expect(shown.session_uuid).toBe(created.session_uuid);
    expect(shown.token).toBeUndefined();
    const table = await cli(['token', 'show', '-'], { stdin: token });
    expect(table.stdout).toContain('session_uuid');
    expect(table.stdout).not.toContain(token);

    expect((await cli(['token', 'revoke', '-'], { stdin: token })).code).toBe(0);
    const after = await cli(['-f', 'yaml', 'token', 'check', '-'], { stdin: token });
    expect(after.code).toBe(1);
    expect(YAML.parse(after.stdout)).toEqual({ valid: false, reason: 'unknown or expired token' });
  });

  it('token check exits 1 for a scope the token lacks', async () => {
    const user = json(
      await cli(['-f', 'json', 'user', 'create', 'plain-user', '--password-stdin'], { stdin: 'pw-plain-user-1\n' }),
    );
    expect(user.username).toBe('plain-user');
    const token = json(
      await cli(['-f', 'json', 'token', 'create'], {
        env: { XIVO_AUTH_URL: url, XIVO_AUTH_USERNAME: 'plain-user', XIVO_AUTH_PASSWORD: 'pw-plain-user-1' },
        config: false,
      }),
    ).token;
    const r = await cli(['token', 'check', '-', '--scope', 'confd.users.read'], { stdin: token });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^invalid: /);
  });
});

describe('user', () => {
  it('create, list, show, update, set-password, delete', async () => {
    const created = json(
      await cli(
        ['-f', 'json', 'user', 'create', 'alice', '--password-stdin', '--firstname', 'Alice', '--email', 'alice@example.com'],
        { stdin: 'pw-alice-1\n' },
      ),
    );
    expect(created).toMatchObject({ username: 'alice', firstname: 'Alice', enabled: true });
    const csv = await cli(['-f', 'csv', 'user', 'list', '--search', 'alice']);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split('\n')[0]).toBe('uuid,username,firstname,lastname,purpose,enabled,tenant_uuid');
    expect(csv.stdout).toContain(`${created.uuid},alice,Alice,,user,true,`);
    const table = await cli(['user', 'list', '--search', 'alice']);
    expect(table.stdout).toMatch(/^uuid +username +firstname/);
    expect(json(await cli(['-f', 'json', 'user', 'show', created.uuid])).emails[0].address).toBe('alice@example.com');
    const updated = json(await cli(['-f', 'json', 'user', 'update', created.uuid, '--lastname', 'Liddell', '--disable']));
    expect(updated).toMatchObject({ username: 'alice', firstname: 'Alice', lastname: 'Liddell', enabled: false });
    json(await cli(['-f', 'json', 'user', 'update', created.uuid, '--enable']));

    const changed = await cli(['user', 'set-password', created.uuid, '--password-stdin'], { stdin: 'pw-alice-1\npw-alice-2\n' });
    expect(changed).toMatchObject({ code: 0, stdout: 'password changed\n' });
    const login = await cli(['token', 'create'], {
      env: { XIVO_AUTH_URL: url, XIVO_AUTH_USERNAME: 'alice', XIVO_AUTH_PASSWORD: 'pw-alice-2' },
      config: false,
    });
    expect(login.code).toBe(0);
    expect(login.stdout + login.stderr).not.toContain('pw-alice-2');

    expect((await cli(['user', 'delete', created.uuid])).code).toBe(0);
    const gone = await cli(['user', 'show', created.uuid]);
    expect(gone.code).toBe(4);
    expect(gone.stderr).toContain('unknown-user');
  });

  it('exits 5 on a conflict or invalid data', async () => {
    await cli(['user', 'create', 'bob']);
    const again = await cli(['user', 'create', 'bob']);
    expect(again.code).toBe(5);
    expect(again.stderr).toContain('conflict');
    expect((await cli(['user', 'create', 'carol', '--email', 'not-an-email'])).code).toBe(5);
  });
});

describe('policy, group, tenant, session', () => {
  it('policy create, acl add/remove, update, show, list, delete', async () => {
    const p = json(
      await cli([
        '-f',
        'json',
        'policy',
        'create',
        'readers',
        '--acl',
        'confd.users.read',
        '--acl',
        'confd.lines.#',
        '--description',
        'read only',
      ]),
    );
    expect(p.acl).toEqual(['confd.users.read', 'confd.lines.#']);
    expect((await cli(['policy', 'acl', 'add', p.uuid, 'confd.voicemails.#'])).stdout).toBe('added\n');
    expect((await cli(['policy', 'acl', 'remove', p.uuid, 'confd.users.read'])).stdout).toBe('removed\n');
    expect(json(await cli(['-f', 'json', 'policy', 'show', p.uuid])).acl).toEqual(['confd.lines.#', 'confd.voicemails.#']);
    const renamed = json(await cli(['-f', 'json', 'policy', 'update', p.uuid, '--name', 'line-readers']));
    expect(renamed).toMatchObject({
      name: 'line-readers',
      description: 'read only',
      acl: ['confd.lines.#', 'confd.voicemails.#'],
    });
    const list = YAML.parse((await cli(['-f', 'yaml', 'policy', 'list', '--search', 'line-readers'])).stdout);
    expect(list.map((x: { uuid: string }) => x.uuid)).toEqual([p.uuid]);
    expect((await cli(['policy', 'delete', p.uuid])).code).toBe(0);
    expect((await cli(['policy', 'show', p.uuid])).code).toBe(4);
  });

  it('group create, update, users and policies links, delete', async () => {
    const g = json(await cli(['-f', 'json', 'group', 'create', 'staff']));
    const u = json(await cli(['-f', 'json', 'user', 'create', 'dave']));
    const p = json(await cli(['-f', 'json', 'policy', 'create', 'staff-policy', '--acl', 'x.y']));
    expect((await cli(['group', 'add-user', g.uuid, u.uuid])).code).toBe(0);
    expect((await cli(['group', 'add-policy', g.uuid, p.uuid])).code).toBe(0);
    expect(json(await cli(['-f', 'json', 'group', 'users', g.uuid])).map((x: { uuid: string }) => x.uuid)).toEqual([u.uuid]);
    expect(json(await cli(['-f', 'json', 'group', 'policies', g.uuid])).map((x: { uuid: string }) => x.uuid)).toEqual([p.uuid]);
    expect(json(await cli(['-f', 'json', 'group', 'update', g.uuid, '--name', 'crew'])).name).toBe('crew');
    expect(json(await cli(['-f', 'json', 'group', 'show', g.uuid])).name).toBe('crew');
    expect((await cli(['group', 'list'])).stdout).toContain('crew');
    expect((await cli(['group', 'remove-user', g.uuid, u.uuid])).code).toBe(0);
    expect((await cli(['group', 'remove-policy', g.uuid, p.uuid])).code).toBe(0);
    expect(json(await cli(['-f', 'json', 'group', 'users', g.uuid]))).toEqual([]);
    expect((await cli(['group', 'delete', g.uuid])).code).toBe(0);
    expect((await cli(['group', 'show', g.uuid])).code).toBe(4);
  });

  it('tenant create, update, list, show, delete; --tenant acts inside it', async () => {
    const tn = json(await cli(['-f', 'json', 'tenant', 'create', 'Acme', '--domain', 'acme.example.com']));
    expect(tn).toMatchObject({ name: 'Acme', domain_names: ['acme.example.com'] });
    expect(json(await cli(['-f', 'json', 'tenant', 'update', tn.uuid, '--name', 'Acme Corp'])).name).toBe('Acme Corp');
    expect(json(await cli(['-f', 'json', 'tenant', 'show', tn.uuid])).name).toBe('Acme Corp');
    expect((await cli(['-f', 'csv', 'tenant', 'list'])).stdout).toContain('Acme Corp');
    const inside = json(await cli(['-f', 'json', '--tenant', tn.uuid, 'user', 'create', 'erin']));
    expect(inside.tenant_uuid).toBe(tn.uuid);
    expect((await cli(['--tenant', tn.uuid, 'user', 'delete', inside.uuid])).code).toBe(0);
    expect((await cli(['tenant', 'delete', tn.uuid])).code).toBe(0);
    expect((await cli(['tenant', 'show', tn.uuid])).code).toBe(4);
  });

  it('tenant update keeps every field it was not given (PUT replaces: read, merge, write)', async () => {
    const contact = json(await cli(['-f', 'json', 'user', 'create', 'tenant-contact']));
    const tn = json(
      await cli([
        '-f',
        'json',
        'tenant',
        'create',
        'Keeper',
        '--slug',
        'keeper',
        '--domain',
        'keeper.example.com',
        '--contact',
        contact.uuid,
        '--phone',
        '+1 555 0199',
        '--auth-method',
        'ldap',
      ]),
    );
    expect(tn).toMatchObject({
      slug: 'keeper',
      contact: contact.uuid,
      phone: '+1 555 0199',
      default_authentication_method: 'ldap',
    });
    // An address set by another client than this one.
    const address = { line_1: '1 Main St', line_2: null, city: 'Quebec', state: null, country: 'Canada', zip_code: 'G1A' };
    const login = await fetch(`${url}/0.1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic(ADMIN.username, ADMIN.password) },
      body: '{}',
    });
    const adminToken = (await login.json()).data.token as string;
    const res = await fetch(`${url}/0.1/tenants/${tn.uuid}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-auth-token': adminToken },
      body: JSON.stringify({
        name: tn.name,
        domain_names: tn.domain_names,
        contact: tn.contact,
        phone: tn.phone,
        default_authentication_method: tn.default_authentication_method,
        address,
      }),
    });
    expect(res.status).toBe(200);

    const renamed = json(await cli(['-f', 'json', 'tenant', 'update', tn.uuid, '--name', 'Keeper Inc']));
    const kept = {
      name: 'Keeper Inc',
      slug: 'keeper',
      domain_names: ['keeper.example.com'],
      contact: contact.uuid,
      phone: '+1 555 0199',
      address,
      default_authentication_method: 'ldap',
    };
    expect(renamed).toMatchObject(kept);
    expect(json(await cli(['-f', 'json', 'tenant', 'show', tn.uuid]))).toMatchObject(kept);
    const rephoned = json(
      await cli(['-f', 'json', 'tenant', 'update', tn.uuid, '--phone', '+1 555 0100', '--auth-method', 'native']),
    );
    expect(rephoned).toMatchObject({ ...kept, phone: '+1 555 0100', default_authentication_method: 'native' });
    expect((await cli(['tenant', 'update', tn.uuid, '--auth-method', 'kerberos'])).code).toBe(2);

    expect(json(await cli(['-f', 'json', 'tenant', 'domains', tn.uuid]))).toEqual([
      { uuid: expect.any(String), name: 'keeper.example.com' },
    ]);
    const parent = json(await cli(['-f', 'json', 'tenant', 'create', 'Keeper parent']));
    expect((await cli(['tenant', 'move', tn.uuid, parent.uuid])).stdout).toBe('moved\n');
    expect(json(await cli(['-f', 'json', 'tenant', 'show', tn.uuid])).parent_uuid).toBe(parent.uuid);
    expect((await cli(['tenant', 'move', parent.uuid, tn.uuid])).code).toBe(5);

    expect((await cli(['tenant', 'delete', tn.uuid])).code).toBe(0);
    expect((await cli(['tenant', 'delete', parent.uuid])).code).toBe(0);
  });

  it('session list and revoke', async () => {
    const user = json(await cli(['-f', 'json', 'user', 'create', 'frank', '--password-stdin'], { stdin: 'pw-frank-1' }));
    const token = json(
      await cli(['-f', 'json', 'token', 'create'], {
        env: { XIVO_AUTH_URL: url, XIVO_AUTH_USERNAME: 'frank', XIVO_AUTH_PASSWORD: 'pw-frank-1' },
        config: false,
      }),
    );
    const sessions = json(await cli(['-f', 'json', 'session', 'list', '--user', user.uuid]));
    expect(sessions.map((s: { uuid: string }) => s.uuid)).toEqual([token.session_uuid]);
    expect(json(await cli(['-f', 'json', 'session', 'list'])).map((s: { uuid: string }) => s.uuid)).toContain(token.session_uuid);
    expect((await cli(['session', 'revoke', token.session_uuid])).stdout).toBe('revoked\n');
    expect((await cli(['token', 'check', '-'], { stdin: token.token })).code).toBe(1);
  });
});

describe('acl test', () => {
  it('explains a grant, a denial and no match, with exit codes 0 / 1', async () => {
    const granted = await cli(['acl', 'test', 'confd.users.me.read', 'confd.#', 'confd.users.123.read', '--auth-id', '123'], {
      config: false,
    });
    expect(granted).toMatchObject({ code: 0, stdout: 'allowed: confd.users.123.read (granted by confd.users.me.read)\n' });
    const denied = await cli(['acl', 'test', 'foo.#', '!foo.me.bar.#', 'foo.123.bar.1', '--auth-id', '123'], { config: false });
    expect(denied).toMatchObject({ code: 1, stdout: 'denied: foo.123.bar.1 (denied by !foo.me.bar.#)\n' });
    const none = await cli(['-f', 'json', 'acl', 'test', 'a.b', 'a.c'], { config: false });
    expect(none.code).toBe(1);
    expect(JSON.parse(none.stdout)).toEqual({ access: 'a.c', allowed: false, pattern: null });
    const csv = await cli(['-f', 'csv', 'acl', 'test', 'a.*', 'a.c'], { config: false });
    expect(csv.stdout).toBe('access,allowed,pattern\na.c,true,a.*\n');
    expect((await cli(['acl', 'test', 'only-one'], { config: false })).code).toBe(2);
  });
});
