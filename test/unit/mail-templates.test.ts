// The mails' templates (issue 21): the built-in ones are the files of
// examples/mail-templates/ (an operator copies and edits them); {{ name }}
// placeholders only, each known to its mail; values HTML-escaped in the HTML
// parts only; a subject is one line; wazo-auth's default templates load
// unchanged.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { DEFAULT_TEMPLATE_FILES, DEFAULT_TEMPLATES } from '../../src/mail/default-templates.js';
import {
  CONFIRMATION_VARIABLES,
  loadMailTemplates,
  MailTemplateError,
  parseTemplate,
  RESET_VARIABLES,
  subjectLine,
} from '../../src/mail/templates.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples', 'mail-templates');

describe('mail templates', () => {
  it('built in are exactly the files of examples/mail-templates/', () => {
    for (const [name, file] of Object.entries(DEFAULT_TEMPLATE_FILES)) {
      expect(DEFAULT_TEMPLATES[name as keyof typeof DEFAULT_TEMPLATES], file).toBe(readFileSync(join(EXAMPLES, file), 'utf8'));
    }
  });

  it('load by default, every placeholder known; the defaults carry the links the issue names', () => {
    const t = loadMailTemplates(DEFAULT_CONFIG);
    const values = Object.fromEntries(RESET_VARIABLES.map((v) => [v, `<${v}>`]));
    expect(t.reset.text.render(values)).toContain('<reset_url>');
    expect(t.reset.html.render(values, { html: true })).toContain('href="&lt;reset_url&gt;"');
    const confirmation = Object.fromEntries(CONFIRMATION_VARIABLES.map((v) => [v, `${v}&`]));
    expect(t.confirmation.text.render(confirmation)).toContain('confirmation_url&');
    expect(t.confirmation.html.render(confirmation, { html: true })).toContain('href="confirmation_url&amp;"');
    expect(t.confirmedPage.render({ email_uuid: '', email_address: '' })).toContain('Email address confirmed');
  });

  it("accept wazo-auth's default templates as they are", () => {
    // Shapes of wazo-auth's templates/password_reset_email.jinja and email_confirmation.jinja.
    const reset = parseTemplate(
      'Hello {{ username }},\n\nhttps://example.com/?host={{ hostname }}:{{ port }}&token={{ token }}&user_uuid={{ user_uuid }}#reset-password\n',
      RESET_VARIABLES,
      'x',
    );
    expect(reset.render({ username: 'u', hostname: 'h', port: '443', token: 't', user_uuid: 'id' })).toBe(
      'Hello u,\n\nhttps://example.com/?host=h:443&token=t&user_uuid=id#reset-password\n',
    );
    const confirm = parseTemplate(
      'https://{{hostname}}:{{port}}/0.1/emails/{{ email_uuid }}/confirm?token={{  token }}',
      CONFIRMATION_VARIABLES,
      'x',
    );
    expect(confirm.render({ hostname: 'h', port: '1', email_uuid: 'e', token: 't' })).toBe(
      'https://h:1/0.1/emails/e/confirm?token=t',
    );
  });

  it('refuse blocks and unknown placeholders, naming where', () => {
    expect(() => parseTemplate('{% if x %}y{% endif %}', RESET_VARIABLES, 'password_reset_email_template: /f')).toThrow(
      new MailTemplateError(
        'password_reset_email_template: /f: only {{ name }} placeholders are supported (found a {% … %} or {# … #} block)',
      ),
    );
    expect(() => parseTemplate('{{ email_uuid }}', RESET_VARIABLES, 'k: /f')).toThrow(
      /k: \/f: unknown placeholder \{\{ email_uuid \}\}/,
    );
    expect(() => loadMailTemplates({ ...DEFAULT_CONFIG, email_confirmation_template: '/no/such/file' })).toThrow(
      /email_confirmation_template: \/no\/such\/file cannot be read: ENOENT/,
    );
  });

  it('escape HTML in the HTML parts only, and make a subject one line', () => {
    const t = parseTemplate('{{ username }}', RESET_VARIABLES, 'x');
    expect(t.render({ username: '<a href="x">&\'' })).toBe('<a href="x">&\'');
    expect(t.render({ username: '<a href="x">&\'' }, { html: true })).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
    expect(subjectLine('  Hi\r\nBcc: x@y\u0000z \n')).toBe('Hi Bcc: x@y z');
    expect(subjectLine('x'.repeat(2000))).toHaveLength(998);
  });
});
