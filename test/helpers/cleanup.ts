// Resources the helpers open from inside hooks or tests (services, databases,
// proxies) are closed when the test file ends. Vitest does not run an
// afterAll registered from inside a beforeAll, so helpers hand their close
// functions to closeAtEnd(), and this module registers the one afterAll when
// a test file imports it (collection time), newest resource first.
import { afterAll } from 'vitest';

const pending: Array<() => Promise<void>> = [];

afterAll(async function closeWhatTheHelpersOpened() {
  while (pending.length > 0) {
    const close = pending.pop()!;
    await close().catch(() => undefined);
  }
});

/** Closes `close` at the end of the test file unless it was called before; returns the once-only close. */
export function closeAtEnd(close: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  const once = () => {
    done ??= close();
    return done;
  };
  pending.push(once);
  return once;
}
