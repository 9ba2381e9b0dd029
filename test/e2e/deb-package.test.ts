// The Debian package, for real (docs/packaging.md, "What the test proves").
//
// Builds the .deb with `npm run package:deb`, checks its metadata and
// contents, then installs it into a throw-away Debian root made by mmdebstrap
// from Debian's mirror, booted with systemd as PID 1 under systemd-nspawn
// (sharing the host's network, so the test speaks HTTP to it on 127.0.0.1):
// dpkg -i creates the user and the data directory, migrates, enables and
// starts the hardened unit, whose readiness waits for /health/ready; a
// bootstrap and a login over HTTP; an upgrade to a rebuilt package with a
// bumped version (migrations not re-applied, an edited config.yml kept, the
// service restarted on the new code); remove (service stopped and gone,
// configuration and data kept); purge (configuration, data and user gone).
//
// Node 20 is not in Debian 12: the root gets this machine's own nodejs
// package, repacked with dpkg-repack, so that `Depends: nodejs (>= 20)` is
// satisfied by dpkg itself (nothing forced).
//
// Needs root, dpkg-deb, mmdebstrap, systemd-nspawn (systemd-container),
// dpkg-repack and nsenter; .ci/run installs them. Missing ones fail the
// test, they never skip it. Nothing is installed on this machine: the root
// (under the temporary directory) is purged and deleted at the end.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

const SETUP_TIMEOUT = 8 * 60_000;
const STEP_TIMEOUT = 3 * 60_000;
const MIRROR = process.env.XIVO_AUTH_TEST_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
const ADMIN_PASSWORD = `adm-${randomBytes(9).toString('base64url')}`;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command; never throws (the caller decides what a failure means). */
function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
        resolve({ code, stdout, stderr: err && code === null ? `${stderr}\n${err.message}` : stderr });
      },
    );
  });
}

function describeResult(what: string, r: Result): string {
  const cut = (s: string) => (s.length > 8000 ? `...${s.slice(-8000)}` : s);
  return `${what}: exit ${r.code}\n--- stdout ---\n${cut(r.stdout)}\n--- stderr ---\n${cut(r.stderr)}`;
}

async function ok(what: string, p: Promise<Result>): Promise<Result> {
  const r = await p;
  if (r.code !== 0) throw new Error(describeResult(what, r));
  return r;
}

