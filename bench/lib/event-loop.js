// The service's own event-loop delay: xivo_auth_event_loop_delay_seconds
// (perf_hooks.monitorEventLoopDelay inside the service, src/metrics/event-loop.ts),
// read from GET /metrics. Every scrape starts a new window, so: scrape once to
// start the window, run the load, scrape again to read p50/p99/max over it.
import { createAgent, request } from './http.js';

const agent = createAgent(1);
const LINE = /^xivo_auth_event_loop_delay_seconds\{quantile="([^"]+)"\} (\S+)$/gm;

const STATEMENTS = /^xivo_auth_db_statements_total\{[^}]*\} (\S+)$/gm;

/**
 * {p50, p99, max} in ms over the window since the previous scrape, and
 * `statements`: the statements the service has sent to its database so far
 * (xivo_auth_db_statements_total, null without it); null when the service
 * does not expose the delay.
 */
export async function readEventLoopDelay(url) {
  const res = await request(url, { path: '/metrics', agent, timeoutMs: 10_000 });
  if (res.status !== 200 || typeof res.body !== 'string') return null;
  const q = {};
  for (const m of res.body.matchAll(LINE)) q[m[1]] = Number(m[2]) * 1000;
  if (q['1'] === undefined) return null;
  let statements = null;
  for (const m of res.body.matchAll(STATEMENTS)) statements = (statements ?? 0) + Number(m[1]);
  return { p50: q['0.5'], p99: q['0.99'], max: q['1'], statements };
}

/**
 * Runs `fn` and returns [its result, the event-loop delay of the service
 * during it, with `statements`: those sent during it (the two scrapes' own
 * included: /metrics sends none)].
 */
export async function withEventLoopDelay(url, fn) {
  const before = await readEventLoopDelay(url);
  const result = await fn();
  const after = await readEventLoopDelay(url);
  if (after !== null) {
    after.statements =
      after.statements !== null && before?.statements !== null && before?.statements !== undefined
        ? after.statements - before.statements
        : null;
  }
  return [result, after];
}
