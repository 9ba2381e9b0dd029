// What a configuration reload changed (src/config/reload.ts): the live keys
// that differ from the running configuration, dotted (`security.rate_limits.login`).

/** Whether `key` itself, or any key under it, is among the changed keys. */
export function changedUnder(changed: readonly string[], key: string): boolean {
  return changed.some((k) => k === key || k.startsWith(`${key}.`));
}
