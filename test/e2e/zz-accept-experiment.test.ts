import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { basicAuth, killAllClis, startCli } from '../helpers/cli.js';
import { tempSqliteUri } from '../helpers/sqlite.js';

afterAll(killAllClis);

it('accept', async () => {
  const db = tempSqliteUri();
  const svc = await startCli({ dbUri: db.uri });
  const login = await fetch(`${svc.url}/0.1/token`, { method: 'POST', headers: { authorization: basicAuth('admin', svc.admin.password), 'content-type': 'application/json' }, body: '{}' });
  const token = (await login.json()).data.token as string;
  const t0 = process.hrtime.bigint();
  const ms = () => (Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1);
  const samples: string[] = [];
  const timer = setInterval(() => {
    const out = execFileSync('ss', ['-ltnH', `sport = :${svc.port}`]).toString().trim();
    samples.push(`${ms()} ${out.replace(/\s+/g, ' ')}`);
  }, 5);
  const lines: string[] = [];
  await Promise.all(Array.from({ length: 16 }, (_, i) => new Promise<void>((resolve) => {
    const s = net.connect(svc.port, '127.0.0.1', () => {
      s.write(`GET /0.1/token/${token} HTTP/1.1\r\nHost: x\r\n\r\n`);
      lines.push(`${i} connected+written @${ms()}`);
    });
    s.once('data', () => { lines.push(`${i} first byte @${ms()}`); s.destroy(); resolve(); });
    s.on('error', (e) => { lines.push(`${i} err ${e.message}`); resolve(); });
  })));
  clearInterval(timer);
  console.log(lines.join('\n'));
  console.log(samples.slice(0, 40).join('\n'));
  await svc.stop();
  db.cleanup();
  expect(1).toBe(1);
}, 60_000);
