import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { afterAll, expect, it } from 'vitest';
import { basicAuth, killAllClis, startCli } from '../helpers/cli.js';
import { tempSqliteUri } from '../helpers/sqlite.js';

afterAll(killAllClis);

type Outcome = { status?: number; error?: string; writtenBeforeSignal: boolean; info?: string };

it('burst', async () => {
  for (let round = 0; round < Number(process.env.ROUNDS ?? 5); round += 1) {
  const db = tempSqliteUri();
  const svc = await startCli({ dbUri: db.uri, args: ['-d'] });
  const login = await fetch(`${svc.url}/0.1/token`, { method: 'POST', headers: { authorization: basicAuth('admin', svc.admin.password), 'content-type': 'application/json' }, body: '{}' });
  const token = (await login.json()).data.token as string;
  const agent = new http.Agent({ keepAlive: true, maxSockets: Number(process.env.SOCKETS ?? 16) });
  let signalSent = false;
  let responses = 0;
  const N = 200;
  const t0 = Date.now();
  let tSig = 0; let sigAt = 0n;
  const outcomes = await Promise.all(Array.from({ length: N }, (_, i) => new Promise<Outcome>((resolve) => {
    let connected = false; let finished = false; let wbs = false; let wAt = 0n; let reused = false; let lport = 0;
    const mark = () => { if (connected && finished && !signalSent) { wbs = true; wAt = process.hrtime.bigint(); } };
    const req = http.request(`${svc.url}/0.1/token/${token}`, { method: i % 2 ? 'HEAD' : 'GET', agent });
    req.on('socket', (s) => { reused = (s as any)._reuses ?? !s.connecting; s.once('connect', () => { lport = s.localPort ?? 0; }); if (!s.connecting) lport = s.localPort ?? 0; if (s.connecting) s.once('connect', () => { connected = true; mark(); }); else { connected = true; } });
    req.on('finish', () => { finished = true; mark(); });
    req.on('response', (res) => { res.resume(); res.on('end', () => { responses += 1; if (responses === Number(process.env.AFTER ?? 60) && !signalSent) { signalSent = true; tSig = Date.now(); sigAt = process.hrtime.bigint(); svc.proc.kill('SIGTERM'); } resolve({ status: res.statusCode, writtenBeforeSignal: wbs }); }); res.on('error', (e) => resolve({ error: `res:${(e as NodeJS.ErrnoException).code ?? e.message}`, writtenBeforeSignal: wbs })); });
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message, writtenBeforeSignal: wbs, info: wbs ? `i=${i} ${i%2?'HEAD':'GET'} wrote ${Number(sigAt - wAt)/1000}us before signal reused=${reused} port=${lport} msg=${e.message}` : undefined }));
    req.end();
  })));
  const summary: Record<string, number> = {};
  for (const o of outcomes) { const k = `${o.status ?? o.error}/${o.writtenBeforeSignal ? 'before' : 'after'}`; summary[k] = (summary[k] ?? 0) + 1; }
  const t1 = Date.now(); for (const o of outcomes) if (o.info) console.log(o.info);
  await new Promise((r) => setTimeout(r, 1500));
  const exitedWithoutDestroy = svc.proc.exitCode !== null;
  agent.destroy();
  const res = await svc.stop(); if (summary['ECONNRESET/before']) { writeFileSync(`/tmp/burstlog-${round}.txt`, res.stdout); }
  console.log(round, JSON.stringify(summary), 'burst ms', t1 - t0, 'sig at', tSig - t0, 'exited before agent.destroy', exitedWithoutDestroy, 'code', res.code, res.signal);
  db.cleanup();
  }
  expect(1).toBe(1);
}, 120_000);
