// A real SMTP server for the tests (issue 21): smtp-server on a spare
// loopback port, with STARTTLS (a self-signed certificate made by openssl at
// test time) and AUTH, capturing every message it accepts (parsed by
// mailparser). It can be stopped and started again on the same port, to
// simulate an outage of the platform's MTA.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { closeAtEnd } from './cleanup.js';

export interface ReceivedMail {
  /** The SMTP envelope. */
  from: string;
  to: string[];
  /** Who authenticated (AUTH). */
  user: string | null;
  /** The session was upgraded with STARTTLS. */
  secure: boolean;
  parsed: ParsedMail;
}

export interface TestSmtpServer {
  port: number;
  /** The certificate (PEM file) the client must trust (smtp.ca_file). */
  caFile: string;
  username: string;
  password: string;
  received: ReceivedMail[];
  /** Resolves with the first `count` messages accepted for `to` (any recipient when null) within `timeoutMs`. */
  waitFor(count: number, to?: string | null, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** Messages accepted for `to`. */
  to(address: string): ReceivedMail[];
  /** Stops accepting connections (the port stays this server's). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 and localhost, valid one day. */
function selfSignedCertificate(dir: string): { key: string; cert: string; certFile: string } {
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

export async function startSmtpServer(options: { username?: string; password?: string } = {}): Promise<TestSmtpServer> {
  const dir = mkdtempSync(join(tmpdir(), 'xivo-auth-smtp-'));
  const { key, cert, certFile } = selfSignedCertificate(dir);
  const username = options.username ?? 'mailer';
  const password = options.password ?? 'mailer-secret-password';
  const received: ReceivedMail[] = [];
  const waiters = new Set<() => void>();

  const make = () =>
    new SMTPServer({
      secure: false,
      key,
      cert,
      // AUTH only after STARTTLS (smtp-server's default): a client that does not upgrade cannot authenticate.
      authMethods: ['PLAIN', 'LOGIN'],
      closeTimeout: 50,
      disableReverseLookup: true,
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === username && auth.password === password) return callback(null, { user: username });
        return callback(new Error('Invalid username or password'));
      },
      onData(stream, session, callback) {
        simpleParser(stream).then(
          (parsed) => {
            received.push({
              from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
              to: session.envelope.rcptTo.map((r) => r.address),
              user: (session.user as string | undefined) ?? null,
              secure: session.secure,
              parsed,
            });
            for (const wake of waiters) wake();
            callback();
          },
          (err: Error) => callback(err),
        );
      },
    });

  let server = make();
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.server.address() as { port: number }).port;
        resolve();
      });
    });
  const stopServer = (s: SMTPServer) => new Promise<void>((resolve) => s.close(() => resolve()));
  await listen();
  let running = true;

  const matching = (to: string | null | undefined) =>
    received.filter((m) => to === null || to === undefined || m.to.some((r) => r.toLowerCase() === to.toLowerCase()));

  const smtp: TestSmtpServer = {
    get port() {
      return port;
    },
    caFile: certFile,
    username,
    password,
    received,
    to: (address) => matching(address),
    waitFor(count, to = null, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = matching(to);
          if (found.length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found.slice(0, count));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`expected ${count} mail(s)${to ? ` to ${to}` : ''} within ${timeoutMs} ms, got ${matching(to).length}`),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (!running) return;
      running = false;
      await stopServer(server);
    },
    async start() {
      if (running) return;
      server = make();
      await listen();
      running = true;
    },
    async close() {
      await smtp.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  closeAtEnd(() => smtp.close());
  return smtp;
}
