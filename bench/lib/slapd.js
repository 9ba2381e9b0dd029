// A throw-away OpenLDAP directory (Debian's slapd and ldap-utils) on spare
// loopback ports, for the LDAP tests (test/helpers/slapd.ts) and the LDAP
// login benchmark (bench/ldap-login.js). Everything lives in a temporary
// directory: slapd.conf, the mdb database, a self-signed certificate (for
// ldaps:// and StartTLS) made with openssl. slapd runs in the foreground
// (-d 0) and is stopped by its pid, never by name.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './service.js';

const run = promisify(execFile);

export const SUFFIX = 'dc=example,dc=com';
export const PEOPLE_DN = `ou=people,${SUFFIX}`;
export const ROOT_DN = `cn=admin,${SUFFIX}`;
export const ROOT_PASSWORD = 'root-secret';
export const SERVICE_DN = `cn=service,${SUFFIX}`;
export const SERVICE_PASSWORD = 'service-secret';

/** People seeded by default: uid, password, mail (null: none). */
export const DEFAULT_PEOPLE = [
  { uid: 'alice', password: 'alice-password', mail: 'alice@example.com' },
  { uid: 'bob', password: 'bob-password', mail: 'bob@example.com' },
  { uid: 'carol', password: 'carol-password', mail: null },
  // Injection targets: a search that a crafted login widened would find them.
  { uid: 'admin', password: 'admin-ldap-password', mail: 'admin@example.com' },
];

const SLAPD = process.env.XIVO_AUTH_TEST_SLAPD ?? '/usr/sbin/slapd';
const SCHEMA_DIR = '/etc/ldap/schema';
const MODULE_DIR = '/usr/lib/ldap';

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function ldif(people) {
  const blocks = [
    `dn: ${SUFFIX}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example`,
    `dn: ${PEOPLE_DN}\nobjectClass: organizationalUnit\nou: people`,
    `dn: ${SERVICE_DN}\nobjectClass: person\ncn: service\nsn: service\nuserPassword: ${SERVICE_PASSWORD}`,
    ...people.map((p) =>
      [
        `dn: uid=${p.uid},${PEOPLE_DN}`,
        'objectClass: inetOrgPerson',
        `uid: ${p.uid}`,
        `cn: ${p.uid}`,
        `sn: ${p.uid}`,
        ...(p.mail ? [`mail: ${p.mail}`] : []),
        `userPassword: ${p.password}`,
      ].join('\n'),
    ),
  ];
  return `${blocks.join('\n\n')}\n`;
}

function slapdConf(dir) {
  return `include ${SCHEMA_DIR}/core.schema
include ${SCHEMA_DIR}/cosine.schema
include ${SCHEMA_DIR}/inetorgperson.schema
include ${SCHEMA_DIR}/nis.schema
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
modulepath ${MODULE_DIR}
moduleload back_mdb
TLSCertificateFile ${dir}/server.crt
TLSCertificateKeyFile ${dir}/server.key

database mdb
maxsize 16777216
suffix "${SUFFIX}"
rootdn "${ROOT_DN}"
rootpw ${ROOT_PASSWORD}
directory ${dir}/data
# Passwords are only ever used to bind; entries are readable once bound.
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by anonymous auth
`;
}

/**
 * Starts slapd, seeds it, and returns a handle. Options: people (default
 * DEFAULT_PEOPLE). Throws with slapd's output when it does not start.
 */
export async function startSlapd(options = {}) {
  const people = options.people ?? DEFAULT_PEOPLE;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xivo-auth-slapd-'));
  mkdirSync(path.join(dir, 'data'));
  const certFile = path.join(dir, 'server.crt');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-keyout',
    path.join(dir, 'server.key'),
    '-out',
    certFile,
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  writeFileSync(path.join(dir, 'slapd.conf'), slapdConf(dir));
  const port = await freePort();
  const ldapsPort = await freePort();

  let child = null;
  let output = '';
  const handle = {
    dir,
    host: '127.0.0.1',
    port,
    ldapsPort,
    /** The self-signed certificate (PEM file), to trust as a CA. */
    caCertFile: certFile,
    url: `ldap://127.0.0.1:${port}`,
    get pid() {
      return child?.pid ?? null;
    },
    async start() {
      if (child !== null) return;
      output = '';
      const started = spawn(
        SLAPD,
        ['-d', '0', '-f', path.join(dir, 'slapd.conf'), '-h', `ldap://127.0.0.1:${port}/ ldaps://127.0.0.1:${ldapsPort}/`],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = started;
      // Never outlive the process that started it (a test run that ends
      // without closing, a benchmark interrupted).
      const killOnExit = () => {
        try {
          started.kill('SIGKILL');
        } catch {
          /* gone */
        }
      };
      process.once('exit', killOnExit);
      started.once('exit', () => process.removeListener('exit', killOnExit));
      started.stdout.on('data', (c) => {
        output = (output + c).slice(-4000);
      });
      started.stderr.on('data', (c) => {
        output = (output + c).slice(-4000);
      });
      started.once('exit', () => {
        if (child === started) child = null;
      });
      const deadline = Date.now() + 10_000;
      while (!(await canConnect(port))) {
        if (child === null || Date.now() > deadline) {
          await handle.stop();
          throw new Error(`slapd did not start on 127.0.0.1:${port}: ${output}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    /** SIGTERM by pid (SIGKILL after 5 s); resolves once it is gone. */
    async stop() {
      const current = child;
      if (current === null) return;
      const exited = new Promise((resolve) => current.once('exit', resolve));
      try {
        process.kill(current.pid, 'SIGCONT');
      } catch {
        /* gone */
      }
      try {
        process.kill(current.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(current.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    },
    /** Freezes slapd (SIGSTOP): connections are accepted by the kernel, never answered. */
    freeze() {
      if (child !== null) process.kill(child.pid, 'SIGSTOP');
    },
    thaw() {
      if (child !== null) process.kill(child.pid, 'SIGCONT');
    },
    /** Stops slapd and removes its directory. */
    async close() {
      await handle.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    await handle.start();
    const seed = path.join(dir, 'seed.ldif');
    writeFileSync(seed, ldif(people));
    await run('ldapadd', ['-x', '-H', handle.url, '-D', ROOT_DN, '-w', ROOT_PASSWORD, '-f', seed]);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}
