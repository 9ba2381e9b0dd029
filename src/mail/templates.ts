// The mails' templates (issue 21): a subject, a plain-text part and an HTML
// part for each mail, and the page answered by the confirmation link. Each
// has a built-in default (./default-templates.ts); an operator overrides one
// with a file named by its configuration key (wazo-auth's names, and
// *_html_template for the HTML parts).
//
// The syntax is the subset of Jinja that wazo-auth's default templates use:
// `{{ name }}` placeholders and nothing else, so those files work here
// unchanged; `{% … %}` blocks are refused at start-up rather than sent as
// they are. A placeholder that the template's mail does not provide is
// refused at start-up too, naming the key and the file. Values are
// HTML-escaped in the HTML parts (and in an HTML confirmation page), never
// in plain text; a subject loses its line breaks.
import { readFileSync } from 'node:fs';
import type { Config } from '../config/types.js';
import { DEFAULT_TEMPLATES, type TemplateName } from './default-templates.js';

/** A template file cannot be read or uses what is not supported (start-up refuses it). */
export class MailTemplateError extends Error {}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Placeholders of every mail: wazo-auth's (username, email_address, token, hostname, port) and ours. */
const COMMON = ['username', 'email_address', 'token', 'hostname', 'port', 'base_url', 'expires_at'] as const;
export const CONFIRMATION_VARIABLES = [...COMMON, 'email_uuid', 'user_uuid', 'confirmation_url'] as const;
export const RESET_VARIABLES = [...COMMON, 'user_uuid', 'reset_url'] as const;
export const CONFIRMED_PAGE_VARIABLES = ['email_uuid', 'email_address'] as const;

export type ConfirmationValues = Record<(typeof CONFIRMATION_VARIABLES)[number], string>;
export type ResetValues = Record<(typeof RESET_VARIABLES)[number], string>;
export type ConfirmedPageValues = Record<(typeof CONFIRMED_PAGE_VARIABLES)[number], string>;

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

export class MailTemplate {
  constructor(private readonly source: string) {}

  /** `values` fills the placeholders (checked at load); `html` escapes them. */
  render(values: Readonly<Record<string, string>>, options: { html?: boolean } = {}): string {
    return this.source.replace(PLACEHOLDER, (_, name: string) => {
      const value = values[name] ?? '';
      return options.html ? escapeHtml(value) : value;
    });
  }
}

/** Parses a template: only known placeholders, no Jinja blocks. `origin` names the key and file in errors. */
export function parseTemplate(source: string, allowed: readonly string[], origin: string): MailTemplate {
  if (/\{%|\{#/.test(source)) {
    throw new MailTemplateError(`${origin}: only {{ name }} placeholders are supported (found a {% … %} or {# … #} block)`);
  }
  for (const match of source.matchAll(PLACEHOLDER)) {
    if (!allowed.includes(match[1])) {
      throw new MailTemplateError(`${origin}: unknown placeholder {{ ${match[1]} }}; known: ${allowed.join(', ')}`);
    }
  }
  return new MailTemplate(source);
}

export interface MailParts {
  subject: MailTemplate;
  text: MailTemplate;
  html: MailTemplate;
}

export interface MailTemplates {
  confirmation: MailParts;
  reset: MailParts;
  /** The answer of GET /0.1/emails/{uuid}/confirm. */
  confirmedPage: MailTemplate;
}

type TemplateKey =
  | 'email_confirmation_subject_template'
  | 'email_confirmation_template'
  | 'email_confirmation_html_template'
  | 'password_reset_email_subject_template'
  | 'password_reset_email_template'
  | 'password_reset_email_html_template'
  | 'email_confirmation_get_response_body_template';

/** Reads the configured files (or takes the built-in templates) and checks them. */
export function loadMailTemplates(
  config: Pick<Config, TemplateKey>,
  read: (file: string) => string = (file) => readFileSync(file, 'utf8'),
): MailTemplates {
  const load = (key: TemplateKey, builtIn: TemplateName, allowed: readonly string[]): MailTemplate => {
    const file = config[key];
    if (file === null) return parseTemplate(DEFAULT_TEMPLATES[builtIn], allowed, `${key} (built-in)`);
    let source: string;
    try {
      source = read(file);
    } catch (err) {
      throw new MailTemplateError(
        `${key}: ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    return parseTemplate(source, allowed, `${key}: ${file}`);
  };
  return {
    confirmation: {
      subject: load('email_confirmation_subject_template', 'email_confirmation_subject', CONFIRMATION_VARIABLES),
      text: load('email_confirmation_template', 'email_confirmation', CONFIRMATION_VARIABLES),
      html: load('email_confirmation_html_template', 'email_confirmation_html', CONFIRMATION_VARIABLES),
    },
    reset: {
      subject: load('password_reset_email_subject_template', 'password_reset_email_subject', RESET_VARIABLES),
      text: load('password_reset_email_template', 'password_reset_email', RESET_VARIABLES),
      html: load('password_reset_email_html_template', 'password_reset_email_html', RESET_VARIABLES),
    },
    confirmedPage: load('email_confirmation_get_response_body_template', 'email_confirmation_get_body', CONFIRMED_PAGE_VARIABLES),
  };
}

// eslint-disable-next-line no-control-regex -- a header line must not carry control characters
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]+/g;

/** A subject is one header line: no line breaks or other control characters, trimmed. */
export function subjectLine(rendered: string): string {
  return rendered.replace(CONTROL_CHARACTERS, ' ').trim().slice(0, 998);
}
