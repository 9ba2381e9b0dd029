// Issue 21, around the flows of self-service.test.ts: the plugins that can
// be turned off (registration off by default), the rate limits of the
// public routes (429 + Retry-After, the same for known and unknown
// accounts), the answer time of a reset request (no enumeration by timing),
// templates an operator overrides, and two instances relaying one outbox on
// PostgreSQL without sending a mail twice.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import type { Config } from '../../src/config/types.js';
import { createService, type Service } from '../../src/main.js';
import { openStoreDialect } from '../../src/store/open-store.js';
import { createTestDatabase } from '../helpers/pg.js';
import { ADMIN, basic, startTestService, testConfig, type TestService } from '../helpers/service.js';
import { startSmtpServer } from '../helpers/smtp.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const NO_SECURITY_LIMITS = {
  ...DEFAULT_CONFIG.security,
  rate_limits: { ...DEFAULT_CONFIG.security.rate_limits, enabled: false },
};
const limits = (over: Record<string, { per_hour: number; burst: number }>) => ({
  ...DEFAULT_CONFIG.self_service,
  public_base_url: 'https://auth.example.com',
  rate_limits: { ...DEFAULT_CONFIG.self_service.rate_limits, ...over },
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function adminToken(s: Service): Promise<string> {
  const res = await s.app.inject({
    method: 'POST',
    url: '/0.1/token',
    headers: { ...JSON_HEADERS, authorization: basic(ADMIN.username, ADMIN.password) },
    payload: {},
  });
  return res.json().data.token;
}

async function createUser(
  s: Service,
  admin: string,
  body: Record<string, unknown>,
): Promise<{ uuid: string; emails: { uuid: string }[] }> {
  const res = await s.app.inject({
    method: 'POST',
    url: '/0.1/users',
    headers: { ...JSON_HEADERS, 'x-auth-token': admin },
    payload: body,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function outbox(
  config: Config,
): Promise<{ recipient: string; kind: string; subject: string; text_body: string; html_body: string | null; status: string }[]> {
  const dialect = openStoreDialect(config.db_uri as string);
  try {
    return (
      await sql<{
        recipient: string;
        kind: string;
        subject: string;
        text_body: string;
        html_body: string | null;
        status: string;
      }>`
      select recipient, kind, subject, text_body, html_body, status from mail_outbox order by created_at, uuid`.execute(
        dialect.db,
      )
    ).rows;
  } finally {
    await dialect.db.destroy();
  }
}

describe('self-service plugins', () => {
  it('leave registration off by default, and turn reset and confirmation off on demand (404)', async () => {
    const t = await startTestService('sqlite');
    expect(
      (
        await t.service.app.inject({
          method: 'POST',
          url: '/0.1/users/register',
          headers: JSON_HEADERS,
          payload: { username: 'x', password: 'x-password-1', email_address: 'x@example.com' },
        })
      ).statusCode,
    ).toBe(404);
    expect((await t.service.app.inject({ method: 'GET', url: '/0.1/users/password/reset?username=x' })).statusCode).toBe(204);
    await t.close();

    const off = await startTestService('sqlite', { enabled_http_plugins: { password_reset: false, email_confirm: false } });
    expect((await off.service.app.inject({ method: 'GET', url: '/0.1/users/password/reset?username=x' })).statusCode).toBe(404);
    expect(
      (await off.service.app.inject({ method: 'PUT', url: '/0.1/emails/00000000-0000-4000-8000-000000000001/confirm' }))
        .statusCode,
    ).toBe(404);
    await off.close();
  });
});

describe('self-service rate limits', () => {
  let t: TestService;
  afterAll(async () => {
    await t?.close();
  });

  const reset = (query: string, ip = '192.0.2.1') =>
    t.service.app.inject({
      method: 'GET',
      url: `/0.1/users/password/reset${query}`,
      remoteAddress: ip,
      headers: { 'x-forwarded-for': ip },
    });

  it('answer 429 with Retry-After past the per-address and per-login limits, alike for known and unknown logins', async () => {
    t = await startTestService('sqlite', {
      security: NO_SECURITY_LIMITS,
      self_service: limits({
        password_reset_per_address: { per_hour: 60, burst: 3 },
        password_reset_per_login: { per_hour: 1, burst: 1 },
        mails_per_account: { per_hour: 1, burst: 1 },
        registrations_per_address: { per_hour: 1, burst: 1 },
      }),
      enabled_http_plugins: { user_registration: true },
    });
    const admin = await adminToken(t.service);
    await createUser(t.service, admin, {
      username: 'limited',
      password: 'limited-password',
      email_address: 'limited@example.com',
    });

    // Per login: the second request for one login waits, known or not.
    for (const login of ['limited', 'unknown-login']) {
      expect((await reset(`?login=${login}`, '192.0.2.10')).statusCode).toBe(204);
      const again = await reset(`?login=${login.toUpperCase()}`, '192.0.2.11');
      expect(again.statusCode, login).toBe(429);
      expect(Number(again.headers['retry-after'])).toBeGreaterThan(0);
    }
    // Per address: 3 at once from one address, then 429, whatever the logins.
    for (const login of ['a1', 'a2', 'a3']) expect((await reset(`?username=${login}`, '192.0.2.20')).statusCode).toBe(204);
    const flood = await reset('?username=a4', '192.0.2.20');
    expect(flood.statusCode).toBe(429);
    expect(flood.json()).toMatchObject({ error_id: 'too-many-requests' });
    expect(Number(flood.headers['retry-after'])).toBeGreaterThan(0);

    // Per account: another login of the same account answers 204 but mails nothing more.
    expect((await reset('?email=limited@example.com', '192.0.2.30')).statusCode).toBe(204);
    await t.service.selfService.service.flush();
    expect((await outbox(t.config)).filter((m) => m.recipient === 'limited@example.com')).toHaveLength(1);

    // Registrations per address.
    const register = (username: string) =>
      t.service.app.inject({
        method: 'POST',
        url: '/0.1/users/register',
        headers: { ...JSON_HEADERS, 'x-forwarded-for': '192.0.2.40' },
        payload: { username, password: `${username}-password`, email_address: `${username}@example.com` },
      });
    expect((await register('reg-one')).statusCode).toBe(200);
    const second = await register('reg-two');
    expect(second.statusCode).toBe(429);
    expect(second.headers['retry-after']).toBeDefined();
  });
});

describe('password reset timing', () => {
  it('answers as fast for an unknown account as for one that is mailed (the work happens after the answer)', async () => {
    const t = await startTestService('sqlite', {
      security: NO_SECURITY_LIMITS,
      self_service: { ...limits({}), rate_limits: { ...DEFAULT_CONFIG.self_service.rate_limits, enabled: false } },
    });
    const admin = await adminToken(t.service);
    await createUser(t.service, admin, {
      username: 'timed-reset',
      password: 'timed-password',
      email_address: 'timed-reset@example.com',
    });
    const kinds = {
      known: () => t.service.app.inject({ method: 'GET', url: '/0.1/users/password/reset?login=timed-reset' }),
      unknown: () => t.service.app.inject({ method: 'GET', url: '/0.1/users/password/reset?login=nobody-at-all' }),
    };
    const samples: Record<keyof typeof kinds, number[]> = { known: [], unknown: [] };
    for (const run of Object.values(kinds)) await run();
    await t.service.selfService.service.flush();
    for (let i = 0; i < 40; i++) {
      for (const [kind, run] of Object.entries(kinds) as [keyof typeof kinds, () => ReturnType<typeof kinds.known>][]) {
        const started = performance.now();
        const res = await run();
        samples[kind].push(performance.now() - started);
        expect(res.statusCode).toBe(204);
        // The background work of one sample is not the next one's.
        await t.service.selfService.service.flush();
      }
    }
    const m = { known: median(samples.known), unknown: median(samples.unknown) };
    const ratio = m.unknown / m.known;
    expect(ratio, JSON.stringify(m)).toBeGreaterThan(0.6);
    expect(ratio, JSON.stringify(m)).toBeLessThan(1.6);
    // And the known account was mailed each time.
    expect((await outbox(t.config)).filter((r) => r.recipient === 'timed-reset@example.com').length).toBe(41);
    await t.close();
  });
});

describe('templates an operator overrides', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xivo-auth-templates-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are used for the subject, both parts and the confirmation page; HTML values are escaped', async () => {
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const t = await startTestService('sqlite', {
      self_service: limits({}),
      email_confirmation_subject_template: file('subject.txt', 'Welcome {{ username }}\r\nBcc: evil@example.com'),
      email_confirmation_template: file('text.txt', 'Hi {{ username }}: {{ confirmation_url }} ({{ hostname }}:{{ port }})'),
      email_confirmation_html_template: file('html.html', '<p>Hi {{ username }}</p><a href="{{ confirmation_url }}">go</a>'),
      email_confirmation_get_response_body_template: file('page.txt', 'Confirmed: {{ email_address }}'),
      email_confirmation_get_mimetype: 'text/plain',
    });
    const admin = await adminToken(t.service);
    const user = await createUser(t.service, admin, { username: '<b>amy</b>', password: 'amy-password' });
    const put = await t.service.app.inject({
      method: 'PUT',
      url: `/0.1/admin/users/${user.uuid}/emails`,
      headers: { ...JSON_HEADERS, 'x-auth-token': admin },
      payload: { emails: [{ address: 'amy@example.com', main: true, confirmed: false }] },
    });
    const email = put.json()[0];
    const resend = await t.service.app.inject({
      method: 'GET',
      url: `/0.1/users/${user.uuid}/emails/${email.uuid}/confirm`,
      headers: { 'x-auth-token': admin },
    });
    expect(resend.statusCode, resend.body).toBe(204);
    const [row] = await outbox(t.config);
    expect(row.subject).toBe('Welcome <b>amy</b> Bcc: evil@example.com');
    const link = /https:\/\/\S+/.exec(row.text_body)![0];
    expect(row.text_body).toBe(`Hi <b>amy</b>: ${link} (auth.example.com:443)`);
    expect(link).toMatch(
      new RegExp(`^https://auth\\.example\\.com/0\\.1/emails/${email.uuid}/confirm\\?token=[A-Za-z0-9_-]{43}$`),
    );
    expect(row.html_body).toBe(`<p>Hi &lt;b&gt;amy&lt;/b&gt;</p><a href="${link}">go</a>`);
    const page = await t.service.app.inject({ method: 'GET', url: link.slice('https://auth.example.com'.length) });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/plain/);
    expect(page.body).toBe('Confirmed: amy@example.com');
    await t.close();
  });

  it('stop the start-up when unreadable or not supported, naming the key and the file', async () => {
    writeFileSync(join(dir, 'jinja.txt'), '{% if username %}Hi{% endif %}');
    writeFileSync(join(dir, 'unknown.txt'), 'Hi {{ nickname }}');
    for (const [value, expected] of [
      [join(dir, 'missing.txt'), /password_reset_email_template: .*missing\.txt cannot be read: ENOENT/],
      [join(dir, 'jinja.txt'), /password_reset_email_template: .*jinja\.txt: only \{\{ name \}\} placeholders are supported/],
      [join(dir, 'unknown.txt'), /unknown placeholder \{\{ nickname \}\}/],
    ] as const) {
      await expect(startTestService('sqlite', { password_reset_email_template: value })).rejects.toThrow(expected);
    }
  });
});

describe('two instances relaying one outbox on PostgreSQL', () => {
  it('deliver every mail once', async () => {
    const smtp = await startSmtpServer();
    const db = await createTestDatabase();
    const config = testConfig(db.uri, {
      smtp: {
        ...DEFAULT_CONFIG.smtp,
        hostname: '127.0.0.1',
        port: smtp.port,
        starttls: true,
        username: smtp.username,
        password: smtp.password,
        ca_file: smtp.caFile,
      },
      mail_outbox: { ...DEFAULT_CONFIG.mail_outbox, poll_interval_ms: 20, batch_size: 3 },
      self_service: { ...limits({}), rate_limits: { ...DEFAULT_CONFIG.self_service.rate_limits, enabled: false } },
      security: NO_SECURITY_LIMITS,
    });
    const a = await createService(config, pino({ level: 'silent' }));
    const b = await createService(config, pino({ level: 'silent' }));
    try {
      await a.listen();
      await b.listen();
      const admin = await adminToken(a);
      const addresses: string[] = [];
      for (let i = 0; i < 12; i++) {
        const address = `twice-${i}@example.com`;
        addresses.push(address);
        await createUser(i % 2 === 0 ? a : b, admin, {
          username: `twice-${i}`,
          password: 'twice-password',
          email_address: address,
        });
      }
      // Requests on both instances; each instance wakes only its own relay, the other polls.
      for (let round = 0; round < 2; round++) {
        for (const [i, address] of addresses.entries()) {
          const s = (i + round) % 2 === 0 ? a : b;
          expect((await s.app.inject({ method: 'GET', url: `/0.1/users/password/reset?email=${address}` })).statusCode).toBe(204);
        }
      }
      await smtp.waitFor(24, null, 20_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(smtp.received).toHaveLength(24);
      const ids = smtp.received.map((m) => m.parsed.messageId);
      expect(new Set(ids).size).toBe(24);
      for (const address of addresses) expect(smtp.to(address), address).toHaveLength(2);
      expect(a.selfService.relay.status().sent + b.selfService.relay.status().sent).toBe(24);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
      await smtp.close();
    }
  });
});
