// Self-service accounts (issue 21): email confirmation, password reset and
// registration. HTTP-free: the routes (src/http/routes/self-service.ts)
// hand it plain values.
//
// Every mail carries a real token, emailed: 256 random bits, only its
// SHA-256 stored (a row of `tokens`, with a session in the top tenant as
// wazo-auth does), one access in its ACL (`auth.emails.{e}.confirm.edit`,
// `auth.users.password.reset.{u}.create`), no user identity (no user or
// tenant, empty metadata), and a link row (emailed_tokens) naming the user
// and, for a confirmation, the address. The token, its link and the mail
// that carries it are written in one transaction with the change that asks
// for them; the mail relay (src/mail/relay.ts) delivers it later, so an SMTP
// outage never fails a request. A token is used once: the request that uses
// it deletes it in the transaction of its change. A password change, a
// reset or a disable deletes the user's pending reset tokens with its
// sessions (store: removeUserSessions).
//
// A reset request answers 204 at once, whatever the account, and does its
// work in the background: the answer's content and time cannot tell
// whether the account exists or a mail was sent.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { ConflictError, DomainError, NotFoundError, ServiceUnavailableError, UnauthorizedError } from '../errors.js';
import type { MailTemplates } from '../mail/templates.js';
import { subjectLine } from '../mail/templates.js';
import type { MailKind, NewMail } from '../mail/types.js';
import type { PasswordHasher } from '../passwords/hasher.js';
import type { AuditRecorder } from '../security/audit.js';
import type { PasswordPolicy } from '../security/password-policy.js';
import { RateLimitedError } from '../security/errors.js';
import { RateLimiter } from '../security/rate-limit.js';
import { StoreConflictError } from '../storage-errors.js';
import type { User, UserEmail } from './types.js';
import type { SelfServiceStore, SelfServiceStoreTx } from './store.js';
import type { TokenRecord, UserRevocation } from '../tokens/types.js';
import { generateToken, hashToken } from '../tokens/material.js';
import type { TokenRevocations } from './token-revocations.js';
import { allUsersGroup } from './groups.js';
import { slugify } from './scope.js';
import type { EmailedTokenPurpose, EmailedTokenTx } from './self-service-store.js';

/** auth_id of emailed tokens: they speak for the service, not for a user. */
export const EMAILED_TOKEN_AUTH_ID = 'xivo-auth';
const EMAILED_TOKEN_USER_AGENT = 'xivo-auth-email';

export const confirmationAccess = (emailUuid: string) => `auth.emails.${emailUuid}.confirm.edit`;
export const resetAccess = (userUuid: string) => `auth.users.password.reset.${userUuid}.create`;

/** A token bucket of the configuration: `per_hour` (0: off) and `burst`. */
export interface HourlyRate {
  per_hour: number;
  burst: number;
}

export interface SelfServiceOptions {
  /** Where the emailed tokens' sessions live (as wazo-auth). */
  topTenantUuid: string;
  xivoUuid: string | null;
  /** Links of the mails: `<publicBaseUrl>/0.1/...`, without a trailing slash. */
  publicBaseUrl: string;
  /** The page of the reset link (`?token=…&user_uuid=…` is added). */
  passwordResetUrl: string;
  confirmation: { lifetimeSeconds: number; fromName: string; fromAddress: string };
  reset: { lifetimeSeconds: number; fromName: string; fromAddress: string };
  /** null: no limit. */
  rateLimits: {
    resetPerAddress: HourlyRate;
    resetPerLogin: HourlyRate;
    mailsPerAccount: HourlyRate;
    registrationsPerAddress: HourlyRate;
  } | null;
  /** Reset requests handled in the background at once; more: 503. */
  maxPendingRequests: number;
}

/** How a reset request names the account (exactly one). */
export type ResetLogin = { by: 'username' | 'email' | 'login'; value: string };

export interface RegistrationInput {
  username: string;
  password: string;
  firstname: string | null;
  lastname: string | null;
  emailAddress: string;
}

/** Limit per key, or none when the rate is 0 or limits are off. */
function limiter(rate: HourlyRate | undefined): RateLimiter | null {
  if (rate === undefined || rate.per_hour <= 0) return null;
  return new RateLimiter({ per_second: rate.per_hour / 3600, burst: rate.burst }, 100_000);
}

