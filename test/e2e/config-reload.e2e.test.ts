// Reload without restart (issue 26, item 3): the built CLI as a real process,
// its configuration file edited, then SIGHUP. What can change live changes
// (log level and debug, default policies, rate limits, CORS); a bad file is
// logged and ignored; restart-only keys are reported. Needs `npm run build`.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { assertBuilt, basicAuth, deepMerge, killAllClis, startCli, type CliService } from '../helpers/cli.js';
import { tempSqliteUri, type TempSqlite } from '../helpers/sqlite.js';

const sqlite: TempSqlite[] = [];
beforeAll(() => assertBuilt());
afterAll(async () => {
  await killAllClis();
  for (const db of sqlite.splice(0)) db.cleanup();
});

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

function logLines(svc: CliService): LogLine[] {
  return svc
    .logs()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

async function waitForLog(svc: CliService, from: number, match: (line: LogLine) => boolean, what: string): Promise<LogLine> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = logLines(svc).slice(from).find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no log line ${what}; logs:\n${svc.logs().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Edits the YAML file, sends SIGHUP and waits for the reload's outcome line. */
async function reloadWith(
  svc: CliService,
  edit: ((config: Record<string, unknown>) => Record<string, unknown>) | string,
): Promise<{ outcome: LogLine; from: number }> {
  const text =
    typeof edit === 'string'
      ? edit
      : YAML.stringify(edit(YAML.parse(readFileSync(svc.configFile, 'utf8')) as Record<string, unknown>));
  writeFileSync(svc.configFile, text);
  const from = logLines(svc).length;
  process.kill(svc.pid, 'SIGHUP');
  const outcome = await waitForLog(
    svc,
    from,
    (l) => /^configuration reload/.test(l.msg) && !/live keys applied|needs a restart/.test(l.msg),
    'reporting the reload',
  );
  return { outcome, from };
}

const DEBUG = 20;

describe('SIGHUP reloads the configuration', () => {
  it('applies the live keys, ignores a bad file and reports restart-only keys', async () => {
    const db = tempSqliteUri();
    sqlite.push(db);
    const svc = await startCli({
      dbUri: db.uri,
      extraConfig: {
        log_level: 'info',
        rest_api: { cors: { enabled: true, allow_origins: ['https://a.example'] } },
        authz: { routes: [{ path: '/a/{id}', access: 'a.{id}.read' }] },
      },
    });
    try {
      const login = await fetch(`${svc.url}/0.1/token`, {
        method: 'POST',
        headers: { authorization: basicAuth('admin', svc.admin.password), 'content-type': 'application/json' },
        body: '{}',
      });
      expect(login.status).toBe(200);
      const token = ((await login.json()) as { data: { token: string } }).data.token;
      const api = (path: string, init: RequestInit = {}) =>
        fetch(`${svc.url}/0.1${path}`, { ...init, headers: { 'x-auth-token': token, ...(init.headers ?? {}) } });
      const policySlugs = async () => {
        const res = await api('/policies');
        expect(res.status).toBe(200);
        return ((await res.json()) as { items: { slug: string }[] }).items.map((p) => p.slug);
      };
      const gateway = (uri: string) =>
        fetch(`${svc.url}/0.1/authz`, { headers: { 'x-auth-token': token, 'x-original-uri': uri } });
      const allowedOrigin = async (origin: string) =>
        (await fetch(`${svc.url}/0.1/status`, { headers: { origin } })).headers.get('access-control-allow-origin');

      // Before: no debug lines, no such policy, origin a only, generous API limit.
      expect(logLines(svc).some((l) => l.level === DEBUG)).toBe(false);
      expect(await policySlugs()).not.toContain('reloaded_policy');
      expect(await allowedOrigin('https://a.example')).toBe('https://a.example');
      expect(await allowedOrigin('https://b.example')).toBeNull();
      for (let i = 0; i < 5; i += 1) expect((await api('/users')).status).not.toBe(429);
      // Gateway: /b/* is in no route: fail closed.
      expect((await gateway('/a/1')).status).toBe(200);
      expect((await gateway('/b/1')).status).toBe(403);

      // Live keys and a restart-only one.
      const { outcome, from } = await reloadWith(svc, (c) =>
        deepMerge(c, {
          log_level: 'debug',
          debug: true,
          default_policies: { reloaded_policy: { acl: ['reload.test.read'] } },
          security: { rate_limits: { api: { per_second: 0.01, burst: 3 } } },
          rest_api: { port: 1, cors: { allow_origins: ['https://b.example'] } },
          authz: { routes: [{ path: '/b/{id}', access: 'b.{id}.read' }], cache_max_age: 30 },
        }),
      );
      expect(outcome.msg).toBe('configuration reloaded');
      expect(outcome.applied).toEqual(
        expect.arrayContaining([
          'debug',
          'log_level',
          'default_policies.reloaded_policy',
          'security.rate_limits.api.burst',
          'rest_api.cors.allow_origins',
          'authz.routes',
          'authz.cache_max_age',
        ]),
      );
      expect(outcome.needs_restart).toEqual(['rest_api.port']);
      const restart = await waitForLog(svc, from, (l) => /needs a restart/.test(l.msg), 'naming the restart-only keys');
      expect(restart.msg).toBe('configuration reload: needs a restart: rest_api.port');
      // Debug lines now appear (the reload's own, then per-request logging).
      await waitForLog(svc, from, (l) => l.level === DEBUG, 'at debug level');
      expect(await policySlugs()).toContain('reloaded_policy');
      await waitForLog(
        svc,
        from,
        (l) => l.msg === 'incoming request' && (l.req as { url?: string } | undefined)?.url === '/0.1/policies',
        'of a request (debug on)',
      );
      expect(await allowedOrigin('https://b.example')).toBe('https://b.example');
      expect(await allowedOrigin('https://a.example')).toBeNull();
      // The new gateway route table and cache lifetime.
      const allowed = await gateway('/b/1');
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
      expect((await gateway('/a/1')).status).toBe(403);
      // The new API limit: burst 3 (one already taken by GET /policies).
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) statuses.push((await api('/users')).status);
      expect(statuses).toContain(429);
      // Still listening where it was.
      expect((await fetch(`${svc.url}/0.1/status`)).status).toBe(200);

      // Invalid YAML: logged, ignored.
      const saved = readFileSync(svc.configFile, 'utf8');
      const bad = await reloadWith(svc, 'log_level: [unclosed\n  debug: {{{\n');
      expect(bad.outcome.msg).toBe('configuration reload rejected: the running configuration stays');
      expect(JSON.stringify(bad.outcome.problems)).toMatch(/config\.yml/);
      expect(await allowedOrigin('https://b.example')).toBe('https://b.example');

      // An invalid value: logged, ignored, nothing applied (not even the valid keys beside it).
      const invalid = await reloadWith(
        svc,
        YAML.stringify(
          deepMerge(YAML.parse(saved) as Record<string, unknown>, {
            log_level: 'loud',
            rest_api: { cors: { allow_origins: ['https://c.example'] } },
          }),
        ),
      );

      expect(invalid.outcome.msg).toBe('configuration reload rejected: the running configuration stays');
      expect(JSON.stringify(invalid.outcome.problems)).toMatch(/log_level/);
      expect(await allowedOrigin('https://c.example')).toBeNull();
      expect(await allowedOrigin('https://b.example')).toBe('https://b.example');

      // db_uri needs a restart too; rest_api.port (from the first reload) is
      // reported again: the running value is still the old one.
      const again = await reloadWith(
        svc,
        YAML.stringify(deepMerge(YAML.parse(saved) as Record<string, unknown>, { db_uri: `${db.uri}.other` })),
      );

      expect(again.outcome.needs_restart).toEqual(['db_uri', 'rest_api.port']);
      expect(again.outcome.applied).toEqual([]);
      expect(again.outcome.msg).toBe('configuration reloaded: nothing to apply live');

      const exit = await svc.stop();
      expect(exit.code).toBe(0);
    } finally {
      if (svc.proc.exitCode === null) await svc.stop().catch(() => undefined);
    }
  }, 60_000);
});
