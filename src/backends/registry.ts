// Builds the enabled backends by name. Built-ins first (xivo_user, ldap_user,
// xivo_service), then third-party plugins (./plugin-loader.ts). A backend
// that fails to build is logged and left out: it never takes the service down.
import type { Logger } from 'pino';
import type { Backend } from './types.js';

export type BackendFactory = () => Backend | Promise<Backend>;

const ALIASES: Record<string, string> = { wazo_user: 'xivo_user' };

export function canonicalBackendName(name: string): string {
  return ALIASES[name] ?? name;
}

export class BackendRegistry {
  private constructor(private readonly backends: Map<string, Backend>) {}

  static async build(
    enabled: Record<string, boolean>,
    factories: Record<string, BackendFactory>,
    logger: Pick<Logger, 'warn' | 'error'>,
    /** Third-party backends by name (backend_plugins); null when none is configured under that name. */
    plugins: (name: string) => BackendFactory | null = () => null,
  ): Promise<BackendRegistry> {
    const backends = new Map<string, Backend>();
    for (const [rawName, on] of Object.entries(enabled)) {
      if (!on) continue;
      const name = canonicalBackendName(rawName);
      if (backends.has(name)) continue;
      const factory = Object.prototype.hasOwnProperty.call(factories, name) ? factories[name] : plugins(name);
      if (!factory) {
        logger.warn({ backend: name }, 'unknown backend in enabled_backend_plugins: left out');
        continue;
      }
      try {
        backends.set(name, await factory());
      } catch (err) {
        logger.error({ backend: name, err }, 'backend failed to load: left out');
      }
    }
    return new BackendRegistry(backends);
  }

  get(name: string): Backend | null {
    return this.backends.get(canonicalBackendName(name)) ?? null;
  }

  names(): string[] {
    return [...this.backends.keys()];
  }

  async close(): Promise<void> {
    for (const backend of this.backends.values()) {
      try {
        await backend.close?.();
      } catch {
        // One backend failing to close does not keep the others open.
      }
    }
  }
}
