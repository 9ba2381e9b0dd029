// One xivo-auth process under test: its config file, start (with the time it
// took to answer GET /0.1/status), stop, and the few API calls the harness
// needs to set up users and tokens.
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnTracked, stopChild, tailOf } from './procs.js';
import { basic, createAgent, request } from './http.js';

export const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
/** The command line of a build rooted at `root` (bin/xivo-auth.js running its dist/). */
const cliOf = (root) => path.join(root, 'bin', 'xivo-auth.js');
/**
 * Extra node options for the services under test, e.g.
 * BENCH_SERVICE_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (profiles are
 * written when the service stops; --cpu-prof is refused in NODE_OPTIONS).
 */
const SERVICE_NODE_ARGS = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

export const ADMIN = { username: 'bench-admin', password: 'bench-admin-password' };
export const BENCH_ACL = ['confd.#', 'auth.users.me.#'];
/** A scope granted by BENCH_ACL (so checks answer 204). */
export const CHECK_SCOPE = 'confd.users.read';
/** The OWASP argon2id minimum, also the service's defaults, written out explicitly. */
export const HASHING = { memory_kib: 19456, iterations: 2, parallelism: 1 };

/** A free loopback TCP port (bind to 0, read, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function baseConfig({ dir, dbUri, port, overrides = {} }) {
  return {
    foreground: true,
    log_level: 'error',
    data_dir: path.join(dir, 'data'),
    extra_config_files: path.join(dir, 'conf.d'),
    db_uri: dbUri,
    rest_api: { listen: '127.0.0.1', port },
    bootstrap_user_on_startup: true,
    bootstrap_user_username: ADMIN.username,
    bootstrap_user_password: ADMIN.password,
    default_policies: { bench: { acl: BENCH_ACL } },
    default_user_policy: 'bench',
    max_user_concurrent_sessions: 1_000_000,
    password_hashing: { ...HASHING },
    // Every request of the harness comes from 127.0.0.1: the per-address rate
    // limits (10 logins/s, 100 API calls/s) would measure the limiter, not the
    // service. The login throttle (store counters per login) stays on.
    security: { rate_limits: { enabled: false } },
    ...overrides,
  };
}

export class ServiceProcess {
  /**
   * @param {object} o
   * @param {string} o.name     label in messages
   * @param {string} o.dir      a temp directory of its own (config, conf.d, data)
   * @param {string} o.dbUri    sqlite:<path> or postgresql://…
   * @param {object} [o.overrides] config keys on top of baseConfig
   * @param {string} [o.root]   the build to run (a directory holding bin/ and dist/; default this repository)
   */
  constructor({ name, dir, dbUri, overrides = {}, root = REPO_ROOT }) {
    this.name = name;
    this.root = root;
    this.dir = dir;
    this.dbUri = dbUri;
    this.overrides = overrides;
    this.child = null;
    this.url = null;
    this.port = null;
    this.agent = createAgent(16);
    this.startupMs = null;
    /** PostgreSQL database name, to account for the CPU of its backends. */
    this.pgDatabase = /^postgres(ql)?:/.test(dbUri) ? decodeURIComponent(new URL(dbUri).pathname.slice(1)) : null;
  }

  get pid() {
    return this.child?.pid ?? null;
  }

  async writeConfig() {
    mkdirSync(path.join(this.dir, 'conf.d'), { recursive: true });
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    const file = path.join(this.dir, 'config.yml');
    // JSON is YAML: no serialiser needed.
    writeFileSync(
      file,
      `${JSON.stringify(baseConfig({ dir: this.dir, dbUri: this.dbUri, port: this.port, overrides: this.overrides }), null, 2)}\n`,
    );
    return file;
  }

  /** Applies migrations with `xivo-auth migrate` (the service is not started). */
  async migrate() {
    const file = await this.writeConfig();
    const child = spawnTracked(process.execPath, [cliOf(this.root), 'migrate', '-c', file], {
      cwd: this.root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = tailOf(child.stdout);
    const err = tailOf(child.stderr);
    const code = await new Promise((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`${this.name}: xivo-auth migrate failed (${code}): ${err.text}${out.text}`);
  }

  /** Starts the service; resolves once GET /0.1/status answers 200. Records startupMs. */
  async start({ timeoutMs = 300_000 } = {}) {
    if (this.child) throw new Error(`${this.name} already started`);
    const file = await this.writeConfig();
    const started = performance.now();
    const logFile = path.join(this.dir, 'service.log');
    const log = openSync(logFile, 'a');
    const child = spawnTracked(process.execPath, [...SERVICE_NODE_ARGS, cliOf(this.root), '-f', '-c', file], {
      cwd: this.root,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.child = child;
    this.logFile = logFile;
    let exited = null;
    child.once('exit', (code, signal) => {
      exited = code ?? signal;
    });
    const probeAgent = createAgent(1);
    try {
      for (;;) {
        if (exited !== null) {
          throw new Error(`${this.name} exited (${exited}) during start-up:\n${this.logTail()}`);
        }
        if (performance.now() - started > timeoutMs) throw new Error(`${this.name} not ready after ${timeoutMs} ms`);
        try {
          const res = await request(this.url, { path: '/0.1/status', agent: probeAgent, timeoutMs: 2000 });
          if (res.status === 200) break;
        } catch {
          /* not listening yet */
        }
        await sleep(10);
      }
    } catch (err) {
      await this.stop();
      throw err;
    } finally {
      probeAgent.destroy();
    }
    this.startupMs = performance.now() - started;
    return this.startupMs;
  }

  /** The end of the service's stdout + stderr (a file: see start()). */
  logTail(max = 4000) {
    try {
      return readFileSync(this.logFile, 'utf8').slice(-max);
    } catch {
      return '';
    }
  }

  async stop() {
    this.agent.destroy();
    this.agent = createAgent(16);
    const child = this.child;
    this.child = null;
    if (child) await stopChild(child);
  }

  request(opts) {
    return request(this.url, { agent: this.agent, ...opts });
  }

  /** POST /0.1/token with Basic credentials; returns the token string. */
  async login(username, password, expiration = 86_400) {
    const res = await this.request({
      method: 'POST',
      path: '/0.1/token',
      headers: { authorization: basic(username, password) },
      body: { expiration },
    });
    if (res.status !== 200)
      throw new Error(`${this.name}: login ${username} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.data.token;
  }

  async createUser(adminToken, username, password) {
    const res = await this.request({
      method: 'POST',
      path: '/0.1/users',
      headers: { 'x-auth-token': adminToken },
      body: { username, password },
    });
    if (res.status !== 200 && res.status !== 201) {
      throw new Error(`${this.name}: POST /users ${username} answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
    return res.body;
  }

  async tokenDetails(token) {
    const res = await this.request({ path: `/0.1/token/${token}` });
    if (res.status !== 200) throw new Error(`${this.name}: GET token answered ${res.status}`);
    return res.body.data;
  }
}

/** What a seeded token row copies from a real token (identity and ACL). */
export function templateFrom(details) {
  return {
    authId: details.auth_id,
    userUuid: details.uuid ?? details.metadata?.uuid ?? null,
    tenantUuid: details.metadata?.tenant_uuid ?? null,
    pbxUserUuid: details.xivo_user_uuid ?? null,
    xivoUuid: details.xivo_uuid ?? null,
    acl: details.acl,
    metadata: details.metadata,
  };
}
