// Configuration of self-service accounts (issue 21): SMTP delivery, the mail
// outbox relay, the mails' senders, templates and link lifetimes (under
// wazo-auth's key names), the public base URL of the links, the HTTP
// plugins that can be turned off, and the rate limits of the public routes.
// Plugged into the one schema of src/config/schema.ts; defaults and
// descriptions live here.
import { Type, type Static } from '@sinclair/typebox';

/** wazo-auth's lifetime of emailed tokens: two days. */
export const EMAILED_TOKEN_LIFETIME_SECONDS = 172_800;

const templateFile = (what: string) =>
  Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
    default: null,
    description: `File of the ${what} template ({{ name }} placeholders, see README "Self-service accounts"); null: the built-in one. Read at start-up.`,
    expected: 'a file path, or null',
  });

const lifetime = (what: string) =>
  Type.Integer({
    minimum: 60,
    maximum: 31_536_000,
    default: EMAILED_TOKEN_LIFETIME_SECONDS,
    description: `Seconds the emailed ${what} token (and its link) stays valid; a mail not delivered within it is dropped.`,
  });

const fromName = (what: string) =>
  Type.String({
    minLength: 1,
    maxLength: 256,
    default: 'xivo-auth',
    description: `Display name of the sender of ${what} mails.`,
  });
const fromAddress = (what: string) =>
  Type.String({
    minLength: 3,
    maxLength: 254,
    pattern: '^[^@\\s]+@[^@\\s]+$',
    default: 'noreply@localhost',
    description: `Address the ${what} mails are sent from (the SMTP envelope sender too).`,
    expected: 'an email address',
  });

const Rate = (perHour: number, burst: number, what: string) =>
  Type.Object(
    {
      per_hour: Type.Number({ minimum: 0, default: perHour, description: `Sustained ${what} per hour; 0 disables this limit.` }),
      burst: Type.Integer({
        minimum: 1,
        default: burst,
        description: `${what[0].toUpperCase()}${what.slice(1)} allowed at once before the sustained rate applies.`,
      }),
    },
    { default: {}, description: `Token bucket of ${what}.` },
  );

export const SmtpSchema = Type.Object(
  {
    hostname: Type.String({
      minLength: 1,
      default: 'localhost',
      description: "SMTP server the mails are handed to (the platform's MTA, or a relay).",
    }),
    port: Type.Integer({
      minimum: 1,
      maximum: 65535,
      default: 25,
      description: 'Its port (25: a local MTA; 587: a submission relay).',
    }),
    starttls: Type.Union([Type.Boolean(), Type.Literal('opportunistic')], {
      default: false,
      description:
        'true: STARTTLS required (a server that does not offer it fails the delivery); "opportunistic": used when the server offers it; false: never (plain SMTP, for an MTA on the loopback).',
      expected: 'true, false or "opportunistic"',
    }),
    username: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
      default: null,
      description: 'SMTP AUTH user; null: no authentication.',
    }),
    password: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
      default: null,
      description: 'SMTP AUTH password (masked by `config show`).',
    }),
    timeout_seconds: Type.Number({
      minimum: 0.1,
      maximum: 300,
      default: 10,
      description:
        'Longest wait of each step of a delivery (connection, greeting, each command); a whole delivery is given up after three times this.',
    }),
    ca_file: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
      default: null,
      description: "PEM file of CA certificates trusted for the server's STARTTLS certificate, besides the system ones.",
    }),
    tls_reject_unauthorized: Type.Boolean({
      default: true,
      description:
        'Refuse a STARTTLS certificate that does not verify (unknown CA, wrong name). false accepts any (encryption without authentication of the server).',
    }),
  },
  { default: {}, description: 'SMTP delivery of the self-service mails (email confirmation, password reset).' },
);

export const MailOutboxSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description:
        'This instance delivers the mail outbox. Mails are queued by every instance whatever this says, and delivered by those with it on.',
    }),
    poll_interval_ms: Type.Integer({
      minimum: 10,
      maximum: 600_000,
      default: 1000,
      description: 'How often the relay looks for mails due (queued by other instances, or due for a retry).',
    }),
    batch_size: Type.Integer({ minimum: 1, maximum: 1000, default: 20, description: 'Mails claimed per pass.' }),
    retry_min_ms: Type.Integer({
      minimum: 10,
      maximum: 3_600_000,
      default: 2000,
      description: 'Wait before the second attempt of a mail; doubles at each failure.',
    }),
    retry_max_ms: Type.Integer({
      minimum: 10,
      maximum: 86_400_000,
      default: 300_000,
      description: 'Longest wait between two attempts of a mail.',
    }),
    lease_seconds: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 120,
      description:
        'A claimed mail is not claimed again (by any instance) for this long; keep it above three times smtp.timeout_seconds.',
    }),
    retention_days: Type.Number({
      minimum: 0,
      maximum: 3650,
      default: 7,
      description: 'Days sent and expired mails (their bodies cleared) stay in the outbox before they are purged.',
    }),
  },
  { default: {}, description: 'The mail outbox: mails committed with their change, delivered with retries and back-off.' },
);

