// A real nginx (Debian's package, installed by .ci/run) in front of a small
// upstream, protected with auth_request to a real xivo-auth, with the
// location snippet published in docs/gateways/nginx-locations.conf.
// Fails, never skips, when nginx is missing.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, basic, startTestService, type TestService } from '../helpers/service.js';

const SNIPPET = path.join(import.meta.dirname, '../../docs/gateways/nginx-locations.conf');

function nginxBinary(): string {
  for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch { /* next */ }
  }
  throw new Error('nginx is required by this test (.ci/run installs Debian\'s package): not found');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string }

function request(port: number, method: string, urlPath: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

describe('nginx auth_request in front of an upstream', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xivo-auth-nginx-'));
  let nginx: ChildProcess | null = null;
  let upstream: http.Server;
  let t: TestService;
  let port: number;
  let alice: { uuid: string };
  let aliceToken: string;
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    const binary = nginxBinary();
    t = await startTestService('sqlite', {
      default_policies: { own: { acl: ['confd.users.me.read', 'confd.users.me.update'] } },
      default_user_policy: 'own',
      authz: {
        routes: [
          { path: '/api/users/{user_uuid}', access: 'confd.users.{user_uuid}.read', methods: ['GET', 'HEAD'] },
          { path: '/api/users/{user_uuid}', access: 'confd.users.{user_uuid}.update', methods: ['PUT', 'POST'] },
          { path: '/api/lines', access: 'confd.lines.read' },
        ],
        cache_max_age: 0,
      },
    });
    const authUrl = new URL(await t.service.listen());
    const app = t.service.app;
    const admin = (await app.inject({ method: 'POST', url: '/0.1/token', headers: { authorization: basic(ADMIN.username, ADMIN.password) }, payload: {} })).json().data.token;
    alice = (await app.inject({ method: 'POST', url: '/0.1/users', headers: { 'x-auth-token': admin }, payload: { username: 'alice', password: 'alice-password' } })).json();
    aliceToken = (await app.inject({ method: 'POST', url: '/0.1/token', headers: { authorization: basic('alice', 'alice-password') }, payload: {} })).json().data.token;

    upstream = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ upstream: 'secret content' }));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamPort = (upstream.address() as net.AddressInfo).port;

    port = await freePort();
    const temp = (name: string) => `${name} ${path.join(dir, name.replace(/_path$/, ''))};`;
    writeFileSync(path.join(dir, 'nginx.conf'), `
daemon off;
master_process on;
worker_processes 1;
${process.getuid?.() === 0 ? 'user root root;' : ''}
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} warn;
events { worker_connections 64; }
http {
  access_log ${path.join(dir, 'access.log')};
  ${temp('client_body_temp_path')}
  ${temp('proxy_temp_path')}
  ${temp('fastcgi_temp_path')}
  ${temp('uwsgi_temp_path')}
  ${temp('scgi_temp_path')}
  upstream xivo_auth { server 127.0.0.1:${authUrl.port}; }
  upstream api_backend { server 127.0.0.1:${upstreamPort}; }
  server {
    listen 127.0.0.1:${port};
    include ${SNIPPET};
  }
}
`);
    execFileSync(binary, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], { stdio: 'pipe' });
    nginx = spawn(binary, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], { stdio: 'ignore' });
    for (let i = 0; i < 100; i += 1) {
      try {
        await request(port, 'GET', '/nginx-ready');
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });

  afterAll(async () => {
    if (nginx !== null && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx?.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
    }
    await new Promise((resolve) => upstream?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('docs/gateways.md shows the very snippet under test', () => {
    const doc = readFileSync(path.join(import.meta.dirname, '../../docs/gateways.md'), 'utf8');
    expect(doc).toContain(readFileSync(SNIPPET, 'utf8'));
  });

  it('no token: 401 with the Bearer challenge, the upstream never reached', async () => {
    const before = seen.length;
    const res = await request(port, 'GET', `/api/users/${alice.uuid}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="xivo-auth", error="invalid_token"');
    expect(res.body).not.toContain('secret content');
    expect(seen.length).toBe(before);
  });

  it('a token without the access: 403', async () => {
    const res = await request(port, 'GET', '/api/lines', { 'x-auth-token': aliceToken });
    expect(res.status).toBe(403);
    expect(res.body).not.toContain('secret content');
    // Asking for another access in a header changes nothing: the snippet blanks it.
    const forged = await request(port, 'GET', '/api/lines', { 'x-auth-token': aliceToken, 'x-auth-required-access': `confd.users.${alice.uuid}.read` });
    expect(forged.status).toBe(403);
  });

  it('a valid token: 200 from the upstream with X-Auth-User-Uuid, no token and no forged identity passed on', async () => {
    const res = await request(port, 'GET', `/api/users/${alice.uuid}?x=1`, { authorization: `Bearer ${aliceToken}`, 'x-auth-user-uuid': 'forged' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ upstream: 'secret content' });
    const last = seen[seen.length - 1];
    expect(last.url).toBe(`/api/users/${alice.uuid}?x=1`);
    expect(last.headers['x-auth-user-uuid']).toBe(alice.uuid);
    expect(last.headers['x-auth-session-uuid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(last.headers['x-auth-purpose']).toBe('user');
    expect(last.headers.authorization).toBeUndefined();
    expect(last.headers['x-auth-token']).toBeUndefined();
  });

  it('a POST with a body goes through (method passed, body not sent to xivo-auth)', async () => {
    const res = await request(port, 'POST', `/api/users/${alice.uuid}`, { 'x-auth-token': aliceToken, 'content-type': 'application/json' }, '{"firstname":"Alice"}');
    expect(res.status).toBe(200);
    expect(seen[seen.length - 1]).toMatchObject({ method: 'POST', body: '{"firstname":"Alice"}' });
    // The subrequest is a GET: only X-Forwarded-Method tells xivo-auth this is a DELETE (no route: 403).
    expect((await request(port, 'DELETE', `/api/users/${alice.uuid}`, { 'x-auth-token': aliceToken })).status).toBe(403);
  });

  it('a revoked token: 401', async () => {
    const token = (await t.service.app.inject({ method: 'POST', url: '/0.1/token', headers: { authorization: basic('alice', 'alice-password') }, payload: {} })).json().data.token;
    expect((await request(port, 'GET', `/api/users/${alice.uuid}`, { 'x-auth-token': token })).status).toBe(200);
    await t.service.app.inject({ method: 'DELETE', url: `/0.1/token/${token}` });
    expect((await request(port, 'GET', `/api/users/${alice.uuid}`, { 'x-auth-token': token })).status).toBe(401);
  });

  it('xivo-auth unreachable: the client gets an error, never the upstream content', async () => {
    await t.close();
    const before = seen.length;
    const res = await request(port, 'GET', `/api/users/${alice.uuid}`, { 'x-auth-token': aliceToken });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.body).not.toContain('secret content');
    expect(seen.length).toBe(before);
    expect(readFileSync(path.join(dir, 'error.log'), 'utf8')).toMatch(/connect\(\) failed|auth request unexpected status/);
  });
});
