// Issue 21: self-service accounts over real HTTP and real SMTP, on both
// engines. An smtp-server on a spare loopback port (STARTTLS with a
// self-signed certificate, AUTH) receives what the mail relay delivers;
// mailparser reads it. Email confirmation, password reset, registration,
// an SMTP outage (requests still answered, mails delivered once it is back,
// none twice), and bad input (the documented 4xx, nothing changed).
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import type { FakeClock } from '../../src/clock.js';
import { openStoreDialect } from '../../src/store/open-store.js';
import { iamApi } from '../helpers/iam.js';
import { basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../helpers/smtp.js';

const BASE = 'https://auth.example.com/api/auth';
const RESET_PAGE = 'https://app.example.com/reset-password#form';
const DAY_MS = 86_400_000;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of any shape
  json(): any;
}

function serviceOverrides(smtp: TestSmtpServer, extra: Record<string, unknown> = {}) {
  return {
    smtp: {
      ...DEFAULT_CONFIG.smtp,
      hostname: '127.0.0.1',
      port: smtp.port,
      starttls: true as const,
      username: smtp.username,
      password: smtp.password,
      timeout_seconds: 2,
      ca_file: smtp.caFile,
    },
    mail_outbox: { ...DEFAULT_CONFIG.mail_outbox, poll_interval_ms: 50, retry_min_ms: 100, retry_max_ms: 400, lease_seconds: 30 },
    self_service: {
      ...DEFAULT_CONFIG.self_service,
      public_base_url: BASE,
      password_reset_url: RESET_PAGE,
      rate_limits: { ...DEFAULT_CONFIG.self_service.rate_limits, enabled: false },
    },
    enabled_http_plugins: { user_registration: true },
    password_reset_from_address: 'reset@auth.example.com',
    email_confirmation_from_address: 'confirm@auth.example.com',
    security: { ...DEFAULT_CONFIG.security, rate_limits: { ...DEFAULT_CONFIG.security.rate_limits, enabled: false } },
    max_user_concurrent_sessions: 1000,
    ...extra,
  };
}

/** The first link of a mail's plain-text part. */
function linkOf(mail: ReceivedMail): URL {
  const match = /https?:\/\/\S+/.exec(mail.parsed.text ?? '');
  if (match === null) throw new Error(`no link in ${mail.parsed.text}`);
  return new URL(match[0]);
}

