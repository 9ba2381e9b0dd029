// Issue 19, item 5(b): SQLite on a full disk. The database sits on a small
// tmpfs made by this test (root, as in CI: it fails, never skips, when mount
// is impossible); a filler file takes the rest of the space. Writes (logins,
// user creation, revocations) answer 503 with Retry-After, never 500; reads
// (a check of an existing token, lists) keep working; once the filler is
// deleted, writes work again without a restart, and the file is intact
// (PRAGMA integrity_check, foreign keys, no half-written login).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src/main.js';
import { ADMIN, basic, testConfig } from '../helpers/service.js';
import { until } from '../helpers/until.js';

const SIZE = '3m';

/** Fills the filesystem of `dir` with `file` until the first ENOSPC (then a page at a time). */
function fill(file: string): number {
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (const size of [64 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

describe('SQLite on a full disk', () => {
  let dir: string;
  let mounted = false;
  let dbPath: string;
  let service: Service;
  let filler: string;
  const warnings: string[] = [];

  const inject = (opts: InjectOptions) => service.app.inject(opts);
  const login = (username: string, password: string) =>
    inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { authorization: basic(username, password) },
      payload: {},
    });
  const tokenOf = (res: LightMyRequestResponse) => {
    if (res.statusCode !== 200) throw new Error(`login: ${res.statusCode} ${res.body}`);
    return res.json().data.token as string;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xivo-auth-disk-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(
        `this test needs to mount a tmpfs (run it as root, as CI does): mount failed: ${stderr || (err as Error).message}`,
      );
    }
    mounted = true;
    dbPath = join(dir, 'auth.db');
    filler = join(dir, 'filler');
    const logger = pino(
      { level: 'warn' },
      {
        write(line: string) {
          warnings.push(line);
        },
      },
    );
    service = await createService(testConfig(`sqlite:${dbPath}`, { db_timeout_seconds: 1 }), logger);
    await service.app.ready();
  });

  afterAll(async () => {
    await service?.close();
    if (mounted) {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      }
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('writes answer 503 + Retry-After, reads keep working, writes work again once space is freed, nothing is corrupted', async () => {
    const admin = tokenOf(await login(ADMIN.username, ADMIN.password));
    const asAdmin = { 'x-auth-token': admin };
    const created = await inject({
      method: 'POST',
      url: '/0.1/users',
      headers: asAdmin,
      payload: { username: 'reader', password: 'reader-password' },
    });
    expect(created.statusCode).toBe(200);
    // Tokens issued before the disk fills, not checked yet (not in the token cache):
    // their checks read the database.
    const existing = [];
    for (let i = 0; i < 4; i += 1) existing.push(tokenOf(await login('reader', 'reader-password')));
    const sessionsBefore = countSessions();

    fill(filler);
    expect(statfsSync(dir).bavail).toBe(0);

    // SQLite reuses the space it has (the WAL's, free pages) before it needs
    // more: write until a write is refused.
    let refused: LightMyRequestResponse | null = null;
    const accepted: string[] = [];
    for (let i = 0; i < 400 && refused === null; i += 1) {
      const res = await login('reader', 'reader-password');
      if (res.statusCode === 200) accepted.push(res.json().data.token);
      else refused = res;
    }
    expect(refused, 'a login refused on the full disk').not.toBeNull();
    expect(refused!.statusCode, refused!.body).toBe(503);
    expect(refused!.headers['retry-after']).toBe('1');

    // Every write: 503 + Retry-After, never 500.
    const writes = [
      () => login('reader', 'reader-password'),
      () => login(ADMIN.username, ADMIN.password),
      () =>
        inject({
          method: 'POST',
          url: '/0.1/users',
          headers: asAdmin,
          payload: { username: 'writer', password: 'writer-password' },
        }),
      () => inject({ method: 'POST', url: '/0.1/tenants', headers: asAdmin, payload: { name: 'full' } }),
    ];
    for (const write of writes) {
      for (let i = 0; i < 3; i += 1) {
        const res = await write();
        expect(res.statusCode, res.body).toBe(503);
        expect(res.headers['retry-after']).toBe('1');
      }
    }

    // Reads keep working: checks of existing tokens (from the database, then from the cache), lists.
    for (const token of existing) {
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode).toBe(204);
      expect((await inject({ method: 'GET', url: `/0.1/token/${token}` })).statusCode).toBe(200);
    }
    for (const token of accepted) expect((await inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode).toBe(204);
    const users = await inject({ method: 'GET', url: '/0.1/users', headers: asAdmin });
    expect(users.statusCode).toBe(200);
    expect(users.json().items.map((u: { username: string }) => u.username)).toContain('reader');
    expect((await inject({ method: 'GET', url: '/0.1/tenants', headers: asAdmin })).statusCode).toBe(200);
    expect((await inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    // Reads work, so the instance stays ready (taking it out would refuse the checks too).
    expect((await inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    expect((await inject({ method: 'GET', url: '/0.1/status' })).json().store.status).toBe('ok');
    // What the operator sees in the log: one warning per refused request, naming the cause.
    expect(warnings.some((l) => l.includes('"msg":"service unavailable"') && l.includes('database or disk is full'))).toBe(true);

    // The refused logins left no session behind.
    expect(countSessions()).toBe(sessionsBefore + accepted.length);

    // A revocation is a write: 503, and the token stays valid (nothing half-done).
    const revoke = await inject({ method: 'DELETE', url: `/0.1/token/${existing[0]}` });
    expect(revoke.statusCode).toBe(503);
    expect((await inject({ method: 'HEAD', url: `/0.1/token/${existing[0]}` })).statusCode).toBe(204);

    // Space again: writes work, with no restart.
    unlinkSync(filler);
    await until(async () => (await login('reader', 'reader-password')).statusCode === 200, 'a login once space is back', 5000);
    const again = tokenOf(await login('reader', 'reader-password'));
    expect((await inject({ method: 'HEAD', url: `/0.1/token/${again}` })).statusCode).toBe(204);
    expect(
      (
        await inject({
          method: 'POST',
          url: '/0.1/users',
          headers: asAdmin,
          payload: { username: 'writer', password: 'writer-password' },
        })
      ).statusCode,
    ).toBe(200);
    expect(tokenOf(await login('writer', 'writer-password'))).toBeTruthy();
    expect((await inject({ method: 'DELETE', url: `/0.1/token/${existing[0]}` })).statusCode).toBe(200);
    expect((await inject({ method: 'HEAD', url: `/0.1/token/${existing[0]}` })).statusCode).toBe(404);
    for (const token of [...existing.slice(1), ...accepted])
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode).toBe(204);

    // Full a second time (the WAL grown meanwhile), freed again: the same.
    fill(filler);
    let refusedAgain = 0;
    for (let i = 0; i < 400 && refusedAgain === 0; i += 1) {
      const res = await login('writer', 'writer-password');
      if (res.statusCode === 503) refusedAgain += 1;
      else expect(res.statusCode).toBe(200);
    }
    expect(refusedAgain).toBe(1);
    expect((await inject({ method: 'GET', url: '/0.1/users', headers: asAdmin })).statusCode).toBe(200);
    unlinkSync(filler);
    await until(
      async () => (await login('writer', 'writer-password')).statusCode === 200,
      'a login once space is back again',
      5000,
    );

    // Nothing corrupted; every login committed whole or not at all.
    const check = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(check.pragma('foreign_key_check')).toEqual([]);
      expect(
        check
          .prepare('select count(*) as n from sessions s where not exists (select 1 from tokens t where t.session_uuid = s.uuid)')
          .get(),
      ).toEqual({ n: 0 });
      expect(
        check
          .prepare('select count(*) as n from tokens t where not exists (select 1 from sessions s where s.uuid = t.session_uuid)')
          .get(),
      ).toEqual({ n: 0 });
    } finally {
      check.close();
    }
  });

  function countSessions(): number {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('select count(*) as n from sessions').get() as { n: number }).n;
    } finally {
      db.close();
    }
  }
});
