// The one place where driver errors become the store's typed errors
// (./errors.ts): every verb module builds plain verbs and is wrapped here.

/**
 * `verbs` with every function-valued own property turned into an async verb
 * whose errors pass through `mapError`; other properties are copied as they
 * are. `succeeded` runs after each call that completed (outside a
 * transaction: committed). Typed as `verbs` itself, so that callers keep its
 * precise type and its property declarations.
 */
export function mappingErrors<T extends object>(verbs: T, mapError: (err: unknown) => unknown, succeeded?: () => void): T {
  const guarded: Record<string, unknown> = {};
  for (const name of Object.keys(verbs)) {
    const value: unknown = Reflect.get(verbs, name);
    if (typeof value !== 'function') {
      guarded[name] = value;
      continue;
    }
    const verb = value as (...args: unknown[]) => unknown;
    guarded[name] = async function mapped(...args: unknown[]): Promise<unknown> {
      let result: unknown;
      try {
        result = await verb.apply(verbs, args);
      } catch (err) {
        throw mapError(err);
      }
      succeeded?.();
      return result;
    };
  }
  return guarded as T;
}
