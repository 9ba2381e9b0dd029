// A minimal keep-alive HTTP client for the harness's own requests (set-up,
// probes, propagation polling). The load itself comes from bench/load.js.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export function createAgent(maxSockets = 8) {
  return new http.Agent({ keepAlive: true, maxSockets });
}

/** Resolves {status, headers, body (parsed JSON when possible), ms}; never rejects on HTTP status. */
export function request(baseUrl, { method = 'GET', path, headers = {}, body, agent, timeoutMs = 30_000 }) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const started = performance.now();
    const req = http.request(
      new URL(path, baseUrl),
      {
        method,
        agent,
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          ...headers,
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed = text;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode, headers: res.headers, body: parsed, ms: performance.now() - started });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export function basic(login, password) {
  return `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
}
