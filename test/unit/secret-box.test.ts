// The sealing of external-auth secrets at rest (issue 22): AES-256-GCM under
// the configured key, a fresh nonce per value, bound to its row; key files
// raw, base64 or hex; a key generated (mode 0600) only when first needed.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyFileError, SecretBox, SecretKeyError, parseKey } from '../../src/external/secret-box.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'xivo-auth-secret-box-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function boxWithKey(content: Buffer | string): SecretBox {
  const file = path.join(tempDir(), 'key');
  writeFileSync(file, content);
  return new SecretBox({ keyFile: file, defaultFile: '/nonexistent/never-used' });
}

describe('SecretBox', () => {
  it('seals and opens; the sealed form holds nothing of the plaintext and differs every time', () => {
    const box = boxWithKey(randomBytes(32));
    const a = box.seal('client-secret-value', 'row/1');
    const b = box.seal('client-secret-value', 'row/1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('client-secret-value');
    expect(a).toMatch(/^xa1\.[0-9a-f]{16}\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(box.open(a, 'row/1')).toBe('client-secret-value');
    expect(box.openJson(box.sealJson({ x: 1 }, 'row/2'), 'row/2')).toEqual({ x: 1 });
    expect(box.openJson(null, 'row/2')).toEqual({});
  });

  it('refuses a value moved to another row, altered, or sealed under another key (503, never garbage)', () => {
    const key = randomBytes(32);
    const box = boxWithKey(key);
    const sealed = box.seal('secret', 'external_auth_configs/t1/google');
    expect(() => box.open(sealed, 'external_auth_configs/t2/google')).toThrow(SecretKeyError);
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => box.open(parts.join('.'), 'external_auth_configs/t1/google')).toThrow(SecretKeyError);
    const other = boxWithKey(randomBytes(32));
    expect(() => other.open(sealed, 'external_auth_configs/t1/google')).toThrow(/another encryption key/);
    expect(() => box.open('plain text', 'x')).toThrow(SecretKeyError);
    try {
      other.open(sealed, 'external_auth_configs/t1/google');
    } catch (err) {
      expect((err as SecretKeyError).status).toBe(503);
    }
  });

  it('reads keys as 32 raw bytes, base64 or hex text, and refuses anything else with a clear message', () => {
    const key = randomBytes(32);
    const sealed = boxWithKey(key).seal('v', 'c');
    expect(boxWithKey(`${key.toString('base64')}\n`).open(sealed, 'c')).toBe('v');
    expect(boxWithKey(key.toString('hex')).open(sealed, 'c')).toBe('v');
    expect(boxWithKey(key.toString('base64url')).open(sealed, 'c')).toBe('v');
    expect(() => parseKey(Buffer.from('too short'), 'k')).toThrow(/32 bytes: raw, base64 or hex/);
    expect(() => boxWithKey(randomBytes(16).toString('base64'))).toThrow(KeyFileError);
  });

  it('stops the start-up when the configured key file is missing', () => {
    expect(() => new SecretBox({ keyFile: path.join(tempDir(), 'missing.key'), defaultFile: '/nonexistent' })).toThrow(
      /encryption_key_file .*missing\.key cannot be read: ENOENT/,
    );
  });

  it('without a configured key, generates one (mode 0600) when the first secret is sealed, and finds it again', () => {
    const dataDir = path.join(tempDir(), 'data');
    const defaultFile = path.join(dataDir, 'external-auth.key');
    const generated: string[] = [];
    const box = new SecretBox({ keyFile: null, defaultFile, onGenerated: (f) => generated.push(f) });
    expect(existsSync(defaultFile)).toBe(false);
    expect(() => box.open('xa1.0123456789abcdef.a.b.c', 'c')).toThrow(SecretKeyError);
    const sealed = box.seal('v', 'c');
    expect(generated).toEqual([defaultFile]);
    expect(statSync(defaultFile).mode & 0o777).toBe(0o600);
    expect(parseKey(readFileSync(defaultFile), defaultFile)).toHaveLength(32);
    // Another instance (or a restart) on the same data directory reads it.
    expect(new SecretBox({ keyFile: null, defaultFile }).open(sealed, 'c')).toBe('v');
  });
});
