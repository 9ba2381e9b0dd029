// Issue 19, item 5(a), the embedded engine: the one instance on SQLite killed
// with SIGKILL in the middle of logins and revocations (several times), then
// started again on the same file. Each time the file is intact (PRAGMA
// integrity_check, foreign keys), no login is half-written (a session
// without its token, a token without its session), no login or revocation
// that was answered 200 is lost (WAL, synchronous = NORMAL: a process crash
// loses no commit), and the restarted instance answers for every token as
// the file says.
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { basicAuth, killAllClis, startCli, type CliService } from '../helpers/cli.js';
import { request } from '../helpers/nginx.js';
import { tempSqliteUri } from '../helpers/sqlite.js';
import { until } from '../helpers/until.js';

const ADMIN_PASSWORD = 'sqlite-crash-admin-password';
const CYCLES = 3;
const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

describe('SIGKILL of the SQLite instance mid-load', () => {
  const db = tempSqliteUri();

  afterAll(async () => {
    await killAllClis();
    db.cleanup();
  });

  it('leaves an intact file, no half-written login, no answered login or revocation lost', async () => {
    const issued: string[] = [];
    const revoked: string[] = [];
    const obtained: string[] = [];
    const start = () => startCli({ dbUri: db.uri, adminPassword: ADMIN_PASSWORD, extraConfig: { token_cleanup_interval: 1 } });
    let instance: CliService = await start();

    for (let cycle = 0; cycle < CYCLES; cycle += 1) {
      const port = instance.port;
      let stop = false;
      let writes = 0;
      const client = async () => {
        for (let round = 0; !stop; round += 1) {
          const res = await request(
            port,
            'POST',
            '/0.1/token',
            { authorization: basicAuth('admin', ADMIN_PASSWORD), 'content-type': 'application/json' },
            '{}',
          ).catch(() => null);
          if (res?.status !== 200) continue;
          writes += 1;
          const { token } = JSON.parse(res.body).data as { token: string };
          obtained.push(token);
          if (round % 2 === 1) {
            const del = await request(port, 'DELETE', `/0.1/token/${token}`).catch(() => null);
            if (del?.status === 200) revoked.push(token);
            writes += 1;
          } else {
            issued.push(token);
          }
        }
      };
      const clients = Array.from({ length: 6 }, client);
      const target = 30 + cycle * 17;
      await until(() => writes >= target, 'load under way', 20_000);
      const exit = await instance.stop('SIGKILL');
      expect(exit.signal).toBe('SIGKILL');
      stop = true;
      await Promise.all(clients);

      // The file as the crash left it (the first connection recovers the WAL).
      const file = new Database(db.path, { fileMustExist: true });
      try {
        expect(file.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(file.pragma('foreign_key_check')).toEqual([]);
        expect(
          file
            .prepare(
              'select count(*) as n from sessions s where not exists (select 1 from tokens t where t.session_uuid = s.uuid)',
            )
            .get(),
        ).toEqual({ n: 0 });
        expect(
          file
            .prepare(
              'select count(*) as n from tokens t where not exists (select 1 from sessions s where s.uuid = t.session_uuid)',
            )
            .get(),
        ).toEqual({ n: 0 });
        const live = new Set(file.prepare('select hash from tokens').pluck().all() as string[]);
        for (const token of issued) expect(live.has(hashOf(token)), `login answered 200, cycle ${cycle}`).toBe(true);
        for (const token of revoked) expect(live.has(hashOf(token)), `revocation answered 200, cycle ${cycle}`).toBe(false);
      } finally {
        file.close();
      }

      instance = await start();
      const live = (() => {
        const conn = new Database(db.path, { readonly: true, fileMustExist: true });
        try {
          return new Set(conn.prepare('select hash from tokens').pluck().all() as string[]);
        } finally {
          conn.close();
        }
      })();
      for (const token of obtained) {
        expect((await request(instance.port, 'HEAD', `/0.1/token/${token}`)).status).toBe(live.has(hashOf(token)) ? 204 : 404);
      }
    }
    expect(revoked.length).toBeGreaterThan(0);
    await instance.stop();
  }, 120_000);
});
