// Builds self-service accounts from the configuration (issue 21), for the
// composition root (src/main.ts): the templates (read and checked now), the
// SMTP transport, the mail relay with its metrics, the domain service, and
// the hook that mails the confirmation of addresses users set themselves.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/types.js';
import { SelfService, type HourlyRate } from '../identity/self-service.js';
import type { UserService } from '../identity/users.js';
import type { Metrics } from '../metrics/metrics.js';
import type { PasswordHasher } from '../passwords/hasher.js';
import type { SecurityDeps } from '../app.js';
import type { SelfServiceDeps } from '../identity/self-service-deps.js';
import type { Store } from '../store/types.js';
import type { TokenService } from '../login/token-service.js';
import { observeMailOutbox } from '../mail/metrics.js';
import { MailRelay } from '../mail/relay.js';
import { createSmtpTransport, type MailTransport } from '../mail/smtp.js';
import { loadMailTemplates } from '../mail/templates.js';

export function createSelfService(deps: {
  config: Config;
  store: Store;
  hasher: PasswordHasher;
  tokens: TokenService;
  users: UserService;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  security: SecurityDeps;
  topTenantUuid: string;
  /** Tests: another transport than SMTP. */
  transport?: MailTransport;
}): SelfServiceDeps {
  const { config, store, clock, logger } = deps;
  const templates = loadMailTemplates(config);
  const transport = deps.transport ?? createSmtpTransport(config.smtp);
  const observer = observeMailOutbox(
    deps.metrics.registry,
    () => store.mailBacklog(),
    () => clock.now(),
  );
  const relay = new MailRelay(store, transport, clock, logger, config.mail_outbox, observer);

  let publicBaseUrl = config.self_service.public_base_url?.replace(/\/+$/, '') ?? null;
  if (publicBaseUrl === null) {
    publicBaseUrl = `http://localhost:${config.rest_api.port}`;
    logger.warn(
      { public_base_url: publicBaseUrl },
      'self_service.public_base_url is not set: the links of confirmation and reset mails point at localhost; set it to the URL users reach this API at',
    );
  }
  const limits = config.self_service.rate_limits;
  const rate = (r: HourlyRate): HourlyRate => ({ per_hour: r.per_hour, burst: r.burst });
  const service = new SelfService(
    store,
    deps.hasher,
    deps.tokens,
    clock,
    templates,
    {
      topTenantUuid: deps.topTenantUuid,
      xivoUuid: config.uuid,
      publicBaseUrl,
      passwordResetUrl: config.self_service.password_reset_url ?? `${publicBaseUrl}/0.1/users/password/reset`,
      confirmation: {
        lifetimeSeconds: config.email_confirmation_expiration,
        fromName: config.email_confirmation_from_name,
        fromAddress: config.email_confirmation_from_address,
      },
      reset: {
        lifetimeSeconds: config.password_reset_expiration,
        fromName: config.password_reset_from_name,
        fromAddress: config.password_reset_from_address,
      },
      rateLimits: limits.enabled
        ? {
            resetPerAddress: rate(limits.password_reset_per_address),
            resetPerLogin: rate(limits.password_reset_per_login),
            mailsPerAccount: rate(limits.mails_per_account),
            registrationsPerAddress: rate(limits.registrations_per_address),
          }
        : null,
      maxPendingRequests: config.self_service.max_pending_requests,
    },
    logger,
    deps.security.audit,
    deps.security.passwordPolicy,
    () => relay.wake(),
  );

  deps.users.confirmEmailsWith({
    inTransaction: (tx, user, emails) => service.mailConfirmationsIn(tx, user, emails),
    committed: (count) => service.committedMails(count),
  });

  const plugin = (name: string, fallback: boolean) => config.enabled_http_plugins[name] ?? fallback;
  return {
    service,
    relay,
    plugins: {
      emailConfirm: plugin('email_confirm', true),
      passwordReset: plugin('password_reset', true),
      userRegistration: plugin('user_registration', false),
    },
    async status() {
      const { status, sent, failures, lastError } = relay.status();
      try {
        const backlog = await store.mailBacklog();
        return {
          status,
          pending: backlog.pending,
          retrying: backlog.retrying,
          oldest_age_seconds:
            backlog.oldestCreatedAt === null ? 0 : Math.max(0, Math.round((clock.now() - backlog.oldestCreatedAt) / 1000)),
          sent,
          failures,
          last_error: lastError,
        };
      } catch {
        return { status, sent, failures, last_error: lastError, outbox: 'unknown' };
      }
    },
  };
}