export const SelfServiceSchema = Type.Object(
  {
    public_base_url: Type.Union([Type.String({ pattern: '^https?://[^\\s?#]+$' }), Type.Null()], {
      default: null,
      description:
        'URL of this API as users reach it, without /0.1 (e.g. https://pbx.example.com/api/auth): the base of the links in the mails. ' +
        "Never taken from a request's headers. null: http://localhost:<rest_api.port> (a warning at start-up).",
      expected: 'an http:// or https:// URL without query, or null',
    }),
    password_reset_url: Type.Union([Type.String({ pattern: '^https?://[^\\s]+$' }), Type.Null()], {
      default: null,
      description:
        "Page of the platform's web application where a user chooses a new password; the reset mail links to it with ?token=<token>&user_uuid=<uuid>. " +
        'null: <public_base_url>/0.1/users/password/reset (the API call itself).',
      expected: 'an http:// or https:// URL, or null',
    }),
    rate_limits: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description: 'Limit the public self-service requests (in memory, per instance); over a limit: 429 with Retry-After.',
        }),
        password_reset_per_address: Rate(60, 10, 'password reset requests from one client address'),
        password_reset_per_login: Rate(
          12,
          3,
          'password reset requests for one username, address or login (the same whether it exists or not)',
        ),
        mails_per_account: Rate(
          12,
          5,
          'mails sent to one account (reset and confirmation mails beyond it are not sent; an explicit re-send answers 429)',
        ),
        registrations_per_address: Rate(10, 3, 'registrations from one client address'),
      },
      { default: {}, description: 'Rate limits of the self-service routes.' },
    ),
    max_pending_requests: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 1000,
      description: 'Password reset requests handled in the background at once; more answer 503 with Retry-After.',
    }),
  },
  { default: {}, description: 'Self-service accounts: links in the mails, rate limits.' },
);

export const EnabledHttpPluginsSchema = Type.Record(Type.String(), Type.Boolean(), {
  default: { email_confirm: true, password_reset: true, user_registration: false },
  description:
    "HTTP plugins by wazo-auth's names. Honoured: email_confirm (/emails/{uuid}/confirm), password_reset (/users/password/reset), " +
    'user_registration (POST /users/register; off by default: anyone could create a tenant); other names are accepted and ignored.',
  expected: 'a mapping of plugin name to true/false',
});

/** The top-level keys of this feature, spread into the configuration schema. */
export const SELF_SERVICE_CONFIG_PROPERTIES = {
  smtp: SmtpSchema,
  mail_outbox: MailOutboxSchema,
  self_service: SelfServiceSchema,
  enabled_http_plugins: EnabledHttpPluginsSchema,
  password_reset_expiration: lifetime('password reset'),
  password_reset_from_name: fromName('password reset'),
  password_reset_from_address: fromAddress('password reset'),
  password_reset_email_template: templateFile("password reset mail's plain-text"),
  password_reset_email_html_template: templateFile("password reset mail's HTML"),
  password_reset_email_subject_template: templateFile("password reset mail's subject"),
  email_confirmation_expiration: lifetime('email confirmation'),
  email_confirmation_from_name: fromName('email confirmation'),
  email_confirmation_from_address: fromAddress('email confirmation'),
  email_confirmation_template: templateFile("email confirmation mail's plain-text"),
  email_confirmation_html_template: templateFile("email confirmation mail's HTML"),
  email_confirmation_subject_template: templateFile("email confirmation mail's subject"),
  email_confirmation_get_response_body_template: templateFile('answer of the confirmation link (GET /0.1/emails/{uuid}/confirm)'),
  email_confirmation_get_mimetype: Type.String({
    minLength: 1,
    maxLength: 128,
    pattern: '^[A-Za-z0-9.+-]+/[A-Za-z0-9.+-]+$',
    default: 'text/html',
    description: 'Content type of that answer.',
    expected: 'a MIME type such as text/html',
  }),
};

export type SelfServiceConfigKeys = {
  [K in keyof typeof SELF_SERVICE_CONFIG_PROPERTIES]: Static<(typeof SELF_SERVICE_CONFIG_PROPERTIES)[K]>;
};
export type SmtpConfig = Static<typeof SmtpSchema>;
export type MailOutboxConfig = Static<typeof MailOutboxSchema>;
export type SelfServiceConfig = Static<typeof SelfServiceSchema>;
