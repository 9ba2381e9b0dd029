// Event-loop delay of the service, seen from outside: a cheap GET /0.1/status
// every 10 ms on one keep-alive connection, never more than one in flight.
// The slowest answer is an upper bound of how long the service's event loop
// was blocked (it also includes the network and the status handler itself).
import { performance } from 'node:perf_hooks';
import { createAgent, request } from './http.js';
import { summarizeLatencies } from './stats.js';

export function startStatusProbe(url, intervalMs = 10) {
  const agent = createAgent(1);
  const latencies = [];
  let inFlight = false;
  let skipped = 0;
  let failures = 0;
  const timer = setInterval(() => {
    if (inFlight) {
      skipped += 1;
      return;
    }
    inFlight = true;
    const t = performance.now();
    request(url, { path: '/0.1/status', agent, timeoutMs: 10_000 })
      .then(
        (res) => {
          if (res.status === 200) latencies.push(performance.now() - t);
          else failures += 1;
        },
        () => {
          failures += 1;
        },
      )
      .finally(() => {
        inFlight = false;
      });
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      while (inFlight) await new Promise((r) => setTimeout(r, 5));
      agent.destroy();
      // Ticks skipped because the previous probe had not come back are part
      // of the picture: the slowest probe covers them.
      return { ...summarizeLatencies(latencies), skipped, failures };
    },
  };
}