/** "2026-01-03 10:00 UTC" */
function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `url` with `query` added (before any #fragment). */
function withQuery(url: string, query: string): string {
  const hash = url.indexOf('#');
  const [base, fragment] = hash === -1 ? [url, ''] : [url.slice(0, hash), url.slice(hash)];
  return `${base}${base.includes('?') ? '&' : '?'}${query}${fragment}`;
}

export class SelfService {
  private readonly limits: {
    resetPerAddress: RateLimiter | null;
    resetPerLogin: RateLimiter | null;
    mailsPerAccount: RateLimiter | null;
    registrationsPerAddress: RateLimiter | null;
  };
  private readonly background = new Set<Promise<void>>();
  private readonly hostname: string;
  private readonly port: string;

  constructor(
    private readonly store: SelfServiceStore,
    private readonly hasher: PasswordHasher,
    private readonly tokens: Pick<TokenRevocations, 'forget'>,
    private readonly clock: Clock,
    private readonly templates: MailTemplates,
    private readonly options: SelfServiceOptions,
    private readonly logger: Pick<Logger, 'warn' | 'debug'>,
    private readonly audit: AuditRecorder | null = null,
    private readonly passwordPolicy: PasswordPolicy | null = null,
    /** After a commit that queued mails (wakes the relay). */
    private readonly mailsQueued: () => void = () => undefined,
  ) {
    const r = options.rateLimits;
    this.limits = {
      resetPerAddress: limiter(r?.resetPerAddress),
      resetPerLogin: limiter(r?.resetPerLogin),
      mailsPerAccount: limiter(r?.mailsPerAccount),
      registrationsPerAddress: limiter(r?.registrationsPerAddress),
    };
    const url = new URL(options.publicBaseUrl);
    this.hostname = url.hostname;
    this.port = url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80';
  }

  // ---- email confirmation

  /**
   * In the caller's transaction: a confirmation mail for each address (new
   * addresses a user set for itself). Beyond the account's mail limit, the
   * addresses stay unconfirmed without a mail (a re-send can follow).
   * Returns how many mails were queued.
   */
  async mailConfirmationsIn(
    tx: EmailedTokenTx,
    user: User,
    emails: UserEmail[],
    remoteAddr: string | null = null,
  ): Promise<number> {
    let queued = 0;
    for (const email of emails) {
      if (email.confirmed) continue;
      if ((this.limits.mailsPerAccount?.take(user.uuid) ?? 0) > 0) {
        this.logger.debug({ user_uuid: user.uuid }, 'confirmation mail not sent: mails_per_account reached');
        continue;
      }
      await this.queueConfirmation(tx, user, email, remoteAddr);
      queued += 1;
    }
    return queued;
  }

  /** After the commit of mailConfirmationsIn: wake the relay. */
  committedMails(count: number): void {
    if (count > 0) this.mailsQueued();
  }

  /** GET /users/{u}/emails/{e}/confirm: a new confirmation mail (409 when already confirmed). */
  async resendConfirmation(user: User, emailUuid: string, remoteAddr: string | null): Promise<void> {
    const email = user.emails.find((e) => e.uuid.toLowerCase() === emailUuid.toLowerCase());
    if (email === undefined) throw new NotFoundError('unknown-email', 'emails', emailUuid);
    if (email.confirmed) {
      throw new DomainError(
        409,
        'conflict',
        `This email already confirmed: "${email.uuid}"`,
        { uuid: email.uuid },
        { resource: 'emails' },
      );
    }
    const wait = this.limits.mailsPerAccount?.take(user.uuid) ?? 0;
    if (wait > 0) throw new RateLimitedError(wait);
    await this.store.transaction((tx) => this.queueConfirmation(tx, user, email, remoteAddr));
    this.mailsQueued();
    this.audit?.record({
      action: 'users.emails.confirm.request',
      outcome: 'success',
      tenantUuid: user.tenantUuid,
      remoteAddr,
      targetType: 'users',
      targetId: user.uuid,
      statusCode: 204,
      details: { email_uuid: email.uuid },
    });
  }

  /**
   * GET|PUT /emails/{e}/confirm, with a token the route found granting
   * `auth.emails.{e}.confirm.update`. An emailed token is used up (deleted
   * with the confirmation; a second use finds it gone: 401); any other token
   * granting the access (an administrator's) is left alone.
   */
  async confirmEmail(
    emailUuid: string,
    token: string,
    access: string,
    via: 'link' | 'api',
    remoteAddr: string | null,
  ): Promise<{ email: UserEmail; userUuid: string }> {
    const hash = hashToken(token);
    let used: UserRevocation | null = null;
    const confirmed = await this.store.transaction(async (tx) => {
      used = await this.useEmailedToken(tx, hash, 'email_confirmation', (link) => link.emailUuid === emailUuid, token, access);
      const found = await tx.findUserEmail(emailUuid);
      if (found === null) throw new NotFoundError('unknown-email', 'emails', emailUuid);
      await tx.confirmUserEmail(emailUuid);
      return { email: { ...found.email, confirmed: true }, userUuid: found.userUuid };
    });
    this.tokens.forget(used);
    // PUT is audited as every change (emails.confirm.update); the mail link's GET here.
    if (via === 'link') {
      this.audit?.record({
        action: 'emails.confirm.update',
        outcome: 'success',
        remoteAddr,
        targetType: 'emails',
        targetId: emailUuid,
        statusCode: 200,
        details: { params: { email_uuid: emailUuid }, user_uuid: confirmed.userUuid },
      });
    }
    return confirmed;
  }

  /** The answer of the confirmation link. */
  confirmedPage(result: { email: UserEmail }, html: boolean): string {
    return this.templates.confirmedPage.render({ email_uuid: result.email.uuid, email_address: result.email.address }, { html });
  }

  // ---- password reset

  /**
   * GET /users/password/reset: limits are checked now (429, the same for
   * every login, known or not); the rest happens in the background.
   */
  requestPasswordReset(login: ResetLogin, remoteAddr: string): void {
    const perAddress = this.limits.resetPerAddress?.take(remoteAddr) ?? 0;
    if (perAddress > 0) throw new RateLimitedError(perAddress);
    const perLogin = this.limits.resetPerLogin?.take(login.value.toLowerCase()) ?? 0;
    if (perLogin > 0) throw new RateLimitedError(perLogin);
    if (this.background.size >= this.options.maxPendingRequests) {
      throw new ServiceUnavailableError('Too many password reset requests in progress', 1);
    }
    // After this request's answer: nothing of the lookup runs before it.
    const job = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.mailReset(login, remoteAddr))
      .catch((err: unknown) => {
        this.logger.warn(
          { err: { message: (err as Error).message, name: (err as Error).name } },
          'password reset request failed',
        );
      });
    this.background.add(job);
    void job.finally(() => this.background.delete(job));
  }

  /** Waits for the reset requests in progress (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  private async mailReset(login: ResetLogin, remoteAddr: string): Promise<void> {
    const userUuid =
      login.by === 'username'
        ? await this.store.findUserUuidByUsername(login.value)
        : login.by === 'email'
          ? await this.store.findUserUuidByConfirmedEmail(login.value)
          : ((await this.store.findUserByLogin(login.value))?.uuid ?? null);
    const user = userUuid === null ? null : await this.store.getUser(userUuid);
    const confirmed = user?.emails.filter((e) => e.confirmed) ?? [];
    // The address asked for, else the main one, else any confirmed one.
    const address =
      confirmed.find((e) => login.by === 'email' && e.address.toLowerCase() === login.value.toLowerCase()) ??
      confirmed.find((e) => e.main) ??
      confirmed[0] ??
      null;
    let outcome: string;
    if (user === null) outcome = 'unknown_login';
    else if (!user.enabled) outcome = 'disabled';
    else if (address === null) outcome = 'no_confirmed_address';
    else if ((this.limits.mailsPerAccount?.take(user.uuid) ?? 0) > 0) outcome = 'mails_per_account';
    else {
      await this.store.transaction((tx) => this.queueReset(tx, user, address, remoteAddr));
      this.mailsQueued();
      outcome = 'mailed';
    }
    this.audit?.record({
      action: 'users.password.reset.request',
      outcome: 'success',
      tenantUuid: user?.tenantUuid ?? null,
      login: login.value,
      remoteAddr,
      targetType: 'users',
      targetId: user?.uuid ?? null,
      statusCode: 204,
      details: { by: login.by, mailed: outcome === 'mailed', ...(outcome === 'mailed' ? {} : { reason: outcome }) },
    });
  }

  /**
   * POST /users/password/reset?user_uuid=, with a token the route found
   * granting `auth.users.password.reset.{u}.create`: sets the password (the
   * policy applies: 400 before anything changes) or removes it (null), uses
   * the token up, and ends every session, token and refresh token of the
   * user, in one transaction.
   */
  async resetPassword(
    userUuid: string,
    token: string,
    access: string,
    password: string | null,
    remoteAddr: string | null,
  ): Promise<void> {
    if (password !== null) this.passwordPolicy?.assertAcceptable(password);
    const passwordHash = password === null ? null : await this.hasher.hash(password);
    const hash = hashToken(token);
    let used: UserRevocation | null = null;
    let revoked: UserRevocation | null = null;
    let user: User | null = null;
    try {
      await this.store.transaction(async (tx) => {
        used = await this.useEmailedToken(tx, hash, 'password_reset', (link) => link.userUuid === userUuid, token, access);
        user = await tx.getUser(userUuid);
        if (user === null) throw new NotFoundError('unknown-user', 'users', userUuid);
        await tx.setUserPassword(userUuid, passwordHash);
        revoked = await tx.deleteUserSessions(userUuid, { refreshTokens: true });
      });
    } finally {
      this.tokens.forget(used);
      this.tokens.forget(revoked);
    }
    const done = revoked as UserRevocation | null;
    const target = user as User | null;
    if (done !== null && target !== null && done.refreshTokens.length > 0) {
      this.audit?.record({
        action: 'users.refresh_tokens.revoke',
        outcome: 'success',
        tenantUuid: target.tenantUuid,
        remoteAddr,
        targetType: 'users',
        targetId: target.uuid,
        details: {
          reason: password === null ? 'password_removed' : 'password_reset',
          client_ids: done.refreshTokens.map((rt) => rt.clientId),
        },
      });
    }
  }

  // ---- registration

  /** POST /users/register: a tenant named after the username, the user, its unconfirmed address and the confirmation mail, in one transaction. */
  async register(input: RegistrationInput, remoteAddr: string): Promise<User> {
    const wait = this.limits.registrationsPerAddress?.take(remoteAddr) ?? 0;
    if (wait > 0) throw new RateLimitedError(wait);
    this.passwordPolicy?.assertAcceptable(input.password);
    const passwordHash = await this.hasher.hash(input.password);
    const tenantUuid = randomUUID();
    const slug = slugify(input.username, `t_${tenantUuid.slice(0, 8)}`);
    const attempt = (tenantSlug: string) =>
      this.store.transaction(async (tx) => {
        const tenant = await tx.createTenant({
          uuid: tenantUuid,
          name: input.username,
          slug: tenantSlug,
          parentUuid: this.options.topTenantUuid,
        });
        await tx.createGroup(allUsersGroup(tenant.uuid));
        const user = await tx.createUser({
          uuid: randomUUID(),
          tenantUuid: tenant.uuid,
          username: input.username,
          firstname: input.firstname,
          lastname: input.lastname,
          emailAddress: input.emailAddress,
          emailConfirmed: false,
          passwordHash,
          purpose: 'user',
          enabled: true,
          createdAt: this.clock.now(),
        });
        await this.queueConfirmation(tx, user, user.emails[0], remoteAddr);
        return user;
      });
    let user: User;
    try {
      try {
        user = await attempt(slug);
      } catch (err) {
        // A slug derived from the name may be taken: one more try with a suffix.
        if (!(err instanceof StoreConflictError && err.field === 'slug')) throw err;
        user = await attempt(`${slug.slice(0, 73)}_${randomUUID().slice(0, 6)}`);
      }
    } catch (err) {
      if (err instanceof StoreConflictError) {
        const field = err.field === 'username' || err.field === 'email_address' ? err.field : undefined;
        throw new ConflictError(
          'users',
          field,
          field === undefined
            ? 'This account cannot be registered'
            : `This ${field} is already another user's username or email address`,
        );
      }
      throw err;
    }
    this.mailsQueued();
    return user;
  }

  // ---- emailed tokens and mails

  /**
   * Uses the presented token up when it is an emailed one: its link must be
   * of `purpose` and `matches` (else 401, as for a token lacking the
   * access), and deleting it must succeed (a concurrent use took it: 401).
   * Null for any other token granting the access (left alone).
   */
  private async useEmailedToken(
    tx: SelfServiceStoreTx,
    hash: string,
    purpose: EmailedTokenPurpose,
    matches: (link: { userUuid: string; emailUuid: string | null }) => boolean,
    token: string,
    access: string,
  ): Promise<UserRevocation | null> {
    const link = await tx.findEmailedToken(hash);
    if (link === null) return null;
    if (link.purpose !== purpose || !matches(link))
      throw new UnauthorizedError(token, 'missing_permission_or_invalid_tenant', access);
    const removal = await tx.deleteToken(hash);
    if (removal === null) throw new UnauthorizedError(token, 'not_found_or_expired', access);
    return { ...removal, refreshTokens: [] };
  }

  /** An emailed token (session, token, link) in `tx`; returns the token and its expiry. */
  private async issueEmailedToken(
    tx: EmailedTokenTx,
    link: { purpose: EmailedTokenPurpose; userUuid: string; emailUuid: string | null },
    acl: string,
    lifetimeSeconds: number,
    remoteAddr: string | null,
  ): Promise<{ token: string; expiresAt: number }> {
    const now = this.clock.now();
    const token = generateToken();
    const record: TokenRecord = {
      hash: hashToken(token),
      sessionUuid: randomUUID(),
      authId: EMAILED_TOKEN_AUTH_ID,
      userUuid: null,
      tenantUuid: null,
      pbxUserUuid: null,
      xivoUuid: this.options.xivoUuid,
      issuedAt: now,
      expiresAt: now + lifetimeSeconds * 1000,
      acl: [acl],
      metadata: {},
      remoteAddr,
      userAgent: EMAILED_TOKEN_USER_AGENT,
      refreshTokenUuid: null,
    };
    await tx.createSession({
      uuid: record.sessionUuid,
      tenantUuid: this.options.topTenantUuid,
      userUuid: null,
      mobile: false,
      createdAt: now,
    });
    await tx.insertToken(record);
    await tx.linkEmailedToken({ tokenHash: record.hash, ...link, createdAt: now, expiresAt: record.expiresAt });
    return { token, expiresAt: record.expiresAt };
  }

  private async queueConfirmation(tx: EmailedTokenTx, user: User, email: UserEmail, remoteAddr: string | null): Promise<void> {
    const { lifetimeSeconds, fromName, fromAddress } = this.options.confirmation;
    const { token, expiresAt } = await this.issueEmailedToken(
      tx,
      { purpose: 'email_confirmation', userUuid: user.uuid, emailUuid: email.uuid },
      confirmationAccess(email.uuid),
      lifetimeSeconds,
      remoteAddr,
    );
    const values = {
      ...this.commonValues(user, email.address, token, expiresAt),
      email_uuid: email.uuid,
      user_uuid: user.uuid,
      confirmation_url: `${this.options.publicBaseUrl}/0.1/emails/${email.uuid}/confirm?token=${encodeURIComponent(token)}`,
    };
    await tx.enqueueMail(
      this.mail('email_confirmation', user, email.address, fromName, fromAddress, this.templates.confirmation, values, expiresAt),
    );
  }

  private async queueReset(tx: EmailedTokenTx, user: User, email: UserEmail, remoteAddr: string | null): Promise<void> {
    const { lifetimeSeconds, fromName, fromAddress } = this.options.reset;
    const { token, expiresAt } = await this.issueEmailedToken(
      tx,
      { purpose: 'password_reset', userUuid: user.uuid, emailUuid: null },
      resetAccess(user.uuid),
      lifetimeSeconds,
      remoteAddr,
    );
    const values = {
      ...this.commonValues(user, email.address, token, expiresAt),
      user_uuid: user.uuid,
      reset_url: withQuery(
        this.options.passwordResetUrl,
        `token=${encodeURIComponent(token)}&user_uuid=${encodeURIComponent(user.uuid)}`,
      ),
    };
    await tx.enqueueMail(
      this.mail('password_reset', user, email.address, fromName, fromAddress, this.templates.reset, values, expiresAt),
    );
  }

  private commonValues(user: User, address: string, token: string, expiresAt: number) {
    return {
      username: user.username ?? address,
      email_address: address,
      token,
      hostname: this.hostname,
      port: this.port,
      base_url: this.options.publicBaseUrl,
      expires_at: formatTime(expiresAt),
    };
  }

  private mail(
    kind: MailKind,
    user: User,
    recipient: string,
    senderName: string,
    senderAddress: string,
    parts: MailTemplates['reset'],
    values: Record<string, string>,
    expiresAt: number,
  ): NewMail {
    return {
      uuid: randomUUID(),
      kind,
      recipient,
      recipientName: user.username,
      senderName,
      senderAddress,
      subject: subjectLine(parts.subject.render(values)),
      text: parts.text.render(values),
      html: parts.html.render(values, { html: true }),
      createdAt: this.clock.now(),
      expiresAt,
    };
  }
}
