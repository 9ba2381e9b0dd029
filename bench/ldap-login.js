#!/usr/bin/env node
// LDAP login latency: POST /0.1/token through the real HTTP service (built
// with `npm run build`, started as its own process on SQLite) against a local
// OpenLDAP slapd started the way the tests start it (bench/lib/slapd.js).
// One login at a time, `count` (default 200) per mode after 10 untimed ones:
//   search    service bind + search + user bind (plain LDAP)
//   direct    user bind on the DN built from the login
//   starttls  search mode over StartTLS
//   ldaps     search mode over ldaps://
// and xivo_user (argon2id, the service's default parameters) for comparison.
// Prints a table, then one JSON line with p50/p99/max in milliseconds.
//   node bench/ldap-login.js [count]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killAllChildren } from './lib/procs.js';
import { ADMIN, ServiceProcess } from './lib/service.js';
import { PEOPLE_DN, SERVICE_DN, SERVICE_PASSWORD, startSlapd } from './lib/slapd.js';
import { summarizeLatencies } from './lib/stats.js';
import { basic } from './lib/http.js';

const count = Number(process.argv[2] ?? 200);
const DOMAIN = 'bench.example.com';
process.on('exit', killAllChildren);

const slapd = await startSlapd();
const dir = mkdtempSync(path.join(os.tmpdir(), 'xivo-auth-bench-ldap-'));
const service = new ServiceProcess({
  name: 'ldap-login',
  dir,
  dbUri: `sqlite:${path.join(dir, 'auth.sqlite')}`,
  overrides: {
    enabled_backend_plugins: { xivo_user: true, ldap_user: true },
    ldap: { timeout: 2, tls_ca_cert: slapd.caCertFile },
  },
});

async function call(opts, expected = 200) {
  const res = await service.request(opts);
  if (res.status !== expected) throw new Error(`${opts.method ?? 'GET'} ${opts.path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

async function loginTimes(credentials, body, n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const res = await service.request({
      method: 'POST',
      path: '/0.1/token',
      headers: { authorization: basic(...credentials) },
      body,
    });
    if (res.status !== 200) throw new Error(`login answered ${res.status}: ${JSON.stringify(res.body)}`);
    times.push(res.ms);
  }
  return times;
}

try {
  await service.start();
  const admin = (
    await call({
      method: 'POST',
      path: '/0.1/token',
      headers: { authorization: basic(ADMIN.username, ADMIN.password) },
      body: {},
    })
  ).body.data.token;
  const tenant = (
    await call({
      method: 'POST',
      path: '/0.1/tenants',
      headers: { 'x-auth-token': admin },
      body: { name: 'bench', domain_names: [DOMAIN] },
    })
  ).body.uuid;
  const asTenant = { 'x-auth-token': admin, 'wazo-tenant': tenant };
  await call({
    method: 'POST',
    path: '/0.1/users',
    headers: asTenant,
    body: { username: 'alice-local', email_address: 'alice@example.com' },
  });

  const base = { host: '127.0.0.1', port: slapd.port, user_base_dn: PEOPLE_DN, user_login_attribute: 'uid' };
  const modes = {
    search: { ...base, bind_dn: SERVICE_DN, bind_password: SERVICE_PASSWORD },
    direct: { ...base, bind_dn: null },
    starttls: { ...base, bind_dn: SERVICE_DN, bind_password: SERVICE_PASSWORD, protocol_security: 'tls' },
    ldaps: { ...base, port: slapd.ldapsPort, bind_dn: SERVICE_DN, bind_password: SERVICE_PASSWORD, protocol_security: 'ldaps' },
  };
  const results = {};
  for (const [mode, config] of Object.entries(modes)) {
    await call({ method: 'PUT', path: '/0.1/backends/ldap', headers: asTenant, body: config });
    await loginTimes(['alice', 'alice-password'], { domain_name: DOMAIN }, 10);
    results[`ldap_user ${mode}`] = summarizeLatencies(
      await loginTimes(['alice', 'alice-password'], { domain_name: DOMAIN }, count),
    );
  }
  await loginTimes([ADMIN.username, ADMIN.password], {}, 10);
  results['xivo_user (argon2id)'] = summarizeLatencies(await loginTimes([ADMIN.username, ADMIN.password], {}, count));

  const fmt = (v) => (v === null ? '-' : v.toFixed(2).padStart(8));
  process.stdout.write(`logins one at a time, ${count} per row, milliseconds (HTTP round trip)\n`);
  process.stdout.write(`${'backend'.padEnd(24)}${'p50'.padStart(8)}${'p99'.padStart(8)}${'max'.padStart(8)}\n`);
  for (const [name, s] of Object.entries(results))
    process.stdout.write(`${name.padEnd(24)}${fmt(s.p50)}${fmt(s.p99)}${fmt(s.max)}\n`);
  process.stdout.write(`${JSON.stringify({ count, cpus: os.availableParallelism(), results })}\n`);
} finally {
  await service.stop();
  await slapd.close();
  rmSync(dir, { recursive: true, force: true });
}
