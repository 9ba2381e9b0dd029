// @xivo-auth/client and the second-factor challenge of POST /token (issue
// 24), against a real xivo-auth (SQLite, real HTTP on loopback).
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidDataError,
  MfaEnrolmentRequiredError,
  MfaRequiredError,
  NotFoundError,
  UnauthorizedError,
  XivoAuthClient,
} from '@xivo-auth/client';
import { DEFAULT_CONFIG } from '../../../src/config/index.js';
import type { FakeClock } from '../../../src/clock.js';
import { externalAuthWith, tempKeyFile } from '../../../test/helpers/external.js';
import { ADMIN, startTestService, type TestService } from '../../../test/helpers/service.js';

let t: TestService;
let url: string;
let admin: XivoAuthClient;
let secret: string;
const clients: XivoAuthClient[] = [];

const code = (offsetSteps = 0) =>
  new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: t.clock.now() + offsetSteps * 30_000 });

async function call(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${url}/0.1${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-auth-token': token },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (res.status === 204 ? {} : await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

beforeAll(async () => {
  t = await startTestService('sqlite', {
    external_auth: externalAuthWith(tempKeyFile().file),
    mfa: {
      ...DEFAULT_CONFIG.mfa,
      required_for: { acl: ['confd.admin.#'], purposes: [] },
      exempt_purposes: ['external_api', 'internal'],
    },
  });
  url = await t.service.listen();
  admin = new XivoAuthClient({ url });
  clients.push(admin);
  admin.setToken((await admin.token.create({ username: ADMIN.username, password: ADMIN.password })).token);
  const policy = await call('POST', '/policies', admin.currentToken!, { name: 'client mfa', acl: ['auth.users.me.mfa.#'] });
  for (const [username, extra] of [
    ['mfa-client', []],
    ['mfa-enrol', ['confd.admin.read']],
  ] as const) {
    const user = await call('POST', '/users', admin.currentToken!, { username, password: `${username}-password` });
    let p = policy.body.uuid as string;
    if (extra.length > 0)
      p = (
        await call('POST', '/policies', admin.currentToken!, { name: `${username} p`, acl: ['auth.users.me.mfa.#', ...extra] })
      ).body.uuid;
    expect((await call('PUT', `/users/${user.body.uuid}/policies/${p}`, admin.currentToken!)).status).toBe(204);
  }
  const own = new XivoAuthClient({ url });
  clients.push(own);
  const token = (await own.token.create({ username: 'mfa-client', password: 'mfa-client-password' })).token;
  const enrol = await call('POST', '/users/me/mfa/totp', token, {});
  secret = enrol.body.secret;
  expect((await call('PUT', `/users/me/mfa/totp/${enrol.body.uuid}/confirm`, token, { code: code() })).status).toBe(204);
  (t.clock as FakeClock).advance(30_000);
});

afterAll(() => {
  for (const c of clients) c.close();
});

describe('second factor', () => {
  it('token.create() throws MfaRequiredError with the challenge; a second create() with it and a code logs in', async () => {
    const c = new XivoAuthClient({ url });
    clients.push(c);
    const err = await c.token.create({ username: 'mfa-client', password: 'mfa-client-password' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MfaRequiredError);
    expect(err).toBeInstanceOf(UnauthorizedError);
    const mfa = err as MfaRequiredError;
    expect(mfa.factors).toEqual(['totp']);
    expect(mfa.failed).toBe(false);
    const token = await c.token.create({
      username: 'mfa-client',
      password: 'mfa-client-password',
      mfaChallenge: mfa.challenge,
      totp: code(),
    });
    expect(token.token).toMatch(/./);
  });

  it('createWithSecondFactor() asks again after a wrong code', async () => {
    (t.clock as FakeClock).advance(30_000);
    const c = new XivoAuthClient({ url });
    clients.push(c);
    const asked: boolean[] = [];
    const token = await c.token.createWithSecondFactor(
      { username: 'mfa-client', password: 'mfa-client-password' },
      async ({ failed }) => {
        asked.push(failed);
        return { totp: asked.length === 1 ? (code() === '000000' ? '111111' : '000000') : code() };
      },
    );
    expect(token.token).toMatch(/./);
    expect(asked).toEqual([false, true]);
  });

  it('MfaEnrolmentRequiredError carries the enrolment-only token', async () => {
    const c = new XivoAuthClient({ url });
    clients.push(c);
    const err = await c.token.create({ username: 'mfa-enrol', password: 'mfa-enrol-password' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MfaEnrolmentRequiredError);
    expect((await call('GET', '/users/me/mfa', (err as MfaEnrolmentRequiredError).token)).status).toBe(200);
  });

  it('users.mfa: the enrolment-only token enrols TOTP and recovery codes; an administrator lists and removes them', async () => {
    const c = new XivoAuthClient({ url });
    clients.push(c);
    const err = await c.token.create({ username: 'mfa-enrol', password: 'mfa-enrol-password' }).catch((e: unknown) => e);
    const restricted = { token: (err as MfaEnrolmentRequiredError).token };
    const enrolment = await c.users.mfa.enrolTotp({ name: 'phone' }, restricted);
    expect(enrolment.confirmed).toBe(false);
    expect(enrolment.otpauth_uri).toContain(`secret=${enrolment.secret}`);
    const at = (steps = 0) =>
      new TOTP({ secret: Secret.fromBase32(enrolment.secret) }).generate({ timestamp: t.clock.now() + steps * 30_000 });
    await expect(c.users.mfa.confirmTotp(enrolment.uuid, at(5), restricted)).rejects.toBeInstanceOf(InvalidDataError);
    await c.users.mfa.confirmTotp(enrolment.uuid, at(), restricted);
    const { codes } = await c.users.mfa.newRecoveryCodes(restricted);
    expect(codes).toHaveLength(10);
    (t.clock as FakeClock).advance(30_000);

    const token = await c.token.createWithSecondFactor(
      { username: 'mfa-enrol', password: 'mfa-enrol-password' },
      async ({ factors }) => {
        expect(factors.sort()).toEqual(['recovery_code', 'totp']);
        return { recoveryCode: codes[0] };
      },
    );
    expect(token.acl).toContain('confd.admin.read');

    const listed = await admin.users.mfa.list(token.metadata.uuid as string);
    // Oldest first; both were made at the same (fake) instant, so by type here.
    const seen = listed.items
      .map((f) => [f.type, f.name, f.confirmed, f.remaining])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(seen).toEqual([
      ['recovery_code', null, true, 9],
      ['totp', 'phone', true, undefined],
    ]);
    expect(JSON.stringify(listed)).not.toContain(enrolment.secret);
    for (const f of listed.items) await admin.users.mfa.delete(token.metadata.uuid as string, f.uuid);
    expect((await admin.users.mfa.list(token.metadata.uuid as string)).total).toBe(0);
    await expect(admin.users.mfa.delete(token.metadata.uuid as string, listed.items[0].uuid)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    // No factor left: mfa.required_for makes it enrol again.
    await expect(c.token.create({ username: 'mfa-enrol', password: 'mfa-enrol-password' })).rejects.toBeInstanceOf(
      MfaEnrolmentRequiredError,
    );
  });
});
