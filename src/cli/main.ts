// `xivo-auth` command line: parse, load the configuration, run one verb.
// Exit codes: 0 ok, 1 runtime failure, 2 bad usage or invalid configuration.
import { ConfigError, loadConfig, type LoadedConfig } from '../config/index.js';
import { parseArgs, USAGE, UsageError, type ParsedArgs } from './args.js';
import { runBootstrap } from './bootstrap.js';
import { runConfigShow } from './config-show.js';
import { runImportWazo } from './import-wazo.js';
import { runMigrate } from './migrate.js';
import { runServe } from './serve.js';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
};

export async function run(argv: string[], io: CliIo = processIo): Promise<number | undefined> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`xivo-auth: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (args.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig({ argv: args, env: io.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`xivo-auth: invalid configuration:\n${err.message}\n`);
      return 2;
    }
    throw err;
  }
  for (const warning of loaded.warnings) io.err(`xivo-auth: warning: ${warning}\n`);

  switch (args.command) {
    case 'config-show':
      return runConfigShow(loaded, io);
    case 'migrate':
      return runMigrate(loaded.config, io);
    case 'bootstrap':
      return runBootstrap(loaded.config, args, io);
    case 'import-wazo-auth':
      return runImportWazo(loaded.config, args, io);
    case 'serve':
      return runServe(loaded.config, args, io, argv);
  }
}
