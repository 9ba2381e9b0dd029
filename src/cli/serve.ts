// `xivo-auth [serve]`: run the service.
// -f: foreground, logs on stdout. Otherwise the process re-starts itself
// detached (logs to log_filename, pid in pid_filename) and returns once the
// child is listening. SIGTERM/SIGINT: stop accepting, drain, close, exit 0.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/loader.js';
import { ConfigReloader } from '../config/reload.js';
import type { Config } from '../config/types.js';
import { createLogger } from '../logging.js';
import { createService } from '../main.js';
import type { ParsedArgs } from './args.js';
import type { CliIo } from './main.js';

/** Marks the re-started child of a daemonising parent (internal flag). */
export const DAEMON_CHILD_FLAG = '--daemon-child';

export async function runServe(config: Config, args: ParsedArgs, io: CliIo, argv: string[]): Promise<number | undefined> {
  const daemonChild = args.daemonChild;
  if (!config.foreground && !daemonChild) return daemonize(config, io, argv);

  const logger = createLogger({ level: config.log_level, destination: daemonChild ? config.log_filename : null });
  let service;
  try {
    service = await createService(config, logger, {
      onBootstrap: (result) => {
        if (result.generatedPassword === null) return;
        // Never in the log: written once to a file only the service user can read.
        const file = path.join(config.data_dir, 'bootstrap-password');
        mkdirSync(config.data_dir, { recursive: true });
        writeFileSync(file, `${result.username}:${result.generatedPassword}\n`, { mode: 0o600 });
        logger.warn(
          { username: result.username, file },
          'bootstrap administrator created; its generated password is in this file',
        );
      },
    });
  } catch (err) {
    logger.fatal({ err: { message: (err as Error).message, name: (err as Error).name } }, 'start-up failed');
    logger.flush();
    return 1;
  }
  let address: string;
  try {
    // A failed listen (port taken) closes everything the service had opened.
    address = await service.listen();
  } catch (err) {
    logger.fatal({ err: { message: (err as Error).message, name: (err as Error).name } }, 'start-up failed');
    logger.flush();
    return 1;
  }
  if (config.user) dropPrivileges(config.user);
  logger.info({ address, db: service.store.engine }, 'xivo-auth listening');
  if ((await service.store.findUserByLogin(config.bootstrap_user_username)) === null)
    logger.info(
      'to create the first administrator, run `xivo-auth bootstrap` (in a checkout: `node bin/xivo-auth.js bootstrap`): it prints a generated password once',
    );

  if (daemonChild) {
    mkdirSync(path.dirname(config.pid_filename), { recursive: true });
    writeFileSync(config.pid_filename, `${process.pid}\n`);
    process.send?.('ready');
    process.disconnect?.();
  }

  // SIGHUP (systemctl reload): the same files, environment and flags, read
  // again; what can change live is applied, the rest logged (src/config/reload.ts).
  const running = service;
  const reloader = new ConfigReloader(
    config,
    () => {
      const loaded = loadConfig({ argv: args, env: io.env });
      for (const warning of loaded.warnings) logger.warn(warning);
      return loaded.config;
    },
    (next, changed) => running.applyLiveConfig(next, changed),
    logger,
  );
  const onHangup = () => {
    logger.info({ signal: 'SIGHUP' }, 'reloading the configuration');
    void reloader.reload();
  };
  process.on('SIGHUP', onHangup);

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'stopping: draining in-flight requests');
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  process.off('SIGHUP', onHangup);
  await service.close();
  if (daemonChild) rmSync(config.pid_filename, { force: true });
  logger.info('stopped');
  logger.flush();
  return 0;
}

async function daemonize(config: Config, io: CliIo, argv: string[]): Promise<number> {
  mkdirSync(path.dirname(config.log_filename), { recursive: true });
  const log = openSync(config.log_filename, 'a');
  const script = process.argv[1];
  const child = spawn(process.execPath, [script, ...argv, DAEMON_CHILD_FLAG], {
    detached: true,
    stdio: ['ignore', log, log, 'ipc'],
  });
  closeSync(log);
  const outcome = await new Promise<'ready' | 'failed'>((resolve) => {
    const timer = setTimeout(() => resolve('failed'), 60_000);
    child.once('message', () => {
      clearTimeout(timer);
      resolve('ready');
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve('failed');
    });
  });
  if (outcome !== 'ready') {
    io.err(`xivo-auth: the service did not start; see ${config.log_filename}\n`);
    return 1;
  }
  child.unref();
  child.disconnect();
  io.out(`xivo-auth started (pid ${child.pid}); logs in ${config.log_filename}\n`);
  return 0;
}

/** setgid then setuid to the named user, after the port is bound. */
function dropPrivileges(user: string): void {
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === user);
  if (entry === undefined) throw new Error(`unknown user ${user}`);
  // initgroups exists on POSIX but is missing from @types/node 20.
  const posix = process as NodeJS.Process & { initgroups?: (user: string, extraGroup: number) => void };
  if (!posix.setgid || !posix.setuid || !posix.initgroups) throw new Error('cannot change user on this platform');
  // Supplementary groups first (root's would otherwise be kept), then gid, then uid.
  posix.initgroups(user, Number(entry[3]));
  posix.setgid(Number(entry[3]));
  posix.setuid(Number(entry[2]));
}
