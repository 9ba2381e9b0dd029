// `xivo-auth config show`: the effective configuration, secrets masked.
import { stringify } from 'yaml';
import { maskSecrets, type LoadedConfig } from '../config/index.js';
import type { CliIo } from './main.js';

export function runConfigShow(loaded: LoadedConfig, io: CliIo): number {
  io.out(stringify(maskSecrets(loaded.config)));
  return 0;
}
