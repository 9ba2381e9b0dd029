// Secrets of external accounts at rest (issue 22): client secrets, push
// credentials, provider tokens, device codes. Each value is sealed with
// AES-256-GCM under the key of `external_auth.encryption_key_file` (32
// bytes), with a fresh random 96-bit nonce, and bound to where it is stored
// (the additional data names the table and row: a sealed value copied to
// another row does not open). A dump of the database without the key file
// reveals none of them.
//
// Sealed form: `xa1.<key id>.<nonce>.<ciphertext>.<tag>` (base64url), the
// key id being the first 8 bytes of SHA-256(key) in hex: a value sealed
// under another key is reported as such, never decrypted into garbage.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DomainError } from '../errors.js';

const VERSION = 'xa1';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** 503: the configured key cannot open what is stored (another key sealed it), or there is none. */
export class SecretKeyError extends DomainError {
  constructor(message: string) {
    super(503, 'external-auth-key-unavailable', message);
  }
}

/** The key file is unusable (start-up refuses it). */
export class KeyFileError extends Error {}

/** A key file: 32 raw bytes, or their base64 or hex text (surrounding whitespace ignored). */
export function parseKey(content: Buffer, file: string): Buffer {
  if (content.length === KEY_BYTES) return Buffer.from(content);
  const text = content.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const key = Buffer.from(text, 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  throw new KeyFileError(
    `${file}: an external_auth encryption key must be 32 bytes: raw, base64 or hex (e.g. \`openssl rand -base64 32 > ${file}\`)`,
  );
}

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export interface SecretBoxOptions {
  /** The configured key file; null: `defaultFile`, created when first needed. */
  keyFile: string | null;
  /** `<data_dir>/external-auth.key`. */
  defaultFile: string;
  /** Told once when a key is generated (where, so that the operator can copy it to other instances). */
  onGenerated?: (file: string) => void;
}

export class SecretBox {
  private key: Buffer | null = null;
  private id: string | null = null;

  /**
   * Reads the key when there is one: a configured key file must exist and
   * be valid (KeyFileError otherwise); the default one is read if present,
   * else generated when a secret is first sealed.
   */
  constructor(private readonly options: SecretBoxOptions) {
    if (options.keyFile !== null) {
      let content: Buffer;
      try {
        content = readFileSync(options.keyFile);
      } catch (err) {
        throw new KeyFileError(
          `external_auth.encryption_key_file ${options.keyFile} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
      this.use(parseKey(content, options.keyFile));
    } else {
      this.loadDefault();
    }
  }

  /** Where the key is (or will be). */
  get keyFile(): string {
    return this.options.keyFile ?? this.options.defaultFile;
  }

  seal(plaintext: string, context: string): string {
    const key = this.keyForSealing();
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      VERSION,
      this.id,
      nonce.toString('base64url'),
      ciphertext.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.');
  }

  open(sealed: string, context: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION)
      throw new SecretKeyError('A stored external-auth secret is not in a known sealed form');
    const [, id, nonce, ciphertext, tag] = parts;
    if (this.key === null) this.loadDefault();
    if (this.key === null || id !== this.id) {
      throw new SecretKeyError(
        `A stored external-auth secret was sealed with another encryption key (${id}) than ${this.keyFile}'s`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretKeyError('A stored external-auth secret does not open (altered, or moved from another row)');
    }
  }

  sealJson(value: Record<string, unknown>, context: string): string {
    return this.seal(JSON.stringify(value), context);
  }

  openJson(sealed: string | null, context: string): Record<string, unknown> {
    if (sealed === null) return {};
    const value = JSON.parse(this.open(sealed, context)) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  }

  private use(key: Buffer): void {
    this.key = key;
    this.id = keyId(key);
  }

  private loadDefault(): void {
    let content: Buffer;
    try {
      content = readFileSync(this.options.defaultFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new KeyFileError(
        `${this.options.defaultFile} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    this.use(parseKey(content, this.options.defaultFile));
  }

  private keyForSealing(): Buffer {
    if (this.key !== null) return this.key;
    this.loadDefault();
    if (this.key !== null) return this.key;
    // First secret ever stored without a configured key: generate one,
    // readable by this user only, never overwriting one written meanwhile.
    const file = this.options.defaultFile;
    const key = randomBytes(KEY_BYTES);
    try {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, `${key.toString('base64')}\n`);
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        this.loadDefault();
        if (this.key !== null) return this.key;
      }
      throw new SecretKeyError(
        `No external-auth encryption key: ${file} cannot be written (${(err as NodeJS.ErrnoException).code ?? 'error'}); set external_auth.encryption_key_file`,
      );
    }
    this.use(key);
    this.options.onGenerated?.(file);
    return key;
  }
}
