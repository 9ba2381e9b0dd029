import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseBasicAuth } from '../../src/http/credentials.js';
import { jsonDepthExceeds } from '../../src/http/body.js';
import { redactUrl } from '../../src/logging.js';
import { generateToken, hashToken } from '../../src/tokens/material.js';
import { formatUtc } from '../../src/tokens/time-format.js';

describe('token material', () => {
  it('generates 256-bit base64url tokens, all distinct', () => {
    const tokens = new Set(Array.from({ length: 1000 }, generateToken));
    expect(tokens.size).toBe(1000);
    for (const t of tokens) {
      expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    }
  });

  it('hashes with SHA-256 hex', () => {
    expect(hashToken('abc')).toBe(createHash('sha256').update('abc').digest('hex'));
    expect(hashToken('abc')).toHaveLength(64);
  });
});

describe('Basic credentials', () => {
  const b64 = (s: string, enc: BufferEncoding = 'utf8') => Buffer.from(s, enc).toString('base64');
  it('decodes login and password, splitting at the first colon', () => {
    expect(parseBasicAuth(`Basic ${b64('alice:pa:ss')}`)).toEqual({ login: 'alice', password: 'pa:ss' });
    expect(parseBasicAuth(`basic ${b64('alice:')}`)).toEqual({ login: 'alice', password: '' });
  });
  it('keeps trailing NULs and spaces: they are part of the password', () => {
    expect(parseBasicAuth(`Basic ${b64('alice:pw\u0000')}`)?.password).toBe('pw\u0000');
    expect(parseBasicAuth(`Basic ${b64('alice:pw ')}`)?.password).toBe('pw ');
  });
  it('falls back to Latin-1', () => {
    expect(parseBasicAuth(`Basic ${b64('zoé:pässword', 'latin1')}`)).toEqual({ login: 'zoé', password: 'pässword' });
  });
  it.each([
    undefined,
    '',
    'Basic',
    'Bearer abc',
    'Basic !!!',
    `Basic ${b64('nocolon')}`,
    `Basic ${b64(':nologin')}`,
    'Basic YWJj',
  ])('rejects %s', (h) => {
    expect(parseBasicAuth(h)).toBeNull();
  });
});

describe('helpers', () => {
  it('formats UTC with 6 fractional digits', () => {
    expect(formatUtc(Date.UTC(2026, 0, 2, 3, 4, 5, 67))).toBe('2026-01-02T03:04:05.067000');
  });
  it('measures JSON depth outside strings', () => {
    expect(jsonDepthExceeds('[[[]]]', 3)).toBe(false);
    expect(jsonDepthExceeds('[[[[]]]]', 3)).toBe(true);
    expect(jsonDepthExceeds('{"a":"[[[[[[[["}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":"\\"[[[[[["}', 3)).toBe(false);
  });
  it('redacts tokens from logged URLs', () => {
    expect(redactUrl('/0.1/token/SECRET?scope=a.b')).toBe('/0.1/token/<redacted>?scope=a.b');
    expect(redactUrl('/0.1/token/SECRET/scopes/check')).toBe('/0.1/token/<redacted>/scopes/check');
    // The links of confirmation and reset mails (issue 21).
    expect(redactUrl('/0.1/emails/e/confirm?token=SECRET')).toBe('/0.1/emails/e/confirm?token=<redacted>');
    expect(redactUrl('/0.1/users/password/reset?user_uuid=u&token=SECRET&x=1')).toBe(
      '/0.1/users/password/reset?user_uuid=u&token=<redacted>&x=1',
    );
    expect(redactUrl('/0.1/users/me/tokens/client')).toBe('/0.1/users/me/tokens/<redacted>');
  });
});
