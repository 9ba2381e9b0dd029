// `xivo-auth bootstrap [--username U] [--password P]`: the first administrator.
// Safe to run twice: an existing user is left as it is unless a password is given.
// A generated password is printed once, on stdout, never logged.
import { systemClock } from '../clock.js';
import type { Config } from '../config/types.js';
import { bootstrapAdmin, ensureTopTenant } from '../identity/provisioning.js';
import { createLogger } from '../logging.js';
import { openConfiguredStore } from '../main.js';
import { PasswordHasher } from '../passwords/hasher.js';
import type { ParsedArgs } from './args.js';
import type { CliIo } from './main.js';

export async function runBootstrap(config: Config, args: ParsedArgs, io: CliIo): Promise<number> {
  const logger = createLogger({ level: config.log_level, stderr: true });
  // Bootstrap needs the schema even when the service has not run yet.
  const store = await openConfiguredStore({ ...config, db_upgrade_on_startup: true }, logger);
  try {
    const tenant = await ensureTopTenant(store);
    const hasher = new PasswordHasher(config.password_hashing);
    const username = args.bootstrapUsername ?? config.bootstrap_user_username;
    const result = await bootstrapAdmin(
      { store, hasher, clock: systemClock },
      tenant.uuid,
      username,
      args.bootstrapPassword ?? null,
    );
    if (result.created) {
      io.out(`created administrator "${username}" (every access: ACL "#")\n`);
    } else if (result.passwordChanged) {
      io.out(`administrator "${username}" already exists: password changed\n`);
    } else {
      io.out(`administrator "${username}" already exists: nothing changed (give --password to reset it)\n`);
    }
    if (result.generatedPassword !== null) io.out(`password: ${result.generatedPassword}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
