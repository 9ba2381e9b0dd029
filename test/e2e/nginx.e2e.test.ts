// A real nginx (Debian's package, installed by .ci/run) in front of a small
// upstream, protected with auth_request to a real xivo-auth, with the
// location snippet published in docs/gateways/nginx-locations.conf.
// Fails, never skips, when nginx is missing.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Nginx, request, startNginx } from '../helpers/nginx.js';
import { ADMIN, basic, startTestService, type TestService } from '../helpers/service.js';

const SNIPPET = path.join(import.meta.dirname, '../../docs/gateways/nginx-locations.conf');

describe('nginx auth_request in front of an upstream', () => {
  let nginx: Nginx;
  let upstream: http.Server;
  let t: TestService;
  let port: number;
  let alice: { uuid: string };
  let aliceToken: string;
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
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
    const admin = (
      await app.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic(ADMIN.username, ADMIN.password) },
        payload: {},
      })
    ).json().data.token;
    alice = (
      await app.inject({
        method: 'POST',
        url: '/0.1/users',
        headers: { 'x-auth-token': admin },
        payload: { username: 'alice', password: 'alice-password' },
      })
    ).json();
    aliceToken = (
      await app.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic('alice', 'alice-password') },
        payload: {},
      })
    ).json().data.token;

    upstream = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ upstream: 'secret content' }));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamPort = (upstream.address() as net.AddressInfo).port;

    nginx = await startNginx(
      (listenPort) => `
  upstream xivo_auth { server 127.0.0.1:${authUrl.port}; }
  upstream api_backend { server 127.0.0.1:${upstreamPort}; }
  server {
    listen 127.0.0.1:${listenPort};
    include ${SNIPPET};
  }`,
    );
    port = nginx.port;
  });

  afterAll(async () => {
    await nginx?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
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
    const forged = await request(port, 'GET', '/api/lines', {
      'x-auth-token': aliceToken,
      'x-auth-required-access': `confd.users.${alice.uuid}.read`,
    });
    expect(forged.status).toBe(403);
  });

  it('a valid token: 200 from the upstream with X-Auth-User-Uuid, no token and no forged identity passed on', async () => {
    const res = await request(port, 'GET', `/api/users/${alice.uuid}?x=1`, {
      authorization: `Bearer ${aliceToken}`,
      'x-auth-user-uuid': 'forged',
    });
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
    const res = await request(
      port,
      'POST',
      `/api/users/${alice.uuid}`,
      { 'x-auth-token': aliceToken, 'content-type': 'application/json' },
      '{"firstname":"Alice"}',
    );
    expect(res.status).toBe(200);
    expect(seen[seen.length - 1]).toMatchObject({ method: 'POST', body: '{"firstname":"Alice"}' });
    // The subrequest is a GET: only X-Forwarded-Method tells xivo-auth this is a DELETE (no route: 403).
    expect((await request(port, 'DELETE', `/api/users/${alice.uuid}`, { 'x-auth-token': aliceToken })).status).toBe(403);
  });

  it('a revoked token: 401', async () => {
    const token = (
      await t.service.app.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic('alice', 'alice-password') },
        payload: {},
      })
    ).json().data.token;
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
    expect(readFileSync(path.join(nginx.dir, 'error.log'), 'utf8')).toMatch(/connect\(\) failed|auth request unexpected status/);
  });
});
