// The built-in templates of the self-service mails (issue 21). The same texts
// are in examples/mail-templates/ (test/unit/mail-templates.test.ts keeps
// them identical): copy one there, edit it, and name the copy in its
// configuration key (README "Self-service accounts"). Kept as string
// constants so that the compiled output carries them.

export const DEFAULT_TEMPLATES = {
  /** examples/mail-templates/email_confirmation_subject.txt */
  email_confirmation_subject: 'Email confirmation for {{ username }}\n',
  /** examples/mail-templates/email_confirmation.txt */
  email_confirmation:
    'Hello {{ username }},\n\nPlease confirm that {{ email_address }} is your email address by opening\nthis link:\n\n{{ confirmation_url }}\n\nThe link can be used once, until {{ expires_at }}. If you did not add this\naddress to an account, ignore this mail.\n',
  /** examples/mail-templates/email_confirmation.html */
  email_confirmation_html:
    '<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8"><title>Confirm your email address</title></head>\n<body>\n<p>Hello {{ username }},</p>\n<p>Please confirm that <strong>{{ email_address }}</strong> is your email address:</p>\n<p><a href="{{ confirmation_url }}">Confirm {{ email_address }}</a></p>\n<p>The link can be used once, until {{ expires_at }}. If you did not add this address to an account, ignore this mail.</p>\n</body>\n</html>\n',
  /** examples/mail-templates/password_reset_email_subject.txt */
  password_reset_email_subject: 'New password requested\n',
  /** examples/mail-templates/password_reset_email.txt */
  password_reset_email:
    'Hello {{ username }},\n\nA new password was asked for your account. To choose it, open this link:\n\n{{ reset_url }}\n\nThe link can be used once, until {{ expires_at }}. If you did not ask for a\nnew password, ignore this mail: your password stays as it is.\n',
  /** examples/mail-templates/password_reset_email.html */
  password_reset_email_html:
    '<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8"><title>New password requested</title></head>\n<body>\n<p>Hello {{ username }},</p>\n<p>A new password was asked for your account.</p>\n<p><a href="{{ reset_url }}">Choose a new password</a></p>\n<p>The link can be used once, until {{ expires_at }}. If you did not ask for a new password, ignore this mail: your password stays as it is.</p>\n</body>\n</html>\n',
  /** examples/mail-templates/email_confirmation_get_body.html */
  email_confirmation_get_body:
    '<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8"><title>Email address confirmed</title></head>\n<body><p>Email address confirmed</p></body>\n</html>\n',
} as const;

export type TemplateName = keyof typeof DEFAULT_TEMPLATES;

/** The file of examples/mail-templates/ holding each built-in template. */
export const DEFAULT_TEMPLATE_FILES: Record<TemplateName, string> = {
  email_confirmation_subject: 'email_confirmation_subject.txt',
  email_confirmation: 'email_confirmation.txt',
  email_confirmation_html: 'email_confirmation.html',
  password_reset_email_subject: 'password_reset_email_subject.txt',
  password_reset_email: 'password_reset_email.txt',
  password_reset_email_html: 'password_reset_email.html',
  email_confirmation_get_body: 'email_confirmation_get_body.html',
};
