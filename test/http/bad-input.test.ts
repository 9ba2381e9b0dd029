// API.md §7: no request, however malformed, gets a 500 or corrupts data.
import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';

describe.each(ENGINES)('bad input on %s', (engine) => {
  let t: TestService;
  let admin: string;
  const inject = (opts: InjectOptions) => t.service.app.inject(opts);

  beforeAll(async () => {
    t = await startTestService(engine, { rest_api: { max_body_bytes: 4096 } });
    const res = await inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { 'content-type': 'application/json', authorization: basic(ADMIN.username, ADMIN.password) },
      payload: {},
    });
    admin = res.json().data.token;
  });

  const bodies: Array<[string, string | Buffer, string]> = [
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'application/json'],
    ['deep nesting', `${'['.repeat(1500)}${']'.repeat(1500)}`, 'application/json'],
    ['deep object nesting', `${'{"a":'.repeat(500)}1${'}'.repeat(500)}`, 'application/json'],
    ['truncated JSON', '{"expiration": ', 'application/json'],
    ['array', '[]', 'application/json'],
    ['null', 'null', 'application/json'],
    ['string', '"x"', 'application/json'],
    ['no content type', '{"expiration": "x"}', 'text/plain'],
    ['proto pollution', '{"__proto__": {"admin": true}}', 'application/json'],
  ];

  it.each(bodies)('POST /token with %s → 400', async (_name, payload, type) => {
    const res = await inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { 'content-type': type, authorization: basic(ADMIN.username, ADMIN.password) },
      payload,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().status_code).toBe(400);
  });

  it.each(bodies)('POST /users with %s → 400 in the new error shape', async (_name, payload, type) => {
    const res = await inject({
      method: 'POST',
      url: '/0.1/users',
      headers: { 'content-type': type, 'x-auth-token': admin },
      payload,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error_id).toBe('invalid-data');
  });

  it('answers 413 to bodies over max_body_bytes', async () => {
    const res = await inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { 'content-type': 'application/json', authorization: basic('a', 'b') },
      payload: JSON.stringify({ pad: 'x'.repeat(5000) }),
    });
    expect(res.statusCode).toBe(413);
    const users = await inject({
      method: 'POST',
      url: '/0.1/users',
      headers: { 'content-type': 'application/json', 'x-auth-token': admin },
      payload: JSON.stringify({ username: 'x'.repeat(5000) }),
    });
    expect(users.statusCode).toBe(413);
  });

  it('never passes NUL bytes or huge strings to the database', async () => {
    for (const payload of [
      { username: 'nul\u0000name' },
      { username: 'ok-name', firstname: 'a\u0000' },
      { username: 'ok-name', email_address: 'a\u0000@b.c' },
      { username: 'x'.repeat(3000) },
    ]) {
      const res = await inject({
        method: 'POST',
        url: '/0.1/users',
        headers: { 'content-type': 'application/json', 'x-auth-token': admin },
        payload,
      });
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
    }
    const login = await inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { 'content-type': 'application/json', authorization: basic('nul\u0000user', 'pw') },
      payload: {},
    });
    expect(login.statusCode).toBe(401);
    const search = await inject({ method: 'GET', url: '/0.1/users?search=%00', headers: { 'x-auth-token': admin } });
    expect(search.statusCode).toBe(400);
    const wazoTenant = await inject({
      method: 'GET',
      url: '/0.1/users',
      headers: { 'x-auth-token': admin, 'wazo-tenant': 'a\u0001b' },
    });
    expect(wazoTenant.statusCode).toBe(401);
    const scope = await inject({ method: 'HEAD', url: `/0.1/token/${admin}?tenant=%00` });
    expect(scope.statusCode).toBe(403);
  });

  it('treats SQL injection attempts as plain text', async () => {
    const res = await inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { 'content-type': 'application/json', authorization: basic("admin' OR '1'='1", "x' OR '1'='1") },
      payload: {},
    });
    expect(res.statusCode).toBe(401);
    const search = await inject({
      method: 'GET',
      url: `/0.1/users?search=${encodeURIComponent("'; DROP TABLE users; --")}`,
      headers: { 'x-auth-token': admin },
    });
    expect(search.statusCode).toBe(200);
    expect(search.json().filtered).toBe(0);
    // Still intact.
    expect(
      (await inject({ method: 'GET', url: '/0.1/users', headers: { 'x-auth-token': admin } })).json().total,
    ).toBeGreaterThanOrEqual(1);
  });
});
