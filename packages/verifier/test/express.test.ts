// The Express middleware against a real xivo-auth and RabbitMQ, over real HTTP.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type Verifier } from '@xivo-auth/verifier';
import { expressAuth } from '@xivo-auth/verifier/express';
import { startTestService } from '../../../test/helpers/service.js';
import { until } from '../../../test/helpers/until.js';
import { AMQP_URL, fixture, publisher, uniqueExchange, type Fixture, type Publisher } from './helpers.js';

const exchange = uniqueExchange();
let f: Fixture;
let pub: Publisher;
const closers: (() => Promise<void> | void)[] = [];

async function protectedApp(verifier: Verifier): Promise<string> {
  const auth = expressAuth(verifier);
  const app = express();
  app.get('/users/:user_uuid', auth.requireAccess('confd.users.{user_uuid}.read'), (req, res) => {
    res.json({ authId: req.auth?.identity.authId, canUpdate: req.auth?.can(`confd.users.${req.params.user_uuid}.update`) });
  });
  app.get('/lines', auth.requireAccess('confd.lines.read'), (_req, res) => {
    res.json({ ok: true });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const call = (base: string, path: string, token?: string) =>
  fetch(`${base}${path}`, { headers: token ? { 'x-auth-token': token } : {} });

beforeAll(async () => {
  f = await fixture(await startTestService('sqlite'));
  pub = await publisher(exchange);
});

afterAll(async () => {
  for (const c of closers.reverse()) await c();
  await pub?.close();
  f?.close();
});

describe.each(['remote', 'cached'] as const)('Express, %s mode', (mode) => {
  let base: string;
  let v: Verifier;
  beforeAll(async () => {
    v = createVerifier({ url: f.url, mode, ...(mode === 'cached' ? { bus: { url: AMQP_URL, exchange } } : {}) });
    closers.push(() => v.close());
    await v.ready();
    base = await protectedApp(v);
  });

  it('refuses without a token, in the documented shape', async () => {
    const res = await call(base, '/users/u.1');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="xivo-auth"');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({
      message: 'Unauthorized',
      error_id: 'unauthorized',
      details: { invalid_token: null, reason: 'not_found_or_expired', required_access: 'confd.users.u_1.read' },
    });
  });

  it('grants with req.auth set, refuses a missing access', async () => {
    const token = await f.tokenWith(['confd.users.me.read', 'confd.lines.read']);
    const ok = await call(base, `/users/${token.auth_id}`, token.token);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ authId: token.auth_id, canUpdate: false });
    expect((await call(base, '/lines', token.token)).status).toBe(200);
    const denied = await call(base, '/users/other', token.token);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect((await denied.json()).details.reason).toBe('missing_permission_or_invalid_tenant');
  });

  it('stops accepting a revoked token', async () => {
    const token = await f.tokenWith(['confd.lines.read']);
    expect((await call(base, '/lines', token.token)).status).toBe(200);
    await f.admin.token.revoke(token.token);
    if (mode === 'cached') await pub.sessionDeleted(token);
    await until(async () => (await call(base, '/lines', token.token)).status === 401, 'the revocation to be seen');
  });
});
