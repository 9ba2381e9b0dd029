// The SAML service provider's signing key and certificate (issue 23): what
// signs our AuthnRequests, LogoutRequests and SP metadata, and what an IdP
// administrator is given (in GET /backends/saml/sp_metadata) to check them.
// From `saml.key_file` and `saml.cert_file` (PEM, wazo-auth's keys) when
// both are set; otherwise an RSA-2048 key with a self-signed certificate
// kept under data_dir, generated once (mode 0600). Instances sharing a
// database need the same files (an IdP trusts one certificate).
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';

export interface SpKeyPair {
  /** PEM (PKCS#8). */
  privateKey: string;
  /** PEM. */
  certificate: string;
}

export class SpKeyFileError extends Error {}

export interface SpKeyOptions {
  keyFile: string | null;
  certFile: string | null;
  dataDir: string;
  /** Told once when a key is generated (where, so that the operator can copy it to other instances). */
  onGenerated?: (keyFile: string) => void;
}

/** Loaded on first use: a service that never speaks SAML never writes a key. */
export class SpKeyStore {
  private pair: SpKeyPair | null = null;

  constructor(private readonly options: SpKeyOptions) {
    if ((options.keyFile === null) !== (options.certFile === null)) {
      throw new SpKeyFileError('saml.key_file and saml.cert_file go together: set both, or neither');
    }
  }

  get(): SpKeyPair {
    if (this.pair !== null) return this.pair;
    const { keyFile, certFile } = this.options;
    this.pair = keyFile !== null && certFile !== null ? readPair(keyFile, certFile) : this.defaultPair();
    return this.pair;
  }

  private defaultPair(): SpKeyPair {
    const keyFile = path.join(this.options.dataDir, 'saml-sp.key');
    const certFile = path.join(this.options.dataDir, 'saml-sp.crt');
    try {
      return readPair(keyFile, certFile);
    } catch (err) {
      if (!(err instanceof MissingFileError)) throw err;
    }
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pair = {
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      certificate: selfSignedCertificate(
        privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        'xivo-auth SAML SP',
        3650,
      ),
    };
    try {
      mkdirSync(this.options.dataDir, { recursive: true, mode: 0o700 });
      // The certificate first: a reader that finds the key finds its certificate.
      writeNew(certFile, pair.certificate, 0o644);
      writeNew(keyFile, pair.privateKey, 0o600);
    } catch (err) {
      // Another instance (or process) wrote them meanwhile: use those.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readPair(keyFile, certFile);
      throw new SpKeyFileError(
        `The SAML SP key cannot be written under ${this.options.dataDir} (${(err as NodeJS.ErrnoException).code ?? 'error'}); set saml.key_file and saml.cert_file`,
      );
    }
    this.options.onGenerated?.(keyFile);
    return pair;
  }
}

class MissingFileError extends SpKeyFileError {}

function readPair(keyFile: string, certFile: string): SpKeyPair {
  const read = (file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new MissingFileError(`${file} does not exist`);
      throw new SpKeyFileError(`${file} cannot be read: ${code ?? (err as Error).message}`);
    }
  };
  const privateKey = read(keyFile);
  const certificate = read(certFile);
  let matches = false;
  try {
    const cert = new X509Certificate(certificate);
    matches = cert.checkPrivateKey(createPrivateKey(privateKey));
  } catch (err) {
    throw new SpKeyFileError(`${keyFile} / ${certFile}: not a PEM private key and certificate (${(err as Error).message})`);
  }
  if (!matches) throw new SpKeyFileError(`${certFile} is not the certificate of ${keyFile}`);
  return { privateKey, certificate };
}

function writeNew(file: string, content: string, mode: number): void {
  const fd = openSync(file, 'wx', mode);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

// A minimal X.509 v3 encoder (DER): only what a self-signed RSA certificate
// needs, so that no certificate library is pulled in for one file.
function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
const seq = (...parts: Buffer[]) => der(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => der(0x31, Buffer.concat(parts));
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const v of rest) {
    const chunk: number[] = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) chunk.unshift((x & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}
function positiveInteger(bytes: Buffer): Buffer {
  return der(0x02, bytes[0] >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}
function time(ms: number): Buffer {
  const iso = new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  const year = new Date(ms).getUTCFullYear();
  return year < 2050 ? der(0x17, Buffer.from(`${iso.slice(2)}Z`)) : der(0x18, Buffer.from(`${iso}Z`));
}

/** A self-signed certificate (sha256WithRSAEncryption) of an RSA private key, PEM. */
export function selfSignedCertificate(privateKeyPem: string, commonName: string, days: number, now = Date.now()): string {
  const key = createPrivateKey(privateKeyPem);
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const algorithm = seq(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));
  const name = seq(set(seq(oid('2.5.4.3'), der(0x0c, Buffer.from(commonName, 'utf8')))));
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const tbs = seq(
    der(0xa0, positiveInteger(Buffer.from([2]))),
    positiveInteger(serial),
    algorithm,
    name,
    seq(time(now - 60_000), time(now + days * 86_400_000)),
    name,
    spki,
  );
  const signature = sign('sha256', tbs, key);
  const cert = seq(tbs, algorithm, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const b64 = cert
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}