describe.each(ENGINES)('self-service accounts on %s', (engine) => {
  let smtp: TestSmtpServer;
  let t: TestService;
  let url: string;
  let admin: string;
  const api = iamApi(() => t);

  async function http(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(opts.token === undefined ? {} : { 'x-auth-token': opts.token }),
        ...opts.headers,
      },
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  }
  const loginStatus = async (login: string, password: string) =>
    (await http('POST', '/0.1/token', { body: {}, headers: { authorization: basic(login, password) } })).status;
  const login = async (name: string, password: string) => {
    const res = await http('POST', '/0.1/token', { body: {}, headers: { authorization: basic(name, password) } });
    expect(res.status, res.text).toBe(200);
    return res.json().data.token as string;
  };

  /** A user with `acl` (a policy of its own), and its token. */
  async function userWith(username: string, password: string, body: Record<string, unknown>, acl: string[]) {
    const created = await http('POST', '/0.1/users', { token: admin, body: { username, password, ...body } });
    expect(created.status, created.text).toBe(200);
    const user = created.json() as {
      uuid: string;
      emails: { uuid: string; address: string; main: boolean; confirmed: boolean }[];
    };
    if (acl.length > 0) {
      const policy = (await http('POST', '/0.1/policies', { token: admin, body: { name: `${username} self`, acl } })).json();
      expect((await http('PUT', `/0.1/users/${user.uuid}/policies/${policy.uuid}`, { token: admin })).status).toBe(204);
    }
    return { user, token: await login(username, password) };
  }

  async function getUser(uuid: string) {
    return (await http('GET', `/0.1/users/${uuid}`, { token: admin })).json();
  }

  /** Rows of the outbox for `recipient`, read from the database itself. */
  async function outboxRows(recipient: string) {
    const dialect = openStoreDialect(t.config.db_uri as string);
    try {
      const { rows } = await sql<{
        status: string;
        text_body: string;
        html_body: string | null;
        attempts: number;
        recipient: string;
      }>`
        select status, text_body, html_body, attempts, recipient from mail_outbox where recipient = ${recipient}`.execute(
        dialect.db,
      );
      return rows.map((r) => ({ ...r, attempts: Number(r.attempts) }));
    } finally {
      await dialect.db.destroy();
    }
  }

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await startTestService(engine, serviceOverrides(smtp) as never);
    url = await t.service.listen();
    admin = await api.adminToken();
  });

  describe('email confirmation', () => {
    it('PUT /users/{u}/emails: a new address is unconfirmed and mailed a one-time link; the link confirms it', async () => {
      const { user, token } = await userWith('carol', 'carol-password', {}, [
        'auth.users.me.emails.update',
        'auth.users.me.read',
      ]);
      const put = await http('PUT', `/0.1/users/${user.uuid}/emails`, {
        token,
        body: { emails: [{ address: 'Carol@Example.com', main: true }] },
      });
      expect(put.status, put.text).toBe(200);
      const [email] = put.json();
      expect(email).toMatchObject({ address: 'Carol@Example.com', main: true, confirmed: false });

      const [mail] = await smtp.waitFor(1, 'carol@example.com');
      // Real SMTP: STARTTLS then AUTH, from the configured sender, with both parts.
      expect(mail.secure).toBe(true);
      expect(mail.user).toBe(smtp.username);
      expect(mail.from).toBe('confirm@auth.example.com');
      expect(mail.parsed.from?.value[0]).toMatchObject({ name: 'xivo-auth', address: 'confirm@auth.example.com' });
      expect(mail.parsed.subject).toBe('Email confirmation for carol');
      expect(mail.parsed.headers.get('auto-submitted')).toBe('auto-generated');
      expect(mail.parsed.messageId).toMatch(/@xivo-auth>$/);
      const link = linkOf(mail);
      expect(`${link.origin}${link.pathname}`).toBe(`${BASE}/0.1/emails/${email.uuid}/confirm`);
      const emailed = link.searchParams.get('token') as string;
      expect(emailed).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(mail.parsed.html).toContain(`${BASE}/0.1/emails/${email.uuid}/confirm?token=${emailed}`);

      // A real token: one access, no user identity.
      expect((await http('HEAD', `/0.1/token/${emailed}`)).status).toBe(204);
      const data = (await http('GET', `/0.1/token/${emailed}`)).json().data;
      expect(data).toMatchObject({ acl: [`auth.emails.${email.uuid}.confirm.edit`], uuid: null, metadata: {} });
      expect((await http('HEAD', `/0.1/token/${emailed}?scope=auth.users.${user.uuid}.read`)).status).toBe(403);
      // Unconfirmed: not a login yet.
      expect(await loginStatus('carol@example.com', 'carol-password')).toBe(401);

      // The mail's link: GET with ?token=, answering the templated page.
      const confirmed = await http('GET', `/0.1/emails/${email.uuid}/confirm?token=${encodeURIComponent(emailed)}`);
      expect(confirmed.status, confirmed.text).toBe(200);
      expect(confirmed.headers.get('content-type')).toMatch(/^text\/html/);
      expect(confirmed.text).toContain('Email address confirmed');
      expect((await getUser(user.uuid)).emails[0].confirmed).toBe(true);
      expect(await loginStatus('CAROL@example.com', 'carol-password')).toBe(200);

      // Single use: the token is gone.
      expect((await http('HEAD', `/0.1/token/${emailed}`)).status).toBe(404);
      const again = await http('GET', `/0.1/emails/${email.uuid}/confirm?token=${encodeURIComponent(emailed)}`);
      expect(again.status).toBe(401);
      // The mail left the outbox with its bodies (they held the token) cleared.
      expect(await outboxRows('Carol@Example.com')).toEqual([
        { status: 'sent', text_body: '', html_body: null, attempts: 1, recipient: 'Carol@Example.com' },
      ]);
    });

    it('GET /users/{u}/emails/{e}/confirm sends it again (204); PUT /emails/{e}/confirm confirms (204); 409 once confirmed', async () => {
      const { user, token } = await userWith('dave', 'dave-password', {}, [
        'auth.users.me.emails.update',
        'auth.users.me.emails.*.confirm.read',
      ]);
      const [email] = (
        await http('PUT', `/0.1/users/${user.uuid}/emails`, {
          token,
          body: { emails: [{ address: 'dave@example.com', main: true }] },
        })
      ).json();
      await smtp.waitFor(1, 'dave@example.com');
      const resent = await http('GET', `/0.1/users/${user.uuid}/emails/${email.uuid}/confirm`, { token });
      expect(resent.status, resent.text).toBe(204);
      const [first, second] = await smtp.waitFor(2, 'dave@example.com');
      expect(first.parsed.messageId).not.toBe(second.parsed.messageId);
      const t1 = linkOf(first).searchParams.get('token') as string;
      const t2 = linkOf(second).searchParams.get('token') as string;
      expect(t1).not.toBe(t2);

      // Unknown address of this user: 404; another user's: 401 (the ACL names the caller's own).
      expect(
        (await http('GET', `/0.1/users/${user.uuid}/emails/00000000-0000-4000-8000-000000000009/confirm`, { token })).status,
      ).toBe(404);

      const put = await http('PUT', `/0.1/emails/${email.uuid}/confirm`, { token: t2 });
      expect(put.status, put.text).toBe(204);
      expect((await getUser(user.uuid)).emails[0].confirmed).toBe(true);
      // Confirmed: no more mail for it.
      const conflict = await http('GET', `/0.1/users/${user.uuid}/emails/${email.uuid}/confirm`, { token });
      expect(conflict.status).toBe(409);
      expect(conflict.json()).toMatchObject({ error_id: 'conflict', details: { uuid: email.uuid } });
      // The other emailed token still confirms (idempotent), once.
      expect((await http('PUT', `/0.1/emails/${email.uuid}/confirm?token=${encodeURIComponent(t1)}`)).status).toBe(204);
      expect((await http('PUT', `/0.1/emails/${email.uuid}/confirm?token=${encodeURIComponent(t1)}`)).status).toBe(401);
    });

    it('refuses a foreign token, a token of the wrong purpose, no token: 401, nothing confirmed', async () => {
      const { user, token } = await userWith('erin', 'erin-password', {}, ['auth.users.me.emails.update']);
      const [a, b] = (
        await http('PUT', `/0.1/users/${user.uuid}/emails`, {
          token,
          body: { emails: [{ address: 'erin-a@example.com', main: true }, { address: 'erin-b@example.com' }] },
        })
      ).json();
      const tokenA = linkOf((await smtp.waitFor(1, 'erin-a@example.com'))[0]).searchParams.get('token') as string;
      await smtp.waitFor(1, 'erin-b@example.com');
      // A's token on B.
      const foreign = await http('PUT', `/0.1/emails/${b.uuid}/confirm`, { token: tokenA });
      expect(foreign.status).toBe(401);
      expect(foreign.json().details).toMatchObject({ required_access: `auth.emails.${b.uuid}.confirm.update` });
      // A's token as a reset token.
      const reset = await http('POST', `/0.1/users/password/reset?user_uuid=${user.uuid}`, {
        token: tokenA,
        body: { password: 'erin-new-password' },
      });
      expect(reset.status).toBe(401);
      // The user's own token lacks the access.
      expect((await http('PUT', `/0.1/emails/${a.uuid}/confirm`, { token })).status).toBe(401);
      expect((await http('GET', `/0.1/emails/${a.uuid}/confirm`)).status).toBe(401);
      expect((await http('GET', `/0.1/emails/${a.uuid}/confirm?token=not-a-token`)).status).toBe(401);
      expect((await getUser(user.uuid)).emails.map((e: { confirmed: boolean }) => e.confirmed)).toEqual([false, false]);
      expect(await loginStatus('erin', 'erin-new-password')).toBe(401);
      // And A's token still works where it belongs.
      expect((await http('PUT', `/0.1/emails/${a.uuid}/confirm`, { token: tokenA })).status).toBe(204);
    });

    it('an expired confirmation token is refused (401) and the address stays unconfirmed', async () => {
      const { user, token } = await userWith('frank', 'frank-password', {}, ['auth.users.me.emails.update']);
      const [email] = (
        await http('PUT', `/0.1/users/${user.uuid}/emails`, {
          token,
          body: { emails: [{ address: 'frank@example.com', main: true }] },
        })
      ).json();
      const emailed = linkOf((await smtp.waitFor(1, 'frank@example.com'))[0]).searchParams.get('token') as string;
      (t.clock as FakeClock).advance(2 * DAY_MS + 1000);
      let status: number;
      try {
        status = (await http('GET', `/0.1/emails/${email.uuid}/confirm?token=${encodeURIComponent(emailed)}`)).status;
      } finally {
        (t.clock as FakeClock).advance(-(2 * DAY_MS + 1000));
      }
      expect(status).toBe(401);
      expect((await getUser(user.uuid)).emails[0].confirmed).toBe(false);
    });

    it('PUT /users/{u} by the user itself: a new email_address is unconfirmed and mailed; by an administrator: confirmed, no mail', async () => {
      const { user, token } = await userWith('gina', 'gina-password', {}, ['auth.users.me.update']);
      const own = await http('PUT', `/0.1/users/${user.uuid}`, {
        token,
        body: { username: 'gina', email_address: 'gina@example.com' },
      });
      expect(own.status, own.text).toBe(200);
      expect(own.json().emails).toEqual([expect.objectContaining({ address: 'gina@example.com', main: true, confirmed: false })]);
      const [mail] = await smtp.waitFor(1, 'gina@example.com');
      expect(linkOf(mail).pathname).toBe(`/api/auth/0.1/emails/${own.json().emails[0].uuid}/confirm`);
      expect(await loginStatus('gina@example.com', 'gina-password')).toBe(401);

      const byAdmin = await http('PUT', `/0.1/users/${user.uuid}`, {
        token: admin,
        body: { username: 'gina', email_address: 'gina@admin.example' },
      });
      expect(byAdmin.json().emails[0]).toMatchObject({ address: 'gina@admin.example', confirmed: true });
      expect(await loginStatus('gina@admin.example', 'gina-password')).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(smtp.to('gina@admin.example')).toHaveLength(0);
    });
  });

  describe('password reset', () => {
    async function resetMail(address: string, count = 1): Promise<{ token: string; userUuid: string; mail: ReceivedMail }> {
      const mails = await smtp.waitFor(count, address);
      const mail = mails[count - 1];
      const link = linkOf(mail);
      return { token: link.searchParams.get('token') as string, userUuid: link.searchParams.get('user_uuid') as string, mail };
    }

    it('mails a one-time reset link to the main confirmed address; the token sets the password and ends every session', async () => {
      const { user } = await userWith('hank', 'hank-password-0', { email_address: 'hank@example.com' }, []);
      const session = await login('hank', 'hank-password-0');
      const offline = await http('POST', '/0.1/token', {
        body: { access_type: 'offline', client_id: 'hank-app' },
        headers: { authorization: basic('hank', 'hank-password-0') },
      });
      expect(offline.status).toBe(200);

      const asked = await http('GET', '/0.1/users/password/reset?username=HANK');
      expect(asked.status, asked.text).toBe(204);
      expect(asked.text).toBe('');
      const { token, userUuid, mail } = await resetMail('hank@example.com');
      expect(mail.from).toBe('reset@auth.example.com');
      expect(mail.parsed.subject).toBe('New password requested');
      const link = linkOf(mail);
      // The configured page, ?token=…&user_uuid=…, its fragment kept.
      expect(`${link.origin}${link.pathname}`).toBe('https://app.example.com/reset-password');
      expect(link.search).toBe(`?token=${token}&user_uuid=${user.uuid}`);
      expect(link.hash).toBe('#form');
      expect(userUuid).toBe(user.uuid);
      const data = (await http('GET', `/0.1/token/${token}`)).json().data;
      expect(data).toMatchObject({ acl: [`auth.users.password.reset.${user.uuid}.create`], uuid: null, metadata: {} });

      // The policy applies: 400 with the reason, nothing changed, the token still usable.
      const weak = await http('POST', `/0.1/users/password/reset?user_uuid=${user.uuid}`, { token, body: { password: 'short' } });
      expect(weak.status).toBe(400);
      expect(weak.json()).toMatchObject({ error_id: 'invalid-data', details: { password: { constraint_id: 'min_length' } } });
      expect((await http('HEAD', `/0.1/token/${session}`)).status).toBe(204);

      const done = await http('POST', `/0.1/users/password/reset?user_uuid=${user.uuid}`, {
        token,
        body: { password: 'hank-password-1' },
      });
      expect(done.status, done.text).toBe(204);
      expect(await loginStatus('hank', 'hank-password-0')).toBe(401);
      expect(await loginStatus('hank', 'hank-password-1')).toBe(200);
      // Every session, token and refresh token of the user is gone, and the reset token with them.
      expect((await http('HEAD', `/0.1/token/${session}`)).status).toBe(404);
      expect((await http('GET', `/0.1/users/${user.uuid}/tokens`, { token: admin })).json().total).toBe(0);
      expect((await http('HEAD', `/0.1/token/${token}`)).status).toBe(404);
      expect(
        (await http('POST', `/0.1/users/password/reset?user_uuid=${user.uuid}`, { token, body: { password: 'hank-password-2' } }))
          .status,
      ).toBe(401);
      expect(await loginStatus('hank', 'hank-password-1')).toBe(200);
    });

    it('finds the account by email= or login=, takes ?token=, and {"password": null} removes the password', async () => {
      const { user } = await userWith('ivan', 'ivan-password-0', { email_address: 'ivan@example.com' }, []);
      expect((await http('GET', '/0.1/users/password/reset?email=IVAN@example.com')).status).toBe(204);
      const first = await resetMail('ivan@example.com');
      expect((await http('GET', '/0.1/users/password/reset?login=ivan@example.com')).status).toBe(204);
      const second = await resetMail('ivan@example.com', 2);
      expect(second.token).not.toBe(first.token);

      const removed = await http(
        'POST',
        `/0.1/users/password/reset?user_uuid=${user.uuid}&token=${encodeURIComponent(first.token)}`,
        { body: { password: null } },
      );
      expect(removed.status, removed.text).toBe(204);
      expect(await loginStatus('ivan', 'ivan-password-0')).toBe(401);
      // The reset revoked the other pending reset token too.
      expect((await http('HEAD', `/0.1/token/${second.token}`)).status).toBe(404);
    });

    it('a later password change revokes a pending reset token', async () => {
      const { user } = await userWith('judy', 'judy-password-0', { email_address: 'judy@example.com' }, [
        `auth.users.me.password.update`,
      ]);
      expect((await http('GET', '/0.1/users/password/reset?login=judy')).status).toBe(204);
      const { token } = await resetMail('judy@example.com');
      const own = await login('judy', 'judy-password-0');
      expect(
        (
          await http('PUT', `/0.1/users/${user.uuid}/password`, {
            token: own,
            body: { old_password: 'judy-password-0', new_password: 'judy-password-1' },
          })
        ).status,
      ).toBe(204);
      expect((await http('HEAD', `/0.1/token/${token}`)).status).toBe(404);
      expect(
        (await http('POST', `/0.1/users/password/reset?user_uuid=${user.uuid}`, { token, body: { password: 'judy-password-2' } }))
          .status,
      ).toBe(401);
      expect(await loginStatus('judy', 'judy-password-1')).toBe(200);
    });

    it('refuses bad input, an expired token, a token for another user: the documented 4xx, nothing changed', async () => {
      const { user } = await userWith('kate', 'kate-password', { email_address: 'kate@example.com' }, []);
      const other = await userWith('leon', 'leon-password', { email_address: 'leon@example.com' }, []);
      for (const query of ['', '?username=kate&email=kate@example.com', '?login=kate&username=kate']) {
        const res = await http('GET', `/0.1/users/password/reset${query}`);
        expect(res.status, query).toBe(400);
        expect(res.json()).toMatchObject({ error_id: 'invalid-data', message: '"username", "email" or "login" should be used' });
      }
      for (const query of ['?email=not-an-address', '?username=', `?login=${'x'.repeat(300)}`]) {
        expect((await http('GET', `/0.1/users/password/reset${query}`)).status, query).toBe(400);
      }
      expect((await http('GET', '/0.1/users/password/reset?username=kate')).status).toBe(204);
      const { token } = await resetMail('kate@example.com');
      // Another user's uuid with this token: 401.
      const foreign = await http('POST', `/0.1/users/password/reset?user_uuid=${other.user.uuid}`, {
        token,
        body: { password: 'stolen-password' },
      });
      expect(foreign.status).toBe(401);
      expect(foreign.json().details).toMatchObject({ required_access: `auth.users.password.reset.${other.user.uuid}.create` });
      // No user_uuid, no body, a bad body, no token: 400/401.
      expect((await http('POST', '/0.1/users/password/reset', { token, body: { password: 'kate-password-1' } })).status).toBe(
        400,
      );
      expect(
        (await http('POST', `/0.1/users/password/reset?user_uuid=${user.uuid}`, { token, body: { pass: 'x' } })).status,
      ).toBe(400);
      expect(
        (await http('POST', `/0.1/users/password/reset?user_uuid=${user.uuid}`, { token, body: { password: 42 } })).status,
      ).toBe(400);
      expect(
        (await http('POST', `/0.1/users/password/reset?user_uuid=${user.uuid}`, { body: { password: 'kate-password-1' } }))
          .status,
      ).toBe(401);
      // Expired.
      (t.clock as FakeClock).advance(2 * DAY_MS + 1000);
      try {
        expect(
          (
            await http('POST', `/0.1/users/password/reset?user_uuid=${user.uuid}`, {
              token,
              body: { password: 'kate-password-1' },
            })
          ).status,
        ).toBe(401);
        expect((await http('HEAD', `/0.1/token/${token}`)).status).toBe(404);
      } finally {
        (t.clock as FakeClock).advance(-(2 * DAY_MS + 1000));
      }
      expect(await loginStatus('kate', 'kate-password')).toBe(200);
      expect(await loginStatus('leon', 'leon-password')).toBe(200);
    });

    it('answers 204 for an unknown account, one without a confirmed address, or a disabled one, and mails nothing', async () => {
      const { user } = await userWith('mona', 'mona-password', {}, []);
      await http('PUT', `/0.1/admin/users/${user.uuid}/emails`, {
        token: admin,
        body: { emails: [{ address: 'mona@example.com', main: true, confirmed: false }] },
      });
      const disabled = await userWith('nina', 'nina-password', { email_address: 'nina@example.com' }, []);
      await http('PUT', `/0.1/users/${disabled.user.uuid}`, { token: admin, body: { username: 'nina', enabled: false } });
      for (const query of [
        '?username=nobody-here',
        '?email=nobody@example.com',
        '?login=mona',
        '?email=mona@example.com',
        '?username=nina',
      ]) {
        const res = await http('GET', `/0.1/users/password/reset${query}`);
        expect(res.status, query).toBe(204);
        expect(res.text).toBe('');
      }
      await t.service.selfService.service.flush();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(smtp.to('mona@example.com')).toHaveLength(0);
      expect(smtp.to('nina@example.com')).toHaveLength(0);
      expect(await outboxRows('mona@example.com')).toEqual([]);
      // Audited, without revealing anything to the caller.
      const audit = (await http('GET', '/0.1/audit?limit=100&search=password', { token: admin })).json();
      const requests = audit.items.filter((r: { action: string }) => r.action === 'users.password.reset.request');
      expect(
        requests.map((r: { login: string; details: { mailed: boolean; reason?: string } }) => [
          r.login,
          r.details.mailed,
          r.details.reason,
        ]),
      ).toEqual(
        expect.arrayContaining([
          ['nobody-here', false, 'unknown_login'],
          ['mona', false, 'no_confirmed_address'],
          ['nina', false, 'disabled'],
        ]),
      );
    });
  });

  describe('registration', () => {
    it('POST /users/register: a tenant named after the username, the user, its unconfirmed address, and the confirmation mail', async () => {
      const res = await http('POST', '/0.1/users/register', {
        body: { username: 'olga', password: 'olga-password', firstname: 'Olga', email_address: 'olga@example.com' },
      });
      expect(res.status, res.text).toBe(200);
      const user = res.json();
      expect(user).toMatchObject({ username: 'olga', firstname: 'Olga', purpose: 'user', enabled: true });
      expect(user.emails).toEqual([expect.objectContaining({ address: 'olga@example.com', main: true, confirmed: false })]);
      const tenant = (await http('GET', `/0.1/tenants/${user.tenant_uuid}`, { token: admin })).json();
      expect(tenant).toMatchObject({ uuid: user.tenant_uuid, name: 'olga' });
      expect(await loginStatus('olga', 'olga-password')).toBe(200);

      const [mail] = await smtp.waitFor(1, 'olga@example.com');
      const link = linkOf(mail);
      const confirmed = await http('GET', `${link.pathname.replace('/api/auth', '')}${link.search}`);
      expect(confirmed.status).toBe(200);
      expect(await loginStatus('olga@example.com', 'olga-password')).toBe(200);

      // Taken username or address: 409, nothing created; weak password: 400.
      for (const body of [
        { username: 'OLGA', password: 'olga-password', email_address: 'olga2@example.com' },
        { username: 'olga2', password: 'olga-password', email_address: 'Olga@example.com' },
      ]) {
        const again = await http('POST', '/0.1/users/register', { body });
        expect(again.status, JSON.stringify(body)).toBe(409);
      }
      expect(
        (
          await http('POST', '/0.1/users/register', {
            body: { username: 'olga3', password: 'short', email_address: 'o3@example.com' },
          })
        ).status,
      ).toBe(400);
      expect((await http('POST', '/0.1/users/register', { body: { username: 'olga3', password: 'olga-password' } })).status).toBe(
        400,
      );
      const tenants = (await http('GET', '/0.1/tenants?search=olga', { token: admin })).json();
      expect(tenants.items.map((x: { name: string }) => x.name)).toEqual(['olga']);
    });
  });

  describe('an SMTP outage', () => {
    it('leaves requests answered at once; the mails wait in the outbox and are each delivered once when the server is back', async () => {
      const users = await Promise.all(
        ['pete', 'quinn', 'rosa'].map((name) => userWith(name, `${name}-password`, { email_address: `${name}@example.com` }, [])),
      );
      await smtp.stop();
      try {
        for (const { user } of users) {
          const started = performance.now();
          const res = await http('GET', `/0.1/users/password/reset?username=${user.emails[0].address.split('@')[0]}`);
          expect(res.status).toBe(204);
          expect(performance.now() - started).toBeLessThan(1000);
        }
        const reg = await http('POST', '/0.1/users/register', {
          body: { username: 'sam', password: 'sam-password', email_address: 'sam@example.com' },
        });
        expect(reg.status).toBe(200);
        await t.service.selfService.service.flush();
        // The relay tried and failed; /status says so, without failing the service.
        let status: Answer;
        for (let i = 0; ; i += 1) {
          status = await http('GET', '/0.1/status');
          if (status.json().mail.failures > 0 || i > 100) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(status.status).toBe(200);
        expect(status.json().mail).toMatchObject({ status: 'fail', pending: 4 });
        expect(status.json().mail.failures).toBeGreaterThan(0);
        expect(status.json().mail.last_error).toEqual(expect.any(String));
        const metrics = (await http('GET', '/metrics')).text;
        expect(metrics).toMatch(/xivo_auth_mail_outbox_pending\{state="retrying"\} [1-9]/);
        expect(metrics).toMatch(/xivo_auth_mail_deliveries_total\{kind="password_reset",result="failed"\} [1-9]/);
      } finally {
        await smtp.start();
      }
      // Past the back-off (the clock of the test moves only when told).
      (t.clock as FakeClock).advance(1000);
      for (const address of ['pete@example.com', 'quinn@example.com', 'rosa@example.com', 'sam@example.com'])
        await smtp.waitFor(1, address);
      (t.clock as FakeClock).advance(1000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (const address of ['pete@example.com', 'quinn@example.com', 'rosa@example.com', 'sam@example.com']) {
        expect(smtp.to(address), address).toHaveLength(1);
      }
      const ids = smtp.received.map((m) => m.parsed.messageId);
      expect(new Set(ids).size).toBe(ids.length);
      const status = (await http('GET', '/0.1/status')).json().mail;
      expect(status).toMatchObject({ status: 'ok', pending: 0, failures: 0, last_error: null });
      // The delivered links work.
      const link = linkOf(smtp.to('pete@example.com')[0]);
      const res = await http(
        'POST',
        `/0.1/users/password/reset?user_uuid=${link.searchParams.get('user_uuid')}&token=${link.searchParams.get('token')}`,
        { body: { password: 'pete-password-1' } },
      );
      expect(res.status).toBe(204);
    });

    it('drops a mail whose link expired before the server came back', async () => {
      await userWith('tina', 'tina-password', { email_address: 'tina@example.com' }, []);
      await smtp.stop();
      try {
        expect((await http('GET', '/0.1/users/password/reset?username=tina')).status).toBe(204);
        await t.service.selfService.service.flush();
        (t.clock as FakeClock).advance(2 * DAY_MS + 1000);
        for (let i = 0; i < 100 && (await outboxRows('tina@example.com'))[0]?.status !== 'expired'; i += 1) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(await outboxRows('tina@example.com')).toEqual([
          expect.objectContaining({ status: 'expired', text_body: '', html_body: null }),
        ]);
      } finally {
        (t.clock as FakeClock).advance(-(2 * DAY_MS + 1000));
        await smtp.start();
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(smtp.to('tina@example.com')).toHaveLength(0);
    });
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = (await http('GET', '/0.1/api/api.yml')).text;
    for (const path of [
      '/0.1/users/password/reset:',
      '/0.1/emails/{email_uuid}/confirm:',
      '/0.1/users/{user_uuid}/emails/{email_uuid}/confirm:',
      '/0.1/users/register:',
    ]) {
      expect(doc, path).toContain(path);
    }
  });

  it('never puts a token in an audit record', async () => {
    const audit = (await http('GET', '/0.1/audit?limit=10000', { token: admin })).json();
    const text = JSON.stringify(audit.items);
    for (const mail of smtp.received) {
      const token = linkOf(mail).searchParams.get('token') as string;
      expect(text).not.toContain(token);
    }
  });
});
