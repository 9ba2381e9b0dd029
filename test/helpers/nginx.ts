// Debian's nginx (installed by .ci/run), run by a test with a throw-away
// prefix directory, and a plain HTTP client that opens one connection per
// request. Fails, never skips, when nginx is missing.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function nginxBinary(): string {
  for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      /* next */
    }
  }
  throw new Error("nginx is required by this test (.ci/run installs Debian's package): not found");
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function request(
  port: number,
  method: string,
  urlPath: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

export interface Nginx {
  port: number;
  /** The prefix directory (error.log, access.log live there). */
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts nginx listening on a free loopback port; `httpBlock(port, dir)`
 * returns what goes inside `http { }` (upstreams and the server, which must
 * listen on 127.0.0.1:<port>). Waits until it answers.
 */
export async function startNginx(httpBlock: (port: number, dir: string) => string): Promise<Nginx> {
  const binary = nginxBinary();
  const dir = mkdtempSync(path.join(tmpdir(), 'xivo-auth-nginx-'));
  const port = await freePort();
  const temp = (name: string) => `${name} ${path.join(dir, name.replace(/_path$/, ''))};`;
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `
daemon off;
master_process on;
worker_processes 1;
${process.getuid?.() === 0 ? 'user root root;' : ''}
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log ${path.join(dir, 'access.log')};
  ${temp('client_body_temp_path')}
  ${temp('proxy_temp_path')}
  ${temp('fastcgi_temp_path')}
  ${temp('uwsgi_temp_path')}
  ${temp('scgi_temp_path')}
${httpBlock(port, dir)}
}
`,
  );
  const args = ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')];
  execFileSync(binary, ['-t', ...args], { stdio: 'pipe' });
  const proc: ChildProcess = spawn(binary, args, { stdio: 'ignore' });
  for (let i = 0; i < 100; i += 1) {
    try {
      await request(port, 'GET', '/nginx-ready');
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    dir,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((resolve) => proc.once('exit', resolve));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
