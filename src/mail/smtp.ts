// SMTP delivery with nodemailer (issue 21): one connection per pass of the
// relay, STARTTLS as configured (required, when offered, or never), SMTP
// AUTH when a username is set, every step bounded by smtp.timeout_seconds
// and a whole delivery by three times it. The only code that talks SMTP.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type { SmtpConfig } from '../config/sections/mail.js';
import { traceMailTransport } from '../tracing/tracing.js';

export interface MailAddress {
  name: string | null;
  address: string;
}

/** What the relay hands to SMTP. */
export interface OutgoingMail {
  /** Message-ID, without the angle brackets: the same for every attempt of one mail. */
  messageId: string;
  from: MailAddress;
  to: MailAddress;
  subject: string;
  text: string;
  html: string | null;
}

/** A delivery failed; `connection`: the server could not be used at all (other mails of the pass would fail alike). */
export class MailDeliveryError extends Error {
  constructor(
    message: string,
    readonly connection: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface MailTransport {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** nodemailer's codes for a server that could not be reached or used (as opposed to one refusing this mail). */
const CONNECTION_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ETLS',
  'EAUTH',
  'EPROTOCOL',
  'ECONNREFUSED',
  'ECONNRESET',
]);

function describe(err: unknown): { message: string; connection: boolean } {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
  const connection = e.code !== undefined && CONNECTION_CODES.has(e.code);
  const message = [e.code, e.responseCode, e.response ?? e.message].filter((p) => p !== undefined && p !== '').join(' ');
  return { message: message.replace(/\s+/g, ' ').trim() || 'delivery failed', connection };
}

function formatAddress(a: MailAddress): string | { name: string; address: string } {
  return a.name === null || a.name === '' ? a.address : { name: a.name, address: a.address };
}

/**
 * The transport for `config`. `ca_file` is read now (a missing file stops
 * the start-up); its certificates are trusted besides the system ones.
 */
export function createSmtpTransport(config: SmtpConfig): MailTransport {
  const timeoutMs = Math.round(config.timeout_seconds * 1000);
  let extraCa: string[] = [];
  if (config.ca_file !== null) {
    try {
      extraCa = [readFileSync(config.ca_file, 'utf8')];
    } catch (err) {
      throw new Error(
        `smtp.ca_file ${config.ca_file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  const transporter: Transporter = nodemailer.createTransport({
    host: config.hostname,
    port: config.port,
    secure: false,
    requireTLS: config.starttls === true,
    ignoreTLS: config.starttls === false,
    auth: config.username === null ? undefined : { user: config.username, pass: config.password ?? '' },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    tls: {
      rejectUnauthorized: config.tls_reject_unauthorized,
      // The certificate is checked against the name (or the IP address, by its subjectAltName).
      ...(isIP(config.hostname) === 0 ? { servername: config.hostname } : {}),
      minVersion: 'TLSv1.2',
      ...(extraCa.length > 0 ? { ca: [...rootCertificates, ...extraCa] } : {}),
    },
    // Never log message bodies: they hold tokens.
    logger: false,
    debug: false,
  });

  // An SMTP span per delivery while tracing is on (src/tracing/tracing.ts): the relay's host only.
  return traceMailTransport<OutgoingMail, MailTransport>(config.hostname, {
    async send(mail) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new MailDeliveryError(`no delivery within ${3 * timeoutMs} ms`, true)), 3 * timeoutMs);
      });
      try {
        await Promise.race([
          transporter.sendMail({
            messageId: `<${mail.messageId}>`,
            from: formatAddress(mail.from),
            to: formatAddress(mail.to),
            envelope: { from: mail.from.address, to: [mail.to.address] },
            subject: mail.subject,
            text: mail.text,
            ...(mail.html === null ? {} : { html: mail.html }),
            // RFC 3834: a message sent by a program; auto-responders stay quiet.
            headers: { 'Auto-Submitted': 'auto-generated' },
          }),
          deadline,
        ]);
      } catch (err) {
        if (err instanceof MailDeliveryError) throw err;
        const { message, connection } = describe(err);
        throw new MailDeliveryError(message, connection, { cause: err });
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      transporter.close();
    },
  });
}
