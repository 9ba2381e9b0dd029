// HTTPS when a certificate is configured; CORS when enabled.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/service.js';

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, servername: 'localhost' }, (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('HTTPS', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xivo-auth-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  let t: TestService;

  beforeAll(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    t = await startTestService('sqlite', { rest_api: { certificate: cert, private_key: key } });
    await t.service.listen();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the API over TLS', async () => {
    const url = t.service.url as string;
    expect(url.startsWith('https://')).toBe(true);
    const { readFileSync } = await import('node:fs');
    const res = await httpsGet(`${url}/0.1/backends`, readFileSync(cert, 'utf8'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ data: ['xivo_user'] });
  });
});

describe('CORS', () => {
  it('answers preflight requests only when enabled', async () => {
    const on = await startTestService('sqlite', {
      rest_api: { cors: { enabled: true, allow_origins: ['https://app.example.com'] } },
    });
    const preflight = await on.service.app.inject({
      method: 'OPTIONS',
      url: '/0.1/token',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-auth-token',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).toContain('x-auth-token');
    const other = await on.service.app.inject({
      method: 'GET',
      url: '/0.1/backends',
      headers: { origin: 'https://evil.example.com' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();

    const off = await startTestService('sqlite');
    const res = await off.service.app.inject({
      method: 'GET',
      url: '/0.1/backends',
      headers: { origin: 'https://app.example.com' },
    });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});
