// WebAuthn / passkeys (issue 24) with a real browser: headless Chromium
// (Debian's /usr/bin/chromium, driven by playwright-core) with a virtual
// authenticator (DevTools protocol WebAuthn domain) on a small page served
// by this test, producing real signed attestations and assertions; on both engines.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InjectOptions } from 'fastify';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { externalAuthWith, tempKeyFile } from '../helpers/external.js';
import { ADMIN, basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { securityWith } from '../security/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const JSON_HEADERS = { 'content-type': 'application/json' };

let pageServer: http.Server;
let origin: string;
let context: BrowserContext;
let page: Page;
let profile: string;

beforeAll(async () => {
  pageServer = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>xivo-auth passkeys</title><p>test page</p>');
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  // http://localhost is a secure context: WebAuthn works there without TLS.
  origin = `http://localhost:${(pageServer.address() as AddressInfo).port}`;
  profile = mkdtempSync(path.join(tmpdir(), 'xivo-auth-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
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
}, 60_000);

afterAll(async () => {
  await context?.close();
  await new Promise<void>((resolve) => pageServer?.close(() => resolve()));
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** navigator.credentials.create() in the page, with the server's options. */
async function createCredential(options: unknown): Promise<Record<string, unknown>> {
  return page.evaluate(async (o) => {
    const credential = await navigator.credentials.create({
      publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(o as PublicKeyCredentialCreationOptionsJSON),
    });
    return (credential as PublicKeyCredential).toJSON() as unknown as Record<string, unknown>;
  }, options);
}

async function getAssertion(options: unknown): Promise<Record<string, unknown>> {
  return page.evaluate(async (o) => {
    const credential = await navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(o as PublicKeyCredentialRequestOptionsJSON),
    });
    return (credential as PublicKeyCredential).toJSON() as unknown as Record<string, unknown>;
  }, options);
}

describe.each(ENGINES)('passkeys on %s', (engine) => {
  let t: TestService;
  let admin: string;
  const inject = (opts: InjectOptions) => t.service.app.inject(opts);
  const login = (user: string, password: string, body: Record<string, unknown> = {}) =>
    inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { ...JSON_HEADERS, authorization: basic(user, password) },
      payload: body,
    });
  const api = (method: InjectOptions['method'], url: string, token: string | null, payload?: unknown) =>
    inject({
      method,
      url,
      headers: { ...JSON_HEADERS, ...(token === null ? {} : { 'x-auth-token': token }) },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });

  beforeAll(async () => {
    t = await startTestService(engine, {
      external_auth: externalAuthWith(tempKeyFile().file),
      security: securityWith({ rate_limits: { enabled: false } }),
      mfa: { ...DEFAULT_CONFIG.mfa, webauthn: { rp_id: 'localhost', rp_name: 'xivo-auth test', origins: [origin] } },
    });
    admin = (await login(ADMIN.username, ADMIN.password)).json().data.token;
  });

  it('registers a passkey, then a login needs a signed assertion; replayed or foreign assertions are refused', async () => {
    const username = `passkey-${engine}`;
    const password = `${username}-password`;
    const user = (await api('POST', '/0.1/users', admin, { username, password })).json();
    const policy = (
      await api('POST', '/0.1/policies', admin, { name: `${username} policy`, acl: ['auth.users.me.mfa.#'] })
    ).json();
    expect((await api('PUT', `/0.1/users/${user.uuid}/policies/${policy.uuid}`, admin)).statusCode).toBe(204);
    const token = (await login(username, password)).json().data.token;

    // A response signed for an origin the configuration does not name does not verify.
    const unused = (await api('POST', '/0.1/users/me/mfa/webauthn/registration/options', token)).json();
    const signedElsewhere = await createCredential(unused);
    const clientData = JSON.parse(
      Buffer.from(String((signedElsewhere.response as Record<string, unknown>).clientDataJSON), 'base64url').toString('utf8'),
    );
    const forged = {
      ...signedElsewhere,
      response: {
        ...(signedElsewhere.response as Record<string, unknown>),
        clientDataJSON: Buffer.from(JSON.stringify({ ...clientData, origin: 'https://evil.example' })).toString('base64url'),
      },
    };
    expect((await api('POST', '/0.1/users/me/mfa/webauthn/registration', token, { response: forged })).statusCode).toBe(400);

    const options = await api('POST', '/0.1/users/me/mfa/webauthn/registration/options', token);
    expect(options.statusCode, options.body).toBe(200);
    expect(options.json().rp).toEqual({ id: 'localhost', name: 'xivo-auth test' });
    const attestation = await createCredential(options.json());
    const registered = await api('POST', '/0.1/users/me/mfa/webauthn/registration', token, {
      name: 'virtual',
      response: attestation,
    });
    expect(registered.statusCode, registered.body).toBe(200);
    // The same response again: its registration challenge is used.
    const again = await api('POST', '/0.1/users/me/mfa/webauthn/registration', token, { response: attestation });
    expect(again.statusCode).toBe(400);
    // The registered passkey is excluded from the next registration: the authenticator refuses to register it twice.
    const another = (await api('POST', '/0.1/users/me/mfa/webauthn/registration/options', token)).json();
    expect(another.excludeCredentials).toEqual([expect.objectContaining({ id: attestation.id })]);
    await expect(createCredential(another)).rejects.toThrow(/InvalidStateError/);

    const listed = (await api('GET', '/0.1/users/me/mfa', token)).json().items;
    expect(listed).toMatchObject([{ type: 'webauthn', name: 'virtual', confirmed: true }]);

    // The password alone is no longer enough.
    const refused = await login(username, password);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error_id).toBe('mfa-required');
    expect(refused.json().details.factors).toEqual(['webauthn']);
    const challenge = refused.json().details.mfa_challenge;

    const loginOptions = await api('POST', '/0.1/mfa/webauthn/options', null, { mfa_challenge: challenge });
    expect(loginOptions.statusCode, loginOptions.body).toBe(200);
    const assertion = await getAssertion(loginOptions.json());
    const ok = await login(username, password, { mfa_challenge: challenge, webauthn: assertion });
    expect(ok.statusCode, ok.body).toBe(200);

    // The same assertion again, with a new challenge: refused (its WebAuthn challenge is used).
    const next = (await login(username, password)).json().details.mfa_challenge;
    const replay = await login(username, password, { mfa_challenge: next, webauthn: assertion });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error_id).toBe('mfa-invalid');

    // An assertion asked for one mfa_challenge does not answer another.
    const first = (await login(username, password)).json().details.mfa_challenge;
    const other = (await login(username, password)).json().details.mfa_challenge;
    const forFirst = await getAssertion((await api('POST', '/0.1/mfa/webauthn/options', null, { mfa_challenge: first })).json());
    expect((await login(username, password, { mfa_challenge: other, webauthn: forFirst })).json().error_id).toBe('mfa-invalid');
    // A used or unknown challenge gets no options.
    expect((await api('POST', '/0.1/mfa/webauthn/options', null, { mfa_challenge: other })).statusCode).toBe(404);
  }, 60_000);
});
