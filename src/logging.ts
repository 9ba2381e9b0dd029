// pino logger with secrets kept out: no Authorization or X-Auth-Token header,
// no token in a logged URL (tokens travel in the path of /token/{token}).
import pino, { type Logger } from 'pino';
import type { LogLevel } from './config/types.js';

const PINO_LEVEL: Record<LogLevel, pino.Level> = {
  critical: 'fatal',
  error: 'error',
  warning: 'warn',
  info: 'info',
  debug: 'debug',
};

/**
 * `/0.1/token/abc...?scope=x` → `/0.1/token/<redacted>?scope=x`; a `token=`
 * query parameter (the links of confirmation and reset mails) likewise.
 */
export function redactUrl(url: string): string {
  return url.replace(/(\/tokens?\/)[^/?#]+/g, '$1<redacted>').replace(/([?&]token=)[^&#]*/g, '$1<redacted>');
}

function serializeRequest(req: { method?: string; url?: string; ip?: string; id?: string }) {
  return { method: req.method, url: req.url === undefined ? undefined : redactUrl(req.url), remote: req.ip, id: req.id };
}

/** `destination`: a file path, or null for stdout; `stderr` keeps a command's stdout for its own output. */
export function createLogger(opts: { level: LogLevel; destination?: string | null; stderr?: boolean }): Logger {
  const destination = opts.destination
    ? pino.destination({ dest: opts.destination, mkdir: true, sync: false })
    : pino.destination(opts.stderr ? 2 : 1);
  return pino(
    {
      level: PINO_LEVEL[opts.level],
      base: { service: 'xivo-auth' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["x-auth-token"]',
          'password',
          '*.password',
          'token',
          '*.token',
          'refresh_token',
          '*.refresh_token',
          'bind_password',
          '*.bind_password',
        ],
        censor: '<redacted>',
      },
      serializers: { req: serializeRequest },
    },
    destination,
  );
}

export function pinoLevel(level: LogLevel): pino.Level {
  return PINO_LEVEL[level];
}
