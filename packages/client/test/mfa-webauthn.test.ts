// @xivo-auth/client and a passkey as the second factor (issue 24): the
// assertion options of token.webauthnOptions() and the `webauthn` answer of
// token.create() / createWithSecondFactor(), against a real xivo-auth
// (SQLite, real HTTP on loopback), the passkey held by the virtual
// authenticator of a headless Chromium (/usr/bin/chromium, DevTools
// protocol) on a small page served by this test.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MfaRequiredError, NotFoundError, XivoAuthClient } from '@xivo-auth/client';
import { DEFAULT_CONFIG } from '../../../src/config/index.js';
import { ADMIN, startTestService, type TestService } from '../../../test/helpers/service.js';

const USERNAME = 'client-passkey';
const PASSWORD = 'client-passkey-password';

let t: TestService;
let url: string;
let pageServer: http.Server;
let context: BrowserContext;
let page: Page;
let profile: string;
const clients: XivoAuthClient[] = [];

function client(): XivoAuthClient {
  const c = new XivoAuthClient({ url });
  clients.push(c);
  return c;
}

async function call(method: string, p: string, token: string, body?: unknown) {
  const res = await fetch(`${url}/0.1${p}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-auth-token': token },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (res.status === 204 ? {} : await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** navigator.credentials.get() in the page: the assertion for `options`. */
async function assertion(options: Record<string, unknown>): Promise<Record<string, unknown>> {
  return page.evaluate(async (o) => {
    const credential = await navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(o as unknown as PublicKeyCredentialRequestOptionsJSON),
    });
    return (credential as PublicKeyCredential).toJSON() as unknown as Record<string, unknown>;
  }, options);
}

beforeAll(async () => {
  pageServer = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>client passkeys</title><p>test page</p>');
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  // http://localhost is a secure context: WebAuthn works there without TLS.
  const origin = `http://localhost:${(pageServer.address() as AddressInfo).port}`;
  profile = mkdtempSync(path.join(tmpdir(), 'xivo-auth-client-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  page = await context.newPage();
  await page.goto(origin);
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  t = await startTestService('sqlite', {
    mfa: { ...DEFAULT_CONFIG.mfa, webauthn: { rp_id: 'localhost', rp_name: 'client test', origins: [origin] } },
  });
  url = await t.service.listen();
  const admin = (await client().token.create({ username: ADMIN.username, password: ADMIN.password })).token;
  const user = await call('POST', '/users', admin, { username: USERNAME, password: PASSWORD });
  const policy = await call('POST', '/policies', admin, { name: 'client passkey', acl: ['auth.users.me.mfa.#'] });
  expect((await call('PUT', `/users/${user.body.uuid}/policies/${policy.body.uuid}`, admin)).status).toBe(204);
  // The user registers a passkey (the enrolment is not the client's business).
  const token = (await client().token.create({ username: USERNAME, password: PASSWORD })).token;
  const options = await call('POST', '/users/me/mfa/webauthn/registration/options', token);
  expect(options.status).toBe(200);
  const attestation = await page.evaluate(async (o) => {
    const credential = await navigator.credentials.create({
      publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(o as PublicKeyCredentialCreationOptionsJSON),
    });
    return (credential as PublicKeyCredential).toJSON() as unknown as Record<string, unknown>;
  }, options.body);
  expect((await call('POST', '/users/me/mfa/webauthn/registration', token, { response: attestation })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await context?.close();
  await new Promise<void>((resolve) => pageServer?.close(() => resolve()));
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('passkey as the second factor', () => {
  it('token.webauthnOptions() gives the assertion options of a challenge; token.create() with the assertion logs in', async () => {
    const c = client();
    const err = await c.token.create({ username: USERNAME, password: PASSWORD }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MfaRequiredError);
    const { challenge, factors } = err as MfaRequiredError;
    expect(factors).toEqual(['webauthn']);
    const options = await c.token.webauthnOptions(challenge);
    expect(options.rpId).toBe('localhost');
    const token = await c.token.create({
      username: USERNAME,
      password: PASSWORD,
      mfaChallenge: challenge,
      webauthn: await assertion(options),
    });
    expect(token.token).toMatch(/./);
    // The challenge is used: no more options for it.
    await expect(c.token.webauthnOptions(challenge)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('createWithSecondFactor() hands answer the options of its challenge', async () => {
    const c = client();
    const asked: { factors: string[]; failed: boolean }[] = [];
    const token = await c.token.createWithSecondFactor(
      { username: USERNAME, password: PASSWORD },
      async ({ factors, failed, challenge, webauthnOptions }) => {
        asked.push({ factors, failed });
        expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
        // The first answer is signed for other options: refused, and asked again.
        const options =
          asked.length === 1 ? { ...(await webauthnOptions()), challenge: 'bm90LXRoZS1jaGFsbGVuZ2U' } : await webauthnOptions();
        return { webauthn: await assertion(options) };
      },
    );
    expect(token.token).toMatch(/./);
    expect(asked).toEqual([
      { factors: ['webauthn'], failed: false },
      { factors: ['webauthn'], failed: true },
    ]);
  });
});
