// The service's own event-loop delay: xivo_auth_event_loop_delay_seconds
// (perf_hooks.monitorEventLoopDelay inside the service, src/metrics/event-loop.ts),
// read from GET /metrics. Every scrape starts a new window, so: scrape once to
// start the window, run the load, scrape again to read p50/p99/max over it.
import { createAgent, request } from './http.js';

const agent = createAgent(1);
const LINE = /^xivo_auth_event_loop_delay_seconds\{quantile="([^"]+)"\} (\S+)$/gm;

const STATEMENTS = /^xivo_auth_db_statements_total\{[^}]*\} (\S+)$/gm;

/** One scrape: the delay window's {p50, p99, max} in ms (null without it) and the statements counter (null without it). */
async function scrape(url) {
  const res = await request(url, { path: '/metrics', agent, timeoutMs: 10_000 });
  if (res.status !== 200 || typeof res.body !== 'string') return { delay: null, statements: null };
  const q = {};
  for (const m of res.body.matchAll(LINE)) q[m[1]] = Number(m[2]) * 1000;
  let statements = null;
  for (const m of res.body.matchAll(STATEMENTS)) statements = (statements ?? 0) + Number(m[1]);
  const delay = q['1'] === undefined ? null : { p50: q['0.5'], p99: q['0.99'], max: q['1'] };
  return { delay, statements };
}

/**
 * {p50, p99, max} in ms over the window since the previous scrape; null when
 * the service does not expose it (or the window was empty).
 */
export async function readEventLoopDelay(url) {
  return (await scrape(url)).delay;
}

/**
 * Runs `fn` and returns [its result, the event-loop delay of the service
 * during it, with `statements`: the statements the service sent to its
 * database during it (xivo_auth_db_statements_total; /metrics sends none),
 * null without the counter].
 */
export async function withEventLoopDelay(url, fn) {
  const before = await scrape(url);
  const result = await fn();
  const after = await scrape(url);
  if (after.delay === null) return [result, null];
  const statements = after.statements !== null && before.statements !== null ? after.statements - before.statements : null;
  return [result, { ...after.delay, statements }];
}