function log(message: string): void {
  process.stdout.write(`[deb-package] ${message}\n`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The children of `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** A Debian root booted by systemd-nspawn; commands run in it through nsenter. */
class Container {
  private proc: ChildProcess | null = null;
  private output = '';
  private leader = 0;

  constructor(
    readonly root: string,
    readonly name: string,
  ) {}

  async boot(): Promise<void> {
    // --register=no --keep-unit: no systemd-machined nor host systemd needed.
    // No --private-network: the service's 127.0.0.1 is the test's.
    this.proc = spawn(
      'systemd-nspawn',
      ['-D', this.root, '--boot', '--register=no', '--keep-unit', '--console=pipe', '-M', this.name],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc.stdout!.setEncoding('utf8').on('data', (c: string) => {
      this.output += c;
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (c: string) => {
      this.output += c;
    });
    const nspawn = this.proc.pid!;
    this.leader = await until('systemd as PID 1 of the container', 30_000, async () => {
      if (this.proc?.exitCode !== null) throw new Error(`systemd-nspawn exited (${this.proc?.exitCode}):\n${this.output}`);
      const init = childrenOf(nspawn).find((p) => {
        try {
          return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'systemd';
        } catch {
          return false;
        }
      });
      return init ?? null;
    });
    // Until systemd has its socket up, systemctl cannot connect: ask again.
    let state: Result = { code: null, stdout: '', stderr: '' };
    const deadline = Date.now() + 90_000;
    for (;;) {
      state = await this.exec(['systemctl', 'is-system-running', '--wait'], 90_000);
      const s = state.stdout.trim();
      if (s === 'running' || s === 'degraded') break;
      if (Date.now() > deadline || (s !== '' && s !== 'initializing' && s !== 'starting')) {
        throw new Error(`${describeResult('systemctl is-system-running', state)}\n--- console ---\n${this.output}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const s = state.stdout.trim();
    if (s === 'degraded')
      log(`container degraded: ${(await this.exec(['systemctl', '--failed', '--no-legend', '--plain'])).stdout.trim()}`);
  }

  exec(args: string[], timeoutMs = 120_000): Promise<Result> {
    if (this.leader === 0) throw new Error('container not booted');
    // A clean environment: nothing of the test runner's (NODE_OPTIONS, XIVO_AUTH_*) leaks in.
    return run(
      'nsenter',
      [
        '-t',
        String(this.leader),
        '-a',
        'env',
        '-i',
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'LANG=C.UTF-8',
        'HOME=/root',
        'TERM=dumb',
        'DEBIAN_FRONTEND=noninteractive',
        ...args,
      ],
      { timeoutMs },
    );
  }

  /** Path on this machine of a path inside the container. */
  host(p: string): string {
    return path.join(this.root, p);
  }

  console(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM'); // nspawn --boot: an orderly shutdown of the container
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Fails (never skips) when something the test needs is missing. */
async function assertTools(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the Debian package test needs root (dpkg, mmdebstrap, systemd-nspawn)');
  const missing: string[] = [];
  for (const tool of ['dpkg-deb', 'dpkg-shlibdeps', 'mmdebstrap', 'systemd-nspawn', 'dpkg-repack', 'nsenter']) {
    if ((await run('sh', ['-c', `command -v ${tool}`])).code !== 0) missing.push(tool);
  }
  if (missing.length > 0) {
    throw new Error(
      `missing: ${missing.join(', ')} (.ci/run installs them: apt-get install dpkg-dev mmdebstrap systemd-container dpkg-repack)`,
    );
  }
  const owner = await run('dpkg', ['-S', process.execPath]);
  if (owner.code !== 0 || !owner.stdout.startsWith('nodejs:')) {
    throw new Error(
      `${process.execPath} does not come from a Debian "nodejs" package (${owner.stdout.trim() || owner.stderr.trim()}): ` +
        "the throw-away root gets this machine's nodejs repacked, to satisfy Depends: nodejs (>= 20)",
    );
  }
}

function osCodename(): string {
  const m = /^VERSION_CODENAME=(.+)$/m.exec(readFileSync('/etc/os-release', 'utf8'));
  if (!m) throw new Error('no VERSION_CODENAME in /etc/os-release');
  return m[1].replace(/"/g, '');
}

async function buildDeb(out: string, revision: string): Promise<string> {
  // --no-build: npm test built dist/ in pretest; building again here would
  // rewrite files that the suites running alongside are importing.
  // gzip: xz costs ~25 s per build here, and the format is the same.
  const r = await ok(
    `npm run package:deb (revision ${revision})`,
    run(
      'npm',
      ['run', '--silent', 'package:deb', '--', '--no-build', '--revision', revision, '--compression', 'gzip', '--out', out],
      { cwd: REPO_ROOT, timeoutMs: 6 * 60_000 },
    ),
  );
  const deb = r.stdout.trim().split('\n').pop()!;
  if (!existsSync(deb)) throw new Error(describeResult('package:deb printed no .deb', r));
  return deb;
}

/** The rows of schema_migrations, read from a copy (the service may hold the file). */
function migrationRows(dbFile: string): { version: number; name: string; applied_at: number }[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'xivo-auth-deb-db-'));
  try {
    for (const suffix of ['', '-wal', '-shm'])
      if (existsSync(dbFile + suffix)) copyFileSync(dbFile + suffix, path.join(dir, `db${suffix}`));
    const db = new Database(path.join(dir, 'db'));
    try {
      return db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all() as {
        version: number;
        name: string;
        applied_at: number;
      }[];
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

describe('Debian package: build, install into a fresh Debian root under systemd, upgrade, remove, purge', () => {
  let work: string;
  let debV1: string;
  let debV2: string;
  let ct: Container;
  let port: number;
  let base: string;
  let userUid: string;
  let migrationsAfterInstall: { version: number; name: string; applied_at: number }[];
  let mainPidV1: string;
  const arch = () => run('dpkg', ['--print-architecture']).then((r) => r.stdout.trim());

  beforeAll(async () => {
    await assertTools();
    work = mkdtempSync(path.join(tmpdir(), 'xivo-auth-deb-test-'));
    const debs = path.join(work, 'debs');
    mkdirSync(debs);
    const root = path.join(work, 'root');
    const started = Date.now();
    const since = () => `${Math.round((Date.now() - started) / 1000)} s`;

    // The three slow parts at once: they wait on different things (disk, the mirror, dpkg).
    const builds = (async () => {
      debV1 = await buildDeb(path.join(debs, 'v1'), '1');
      log(`built ${path.basename(debV1)} (${since()})`);
      debV2 = await buildDeb(path.join(debs, 'v2'), '2');
      log(`built ${path.basename(debV2)} (${since()})`);
    })();
    const rootfs = (async () => {
      const suite = osCodename();
      // Only what a Debian system has plus the package's and nodejs's dependencies, and systemd to boot it.
      const r = await run(
        'mmdebstrap',
        [
          '--variant=essential',
          '--mode=root',
          '--quiet',
          '--include=adduser,passwd,python3,ca-certificates,libstdc++6,systemd,systemd-sysv',
          suite,
          root,
          MIRROR,
        ],
        { timeoutMs: 5 * 60_000 },
      );
      if (r.code !== 0) throw new Error(describeResult(`mmdebstrap ${suite} from ${MIRROR}`, r));
      log(`mmdebstrap ${suite}: done (${since()})`);
    })();
    const nodejs = (async () => {
      const dir = path.join(work, 'nodejs');
      mkdirSync(dir);
      await ok(
        'dpkg-repack nodejs',
        run('dpkg-repack', ['--deb-option=-Zgzip', '--deb-option=-z1', 'nodejs'], { cwd: dir, timeoutMs: 5 * 60_000 }),
      );
      log(`dpkg-repack nodejs: done (${since()})`);
      return path.join(
        dir,
        readdirSync(dir).find((f) => f.endsWith('.deb'))!,
      );
    })();
    // allSettled: on a failure, nothing may still be writing into `work` when afterAll deletes it.
    const settled = await Promise.allSettled([builds, rootfs, nodejs]);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const nodejsDeb = (settled[2] as PromiseFulfilledResult<string>).value;

    const inRoot = path.join(root, 'root', 'debs');
    mkdirSync(inRoot, { recursive: true });
    for (const f of [debV1, debV2, nodejsDeb]) copyFileSync(f, path.join(inRoot, path.basename(f)));

    // An operator's local setting, there before the package: a free port
    // (9497 may be taken on this machine), kept by every step but purge.
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    mkdirSync(path.join(root, 'etc', 'xivo-auth', 'conf.d'), { recursive: true });
    writeFileSync(path.join(root, 'etc', 'xivo-auth', 'conf.d', '50-test.yml'), `rest_api:\n  port: ${port}\n`);

    ct = new Container(root, `xa-deb-${randomBytes(4).toString('hex')}`);
    await ct.boot();
    log(`container booted with systemd (${since()})`);
    await ok('dpkg -i nodejs', ct.exec(['dpkg', '-i', `/root/debs/${path.basename(nodejsDeb)}`]));
    log(`nodejs installed in the container (${since()})`);
  }, SETUP_TIMEOUT);

  afterAll(async () => {
    // Always purged, whatever failed; then the root is deleted with everything in it.
    if (ct) {
      try {
        const st = await ct.exec(['dpkg-query', '-W', '-f=${db:Status-Status}', 'xivo-auth']);
        if (st.code === 0 && st.stdout.trim() !== 'not-installed') {
          const purge = await ct.exec(['dpkg', '--purge', 'xivo-auth']);
          if (purge.code !== 0) log(describeResult('afterAll: dpkg --purge', purge));
        }
      } catch (err) {
        log(`afterAll: ${(err as Error).message}`);
      }
      await ct.stop();
    }
    if (work) rmSync(work, { recursive: true, force: true });
  }, 2 * 60_000);

  it(
    'is a binary package with the service, its production modules, the unit and the conffiles',
    async () => {
      const info = await ok('dpkg-deb --info', run('dpkg-deb', ['--info', debV1]));
      const field = async (name: string) => (await ok(`dpkg-deb -f ${name}`, run('dpkg-deb', ['-f', debV1, name]))).stdout.trim();
      expect(await field('Package')).toBe('xivo-auth');
      const version = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version as string;
      expect(await field('Version')).toBe(`${version.replace(/-/g, '~')}-1`);
      expect(await field('Architecture')).toBe(await arch()); // native modules: better-sqlite3, @node-rs/argon2
      expect(await field('Depends')).toMatch(/^nodejs \(>= 20\), adduser, libc6 \(>= [\d.]+\)/);
      expect(info.stdout).toMatch(/conffiles/);
      const conffiles = (await ok('dpkg-deb --info conffiles', run('dpkg-deb', ['--info', debV1, 'conffiles']))).stdout
        .trim()
        .split('\n');
      expect(conffiles.sort()).toEqual(['/etc/xivo-auth/conf.d/README', '/etc/xivo-auth/config.yml']);
      for (const script of ['postinst', 'prerm', 'postrm']) expect(info.stdout).toMatch(new RegExp(`\\*\\s+${script}\\s`));

      const listing = (await ok('dpkg-deb --contents', run('dpkg-deb', ['--contents', debV1]))).stdout
        .split('\n')
        .filter(Boolean);
      const entries = new Map<string, string>();
      for (const line of listing) {
        const m = /^(\S+)\s+(\S+)\s+\d+\s+\S+\s+\S+\s+\.(\/.*?)\/?(?: -> (.+))?$/.exec(line);
        if (!m) throw new Error(`unexpected dpkg-deb --contents line: ${line}`);
        entries.set(m[3], `${m[1]} ${m[2]}${m[4] ? ` -> ${m[4]}` : ''}`);
      }
      const file = (p: string) => {
        const e = entries.get(p);
        expect(e, p).toBeDefined();
        return e!;
      };
      expect(file('/usr/lib/xivo-auth/dist/cli/main.js')).toMatch(/^-rw-r--r-- root\/root/);
      expect(file('/usr/lib/xivo-auth/bin/xivo-auth.js')).toMatch(/^-rwxr-xr-x root\/root/);
      expect(file('/usr/lib/xivo-auth/package.json')).toMatch(/^-/);
      expect(file('/usr/lib/xivo-auth/libexec/wait-ready.js')).toMatch(/^-rwxr-xr-x/);
      expect(file('/usr/bin/xivo-auth')).toMatch(/^l\S+ root\/root -> \.\.\/lib\/xivo-auth\/bin\/xivo-auth\.js$/);
      expect(file('/lib/systemd/system/xivo-auth.service')).toMatch(/^-rw-r--r--/);
      expect(file('/etc/xivo-auth/config.yml')).toMatch(/^-rw-r----- root\/root/);
      expect(file('/etc/xivo-auth/conf.d/README')).toMatch(/^-rw-r--r--/);
      expect(file('/usr/share/doc/xivo-auth/copyright')).toMatch(/^-/);
      // The workspace package is a real copy (a link would point into the checkout).
      expect(file('/usr/lib/xivo-auth/node_modules/@xivo-auth/acl/package.json')).toMatch(/^-/);
      expect(file('/usr/lib/xivo-auth/node_modules/@xivo-auth/acl/dist/index.js')).toMatch(/^-/);
      expect(file('/usr/lib/xivo-auth/node_modules/better-sqlite3/build/Release/better_sqlite3.node')).toMatch(/^-/);
      expect(
        [...entries.keys()].some((p) =>
          /^\/usr\/lib\/xivo-auth\/node_modules\/@node-rs\/argon2-linux-[^/]+\/argon2\.[^/]+\.node$/.test(p),
        ),
      ).toBe(true);
      for (const prod of ['fastify', 'kysely', 'pg', 'pino', 'yaml'])
        expect(entries.has(`/usr/lib/xivo-auth/node_modules/${prod}/package.json`), prod).toBe(true);
      // Production only: no devDependency, no other workspace, no build leftovers.
      for (const dev of [
        'typescript',
        'vitest',
        'fast-check',
        'autocannon',
        '@types/node',
        '@xivo-auth/client',
        '@xivo-auth/verifier',
        'xivo-auth-cli',
      ]) {
        expect(entries.has(`/usr/lib/xivo-auth/node_modules/${dev}`), dev).toBe(false);
      }
      expect([...entries.keys()].filter((p) => p.includes('/better-sqlite3/deps/') || p.includes('/obj.target/'))).toEqual([]);
      // Type declarations some dependencies list as dependencies are not shipped.
      expect([...entries.keys()].filter((p) => p.includes('/node_modules/@types/'))).toEqual([]);
      expect([...entries.keys()].filter((p) => p.startsWith('/var/') || p.startsWith('/home/') || p.startsWith('/tmp/'))).toEqual(
        [],
      );
      // Every link stays inside the package.
      for (const [p, e] of entries) {
        const target = / -> (.+)$/.exec(e)?.[1];
        if (target === undefined) continue;
        expect(target.startsWith('/'), `${p} -> ${target}`).toBe(false);
        expect(path.resolve(path.dirname(p), target).startsWith('/usr/'), `${p} -> ${target}`).toBe(true);
      }
      for (const [p, e] of entries) expect(e.split(' ')[1], p).toBe('root/root');
    },
    STEP_TIMEOUT,
  );

  it(
    'installs with dpkg -i: the system user, the data directory, one migration run, the unit enabled and started under systemd',
    async () => {
      const install = await ok('dpkg -i xivo-auth', ct.exec(['dpkg', '-i', `/root/debs/${path.basename(debV1)}`], STEP_TIMEOUT));
      expect(install.stdout).toContain('migrations applied to sqlite:/var/lib/xivo-auth/xivo-auth.sqlite');
      expect((await ct.exec(['dpkg-query', '-W', '-f=${Status} ${Version}', 'xivo-auth'])).stdout).toMatch(
        /^install ok installed \S+-1$/,
      );
      expect((await ct.exec(['dpkg', '--verify', 'xivo-auth'])).stdout).toBe(''); // md5sums match what is on disk

      // The user: a system account without a shell, at home in its data directory.
      const pw = (await ok('getent passwd', ct.exec(['getent', 'passwd', 'xivo-auth']))).stdout.trim().split(':');
      userUid = pw[2];
      expect(Number(pw[2])).toBeLessThan(1000);
      expect(pw[5]).toBe('/var/lib/xivo-auth');
      expect(pw[6]).toMatch(/nologin|false/);
      expect((await ct.exec(['id', '-gn', 'xivo-auth'])).stdout.trim()).toBe('xivo-auth');
      const stat = async (p: string) => (await ok(`stat ${p}`, ct.exec(['stat', '-c', '%U:%G %a', p]))).stdout.trim();
      expect(await stat('/var/lib/xivo-auth')).toBe('xivo-auth:xivo-auth 750');
      expect(await stat('/var/lib/xivo-auth/xivo-auth.sqlite')).toMatch(/^xivo-auth:xivo-auth 6[04]0$/);
      expect(await stat('/etc/xivo-auth')).toBe('root:xivo-auth 750');
      expect(await stat('/etc/xivo-auth/config.yml')).toBe('root:xivo-auth 640');

      // Migrations: every one of this build's applied, by postinst.
      migrationsAfterInstall = migrationRows(ct.host('/var/lib/xivo-auth/xivo-auth.sqlite'));
      expect(migrationsAfterInstall.length).toBeGreaterThan(0);

      // The unit: enabled (deb-systemd-helper) and running, as postinst started it.
      expect((await ct.exec(['systemctl', 'is-enabled', 'xivo-auth'])).stdout.trim()).toBe('enabled');
      const state = await ct.exec(['systemctl', 'show', '-p', 'ActiveState,SubState,User,MainPID,ExecMainStatus', 'xivo-auth']);
      expect(
        state.stdout,
        describeResult('systemctl show', state) + (await ct.exec(['journalctl', '-u', 'xivo-auth', '--no-pager'])).stdout,
      ).toMatch(/ActiveState=active/);
      expect(state.stdout).toMatch(/SubState=running/);
      expect(state.stdout).toMatch(/User=xivo-auth/);
      mainPidV1 = /MainPID=(\d+)/.exec(state.stdout)![1];
    },
    STEP_TIMEOUT,
  );

  it(
    'runs as its system user, hardened, logs to the journal, answers /health/ready, bootstrap and login over HTTP',
    async () => {
      // The process: the xivo-auth uid, no capability, no new privileges, a seccomp filter.
      const status = (await ok('/proc status', ct.exec(['cat', `/proc/${mainPidV1}/status`]))).stdout;
      expect(status).toMatch(new RegExp(`^Uid:\\s+${userUid}\\s+${userUid}\\s+${userUid}\\s+${userUid}$`, 'm'));
      expect(status).toMatch(/^CapEff:\s+0+$/m);
      expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
      expect(status).toMatch(/^Seccomp:\s+2$/m);
      // ProtectSystem=strict: the OS is read-only for it, its data directory is not.
      const ro = await ct.exec([
        'nsenter',
        '-t',
        mainPidV1,
        '-m',
        '-S',
        userUid,
        '-G',
        userUid,
        'sh',
        '-c',
        'touch /usr/lib/xivo-auth/x 2>&1; touch /var/lib/xivo-auth/probe && rm /var/lib/xivo-auth/probe && echo data-writable',
      ]);
      expect(ro.stdout).toMatch(/Read-only file system/);
      expect(ro.stdout).toMatch(/data-writable/);

      // Readiness came before "started": ExecStartPost's wait on /health/ready.
      const journal = (await ok('journalctl', ct.exec(['journalctl', '-u', 'xivo-auth', '--no-pager', '-o', 'cat']))).stdout;
      expect(journal).toContain(`"address":"http://127.0.0.1:${port}"`);
      expect(journal).toContain(`wait-ready: http://127.0.0.1:${port}/health/ready answered 200`);
      expect(journal.indexOf('answered 200')).toBeLessThan(journal.lastIndexOf('Started xivo-auth.service'));

      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(200);
      expect((await ready.json()).checks).toMatchObject({ store: 'ok', migrations: 'ok' });

      // The first administrator, as an operator would: the CLI as the service user.
      const boot = await ok(
        'xivo-auth bootstrap',
        ct.exec(['runuser', '-u', 'xivo-auth', '--', 'xivo-auth', 'bootstrap', '--password', ADMIN_PASSWORD]),
      );
      expect(boot.stdout).toContain('created administrator "admin"');
      const login = await fetch(`${base}/0.1/token`, {
        method: 'POST',
        headers: { authorization: basic('admin', ADMIN_PASSWORD), 'content-type': 'application/json' },
        body: '{}',
      });
      expect(login.status).toBe(200);
      const token = (await login.json()).data.token as string;
      expect((await fetch(`${base}/0.1/token/${token}`, { method: 'HEAD' })).status).toBe(204);
      expect((await fetch(`${base}/0.1/token/${token}?scope=confd.users.read`, { method: 'HEAD' })).status).toBe(204);

      // The score of the unit as this systemd loads it (docs/packaging.md reports it).
      const sec = await ok(
        'systemd-analyze security',
        ct.exec(['systemd-analyze', 'security', '--no-pager', 'xivo-auth.service']),
      );
      const score = Number(/Overall exposure level for xivo-auth\.service: ([\d.]+)/.exec(sec.stdout)?.[1]);
      log(`systemd-analyze security xivo-auth.service: ${score}`);
      expect(score).toBeLessThan(2);
    },
    STEP_TIMEOUT,
  );

  it(
    'upgrades to a rebuilt package with a bumped version: config kept, migrations not re-applied, service back on the new version',
    async () => {
      const configFile = ct.host('/etc/xivo-auth/config.yml');
      appendFileSync(configFile, '\n# edited by the administrator\ndefault_token_lifetime: 3600\n');
      const edited = readFileSync(configFile, 'utf8');

      // No --force-conf*: stdin is closed, so a conffile prompt would fail the upgrade.
      const upgrade = await ok('dpkg -i (upgrade)', ct.exec(['dpkg', '-i', `/root/debs/${path.basename(debV2)}`], STEP_TIMEOUT));
      expect(upgrade.stdout).toMatch(/Unpacking xivo-auth \(\S+-2\) over \(\S+-1\)/);
      expect(upgrade.stdout).toContain('migrations applied to sqlite:/var/lib/xivo-auth/xivo-auth.sqlite');
      expect((await ct.exec(['dpkg-query', '-W', '-f=${Status} ${Version}', 'xivo-auth'])).stdout).toMatch(
        /^install ok installed \S+-2$/,
      );

      expect(readFileSync(configFile, 'utf8')).toBe(edited);
      expect(existsSync(ct.host('/etc/xivo-auth/conf.d/50-test.yml'))).toBe(true);
      expect(existsSync(`${configFile}.dpkg-dist`) || existsSync(`${configFile}.dpkg-new`)).toBe(false);
      // Same rows, same applied_at: nothing ran twice.
      expect(migrationRows(ct.host('/var/lib/xivo-auth/xivo-auth.sqlite'))).toEqual(migrationsAfterInstall);

      // prerm stopped the old process, postinst started the new one.
      const state = await ct.exec(['systemctl', 'show', '-p', 'ActiveState,MainPID', 'xivo-auth']);
      expect(state.stdout).toMatch(/ActiveState=active/);
      expect(/MainPID=(\d+)/.exec(state.stdout)![1]).not.toBe(mainPidV1);
      expect((await fetch(`${base}/health/ready`)).status).toBe(200);
      // The data survived (the administrator logs in) and the edited config is in force.
      const login = await fetch(`${base}/0.1/token`, {
        method: 'POST',
        headers: { authorization: basic('admin', ADMIN_PASSWORD), 'content-type': 'application/json' },
        body: '{}',
      });
      expect(login.status).toBe(200);
      const data = (await login.json()).data as { utc_issued_at: string; utc_expires_at: string };
      expect((Date.parse(`${data.utc_expires_at}Z`) - Date.parse(`${data.utc_issued_at}Z`)) / 1000).toBe(3600);
    },
    STEP_TIMEOUT,
  );

  it(
    'removes: the service stopped and gone, the configuration, the data and the user kept',
    async () => {
      await ok('dpkg --remove', ct.exec(['dpkg', '--remove', 'xivo-auth'], STEP_TIMEOUT));
      expect((await ct.exec(['dpkg-query', '-W', '-f=${db:Status-Status}', 'xivo-auth'])).stdout).toBe('config-files');
      expect((await ct.exec(['systemctl', 'is-active', 'xivo-auth'])).stdout.trim()).toBe('inactive');
      await expect(fetch(`${base}/health/live`)).rejects.toThrow();
      for (const gone of ['/usr/lib/xivo-auth', '/usr/bin/xivo-auth', '/lib/systemd/system/xivo-auth.service']) {
        expect(existsSync(ct.host(gone)) || isLink(ct.host(gone)), gone).toBe(false);
      }
      expect(readFileSync(ct.host('/etc/xivo-auth/config.yml'), 'utf8')).toContain('default_token_lifetime: 3600');
      expect(existsSync(ct.host('/etc/xivo-auth/conf.d/50-test.yml'))).toBe(true);
      expect(statSync(ct.host('/var/lib/xivo-auth/xivo-auth.sqlite')).size).toBeGreaterThan(0);
      expect((await ct.exec(['getent', 'passwd', 'xivo-auth'])).code).toBe(0);
    },
    STEP_TIMEOUT,
  );

  it(
    "purges: configuration, data, user, group and the unit's enablement gone",
    async () => {
      await ok('dpkg --purge', ct.exec(['dpkg', '--purge', 'xivo-auth'], STEP_TIMEOUT));
      const query = await ct.exec(['dpkg-query', '-W', '-f=${db:Status-Status}', 'xivo-auth']);
      expect(query.code !== 0 || query.stdout === 'not-installed', describeResult('dpkg-query', query)).toBe(true);
      for (const gone of [
        '/etc/xivo-auth',
        '/var/lib/xivo-auth',
        '/etc/systemd/system/multi-user.target.wants/xivo-auth.service',
        '/etc/systemd/system/xivo-auth.service',
      ]) {
        expect(existsSync(ct.host(gone)) || isLink(ct.host(gone)), gone).toBe(false);
      }
      expect((await ct.exec(['getent', 'passwd', 'xivo-auth'])).code).toBe(2);
      expect((await ct.exec(['getent', 'group', 'xivo-auth'])).code).toBe(2);
      expect((await ct.exec(['systemctl', 'show', '-P', 'LoadState', 'xivo-auth'])).stdout.trim()).toBe('not-found');
    },
    STEP_TIMEOUT,
  );
});

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
