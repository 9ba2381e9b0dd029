// `xivo-auth migrate`: apply pending database migrations and exit.
import type { Config } from '../config/types.js';
import { createLogger } from '../logging.js';
import { resolveDbUri } from '../main.js';
import { openStore } from '../store/open-store.js';
import { maskUriPassword } from '../config/index.js';
import type { CliIo } from './main.js';

export async function runMigrate(config: Config, io: CliIo): Promise<number> {
  const logger = createLogger({ level: config.log_level, stderr: true });
  const uri = resolveDbUri(config);
  const store = await openStore(uri, { logger });
  try {
    await store.migrate();
    io.out(`migrations applied to ${maskUriPassword(uri)}\n`);
    return 0;
  } catch (err) {
    io.err(`xivo-auth: migration failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await store.close();
  }
}
