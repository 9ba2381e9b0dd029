#!/usr/bin/env node
// Readiness for the systemd unit (Type=simple): ExecStartPost runs this, so
// `systemctl start xivo-auth` returns, and units ordered after xivo-auth
// start, only once GET /health/ready answers 200. Installed by the Debian
// package as /usr/lib/xivo-auth/libexec/wait-ready.js (docs/packaging.md).
//
//   wait-ready.js [--timeout SECONDS] [-c CONFIG_FILE]
//
// The address is the one the service reads: `xivo-auth config show` with the
// same configuration file and environment (the management listener when
// `management.enabled`, else the API, over HTTPS when it has a certificate).
// Exit 0 once ready; 1 after the timeout (systemd then fails the start, and
// Restart=on-failure tries again).
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(here, '..', 'bin', 'xivo-auth.js');

function parse(argv) {
  const out = { timeoutSeconds: 60, configArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--timeout') out.timeoutSeconds = Number(argv[++i]);
    else if (a === '-c' || a === '--config-file') out.configArgs = ['-c', argv[++i]];
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isFinite(out.timeoutSeconds) || out.timeoutSeconds <= 0)
    throw new Error('--timeout needs a positive number of seconds');
  return out;
}

/** A wildcard listening address is reached through the loopback of its family. */
function connectHost(listen) {
  if (listen === '' || listen === '0.0.0.0') return '127.0.0.1';
  if (listen === '::' || listen === '[::]') return '::1';
  return listen.replace(/^\[(.*)\]$/, '$1');
}

function target(config) {
  if (config.management?.enabled) {
    return { protocol: 'http:', host: connectHost(config.management.listen), port: config.management.port };
  }
  const api = config.rest_api;
  const tls = Boolean(api.certificate && api.private_key);
  return { protocol: tls ? 'https:' : 'http:', host: connectHost(api.listen), port: api.port };
}

function probe(t) {
  return new Promise((resolve) => {
    const lib = t.protocol === 'https:' ? https : http;
    const req = lib.request(
      {
        protocol: t.protocol,
        host: t.host,
        port: t.port,
        path: '/health/ready',
        method: 'GET',
        timeout: 2000,
        // Readiness of our own process on a local address: the certificate's name is not the point.
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        let body = '';
        res
          .setEncoding('utf8')
          .on('data', (c) => {
            body += c;
          })
          .on('end', () => resolve({ status: res.statusCode, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: null, body: err.message }));
    req.end();
  });
}

async function main() {
  const args = parse(process.argv.slice(2));
  const shown = execFileSync(process.execPath, [CLI, ...args.configArgs, 'config', 'show'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const t = target(YAML.parse(shown));
  if (t.port === 0) {
    console.error('wait-ready: the port is 0 (chosen at start-up): readiness not checked');
    return 0;
  }
  const where = `${t.protocol}//${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}/health/ready`;
  const deadline = Date.now() + args.timeoutSeconds * 1000;
  let last = null;
  for (;;) {
    last = await probe(t);
    if (last.status === 200) {
      console.error(`wait-ready: ${where} answered 200`);
      return 0;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  console.error(
    `wait-ready: ${where} not ready after ${args.timeoutSeconds} s: ${last.status ?? 'no answer'} ${last.body.slice(0, 300)}`,
  );
  return 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`wait-ready: ${err.message}`);
    process.exitCode = 1;
  },
);
