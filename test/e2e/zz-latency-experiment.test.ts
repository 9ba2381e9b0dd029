import http from 'node:http';
import { afterAll, expect, it } from 'vitest';
import { basicAuth, killAllClis, startCli } from '../helpers/cli.js';
import { tempSqliteUri } from '../helpers/sqlite.js';

afterAll(killAllClis);

it('latency', async () => {
  for (let round = 0; round < 3; round += 1) {
  const db = tempSqliteUri();
  const svc = await startCli({ dbUri: db.uri, args: process.env.DEBUG_SRV ? ['-d'] : [] });
  const login = await fetch(`${svc.url}/0.1/token`, { method: 'POST', headers: { authorization: basicAuth('admin', svc.admin.password), 'content-type': 'application/json' }, body: '{}' });
  const token = (await login.json()).data.token as string;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const t0 = process.hrtime.bigint();
  const lines: string[] = [];
  await Promise.all(Array.from({ length: 200 }, (_, i) => new Promise<void>((resolve) => {
    let written = 0n; let connected = 0n;
    const req = http.request(`${svc.url}/0.1/token/${token}`, { method: i % 2 ? 'HEAD' : 'GET', agent });
    req.on('socket', (s) => { if (s.connecting) s.once('connect', () => { connected = process.hrtime.bigint(); }); });
    req.on('finish', () => { written = process.hrtime.bigint(); });
    req.on('response', (res) => { res.resume(); res.on('end', () => { const now = process.hrtime.bigint(); if (i < 20) lines.push(`i=${i} status=${res.statusCode} connect@${Number(connected - t0)/1e6}ms written@${Number(written - t0)/1e6}ms done@${Number(now - t0)/1e6}ms`); resolve(); }); });
    req.on('error', (e) => { lines.push(`i=${i} error ${e.message}`); resolve(); });
    req.end();
  })));
  console.log(lines.sort((a, b) => Number(a.split(' ')[0].slice(2)) - Number(b.split(' ')[0].slice(2))).join('\n'));
  agent.destroy();
  const r = await svc.stop();
  if (process.env.DEBUG_SRV) console.log(r.stdout.split('\n').slice(0, 60).join('\n'));
  db.cleanup();
  }
  expect(1).toBe(1);
}, 120_000);
