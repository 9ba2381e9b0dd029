export type { Config, ConfigPolicy, LogLevel } from './types.js';
export { ConfigError } from './errors.js';
export { ConfigSchema, DEFAULT_CONFIG, DEFAULT_CONFIG_FILE, LOG_LEVELS, listConfigKeys, type ConfigKeyDoc } from './schema.js';
export {
  loadConfig,
  ENV_PREFIX,
  type ConfigFlags,
  type ConfigSources,
  type LoadConfigOptions,
  type LoadedConfig,
} from './loader.js';
export { maskSecrets, maskUriPassword, isSecretKey, MASK } from './mask.js';
