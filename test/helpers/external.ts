// Helpers of the external-accounts tests (issue 22): a key file, requests
// over the service's real socket, and what a database holds as text (to
// check that no secret is in it in clear).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import type { Config } from '../../src/config/types.js';
import { closeAtEnd } from './cleanup.js';

/** A fresh key file (base64 text) in its own temporary directory, removed at the end of the file. */
export function tempKeyFile(): { file: string; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'xivo-auth-external-'));
  const file = path.join(dir, 'external-auth.key');
  writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  closeAtEnd(async () => rmSync(dir, { recursive: true, force: true }));
  return { file, dir };
}

/** external_auth settings with this key file (the rest as configured by default). */
export function externalAuthWith(keyFile: string, extra: Partial<Config['external_auth']> = {}): Config['external_auth'] {
  return { ...DEFAULT_CONFIG.external_auth, encryption_key_file: keyFile, ...extra };
}

export interface HttpAnswer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  headers: Headers;
}

/** Requests to a listening service, as a client would make them. */
export function httpClient(baseUrl: () => string) {
  return async function request(
    method: string,
    url: string,
    options: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<HttpAnswer> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token) headers['x-auth-token'] = options.token;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl()}${url}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, body, text, headers: res.headers };
  };
}

/** Everything the database holds, as text: the SQLite files (with the WAL), or a pg_dump. */
export function databaseText(dbUri: string): string {
  if (dbUri.startsWith('sqlite:')) {
    const file = dbUri.slice('sqlite:'.length);
    return [file, `${file}-wal`]
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString('latin1'))
      .join('\n');
  }
  return execFileSync('pg_dump', ['--data-only', '--no-owner', dbUri], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}
