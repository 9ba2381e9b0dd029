// HTTP hardening: security headers on every answer (normal, error, fast
// path), no-store on token answers, strict JSON without prototype pollution,
// a bound on request heads (431), limits on ACL sizes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, basic, startTestService, type TestService } from '../helpers/service.js';
import { securityWith } from './helpers.js';

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

function expectSecurityHeaders(headers: Record<string, unknown> | Headers): void {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers[name]);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(get(name), name).toBe(value);
}

/** The status line's code of a raw GET on a real socket (fetch would refuse the oversized header). */
function rawGet(url: string, headers: Record<string, string>): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    socket.on('error', () => {
      /* reset after the answer: the status line is what counts */
    });
    socket.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`no answer: ${JSON.stringify(received.slice(0, 100))}`));
    });
    const lines = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.end(`GET ${new URL(url).pathname} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n${lines}\r\n`);
  });
}

describe('HTTP hardening', () => {
  let t: TestService;
  let url: string;
  let admin: string;

  beforeAll(async () => {
    t = await startTestService('sqlite', { security: securityWith({ max_header_bytes: 4096 }) });
    url = await t.service.listen();
    const res = await t.service.app.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { authorization: basic(ADMIN.username, ADMIN.password), 'content-type': 'application/json' },
      payload: {},
    });
    admin = res.json().data.token;
  });

  it('sends the security headers on normal and error answers, through inject and a real socket', async () => {
    for (const res of [
      await t.service.app.inject({ method: 'GET', url: '/0.1/status' }),
      await t.service.app.inject({ method: 'GET', url: '/0.1/nowhere' }),
      await t.service.app.inject({
        method: 'POST',
        url: '/0.1/users',
        headers: { 'x-auth-token': admin, 'content-type': 'application/json' },
        payload: '{bad json',
      }),
      await t.service.app.inject({ method: 'GET', url: '/0.1/users' }),
    ]) {
      expectSecurityHeaders(res.headers);
    }
    for (const path of ['/0.1/status', '/0.1/nowhere', '/0.1/users']) {
      const res = await fetch(`${url}${path}`);
      expectSecurityHeaders(res.headers);
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('leaves the headers about a body off the answers that have none (HEAD, /authz decisions), on both paths', async () => {
    const noBodyHeaders = (headers: Record<string, unknown> | Headers, what: string) => {
      const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers[name]);
      for (const name of Object.keys(SECURITY_HEADERS)) expect(get(name) ?? undefined, `${what}: ${name}`).toBeUndefined();
    };
    // The fast path (a real socket) and Fastify's route (inject).
    const ok = await fetch(`${url}/0.1/token/${admin}`, { method: 'HEAD' });
    expect(ok.status).toBe(204);
    noBodyHeaders(ok.headers, 'HEAD check');
    expect(ok.headers.get('cache-control')).toBe('no-store');
    const unknown = await fetch(`${url}/0.1/token/${'A'.repeat(43)}`, { method: 'HEAD' });
    expect(unknown.status).toBe(404);
    noBodyHeaders(unknown.headers, 'HEAD unknown token');
    expect(unknown.headers.get('cache-control')).toBe('no-store');
    const routed = await t.service.app.inject({ method: 'HEAD', url: `/0.1/token/${admin}` });
    expect(routed.statusCode).toBe(204);
    noBodyHeaders(routed.headers, 'HEAD check, route');
    expect(routed.headers['cache-control']).toBe('no-store');
    const headStatus = await t.service.app.inject({ method: 'HEAD', url: '/0.1/status' });
    noBodyHeaders(headStatus.headers, 'HEAD status');
    for (const [what, res] of [
      ['GET /authz, fast path', await fetch(`${url}/0.1/authz?access=auth.users.read`, { headers: { 'x-auth-token': admin } })],
      ['GET /authz, no token', await fetch(`${url}/0.1/authz?access=auth.users.read`)],
    ] as const) {
      expect([200, 401], what).toContain(res.status);
      noBodyHeaders(res.headers, what);
    }
    const routedAuthz = await t.service.app.inject({ method: 'GET', url: '/0.1/authz', headers: { 'x-auth-token': admin } });
    expect(routedAuthz.statusCode).toBe(200);
    noBodyHeaders(routedAuthz.headers, 'GET /authz, route');
    // The same requests with a body in their answer get the whole set.
    const details = await fetch(`${url}/0.1/token/${admin}`);
    expect(details.status).toBe(200);
    expectSecurityHeaders(details.headers);
    const invalid = await fetch(`${url}/0.1/authz?access=`, { headers: { 'x-auth-token': admin } });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toMatch(/^application\/json/);
    expectSecurityHeaders(invalid.headers);
  });

  it('marks answers carrying tokens no-store', async () => {
    const created = await fetch(`${url}/0.1/token`, {
      method: 'POST',
      headers: { authorization: basic(ADMIN.username, ADMIN.password), 'content-type': 'application/json' },
      body: '{}',
    });
    expect(created.status).toBe(200);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.headers.get('pragma')).toBe('no-cache');
    const details = await t.service.app.inject({ method: 'GET', url: `/0.1/token/${admin}` });
    expect(details.statusCode).toBe(200);
    expect(details.headers['cache-control']).toBe('no-store');
  });

  it('refuses __proto__ and constructor.prototype keys (400) and pollutes nothing', async () => {
    const payloads = [
      '{"username":"proto1","password":"proto-password-1","__proto__":{"polluted":true}}',
      '{"username":"proto2","password":"proto-password-2","constructor":{"prototype":{"polluted":true}}}',
      '{"__proto__":{"purpose":"internal"},"username":"proto3","password":"proto-password-3"}',
    ];
    for (const payload of payloads) {
      const res = await t.service.app.inject({
        method: 'POST',
        url: '/0.1/users',
        headers: { 'x-auth-token': admin, 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode, payload).toBe(400);
      expect(res.json().error_id).toBe('invalid-data');
    }
    const token = await t.service.app.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { authorization: basic(ADMIN.username, ADMIN.password), 'content-type': 'application/json' },
      payload: '{"__proto__":{"expiration":1}}',
    });
    expect(token.statusCode).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.prototype).not.toHaveProperty('purpose');
  });

  it('answers 431 to a request head over security.max_header_bytes, and serves normal ones', async () => {
    expect(await rawGet(`${url}/0.1/status`, { 'x-big': 'a'.repeat(8000) })).toBe(431);
    expect(await rawGet(`${url}/0.1/status`, { 'x-small': 'a'.repeat(1000) })).toBe(200);
  });

  it('bounds the number and length of ACL entries', async () => {
    const headers = { 'x-auth-token': admin, 'content-type': 'application/json' };
    const tooMany = await t.service.app.inject({
      method: 'POST',
      url: '/0.1/policies',
      headers,
      payload: { name: 'too-many', acl: Array.from({ length: 1001 }, (_, i) => `svc.a${i}.read`) },
    });
    expect(tooMany.statusCode).toBe(400);
    const tooLong = await t.service.app.inject({
      method: 'POST',
      url: '/0.1/policies',
      headers,
      payload: { name: 'too-long', acl: [`svc.${'a'.repeat(600)}`] },
    });
    expect(tooLong.statusCode).toBe(400);
    const full = await t.service.app.inject({
      method: 'POST',
      url: '/0.1/policies',
      headers,
      payload: { name: 'full', acl: Array.from({ length: 1000 }, (_, i) => `svc.a${i}.read`) },
    });
    expect(full.statusCode).toBe(200);
    const more = await t.service.app.inject({
      method: 'PUT',
      url: `/0.1/policies/${full.json().uuid}/acl/svc.one.more`,
      headers: { 'x-auth-token': admin },
    });
    expect(more.statusCode).toBe(400);
    expect(more.json().details).toHaveProperty('acl');
    const scopes = await t.service.app.inject({
      method: 'POST',
      url: `/0.1/token/${admin}/scopes/check`,
      headers: { 'content-type': 'application/json' },
      payload: { scopes: Array.from({ length: 1001 }, () => 'x') },
    });
    expect(scopes.statusCode).toBe(400);
  });
});

describe('HTTP hardening over HTTPS', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xivo-auth-hsts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds Strict-Transport-Security', async () => {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const t = await startTestService('sqlite', { rest_api: { certificate: cert, private_key: key } });
    const url = await t.service.listen();
    const answerHeaders = (path: string, method = 'GET') =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = httpsRequest(`${url}${path}`, { method, rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve(res.headers);
        });
        req.on('error', reject);
        req.end();
      });
    const headers = await answerHeaders('/0.1/status');
    expect(headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expectSecurityHeaders(headers);
    // Not a header about a body: on the answers without one too (the fast path's HEAD check).
    const check = await answerHeaders(`/0.1/token/${'A'.repeat(43)}`, 'HEAD');
    expect(check['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(check['x-frame-options']).toBeUndefined();
    const injected = await t.service.app.inject({ method: 'GET', url: '/0.1/status' });
    expect(injected.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    await t.close();
  });
});
