// How late the event loop runs: perf_hooks.monitorEventLoopDelay samples a
// timer every RESOLUTION_MS; each sample is the time between two of its runs,
// so anything that holds the loop (synchronous SQL, a long JSON parse, CPU
// starvation) shows as a sample longer than the period. Exposed as the delay
// beyond the period — p50, p99 and max over the window since the previous
// scrape (the histogram restarts at every scrape, like prom-client's own
// eventloop_lag gauges, whose 10 ms period is too coarse for a 20 ms budget).
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/** Sampling period: a sample overstates a blockage by less than this, at ~1% of a core when idle. */
export const EVENT_LOOP_RESOLUTION_MS = 2;

const QUANTILES = [
  ['0.5', 50],
  ['0.99', 99],
  ['1', 100],
] as const;

export interface EventLoopDelayMonitor {
  /** Delay beyond the sampling period, in seconds, since the previous scrape (null: no sample yet). */
  snapshot(): { p50: number; p99: number; max: number; samples: number } | null;
  close(): void;
}

export function registerEventLoopDelay(
  registry: Registry,
  prefix: string,
  resolutionMs = EVENT_LOOP_RESOLUTION_MS,
): EventLoopDelayMonitor {
  let histogram: IntervalHistogram | null = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  const beyondPeriod = (ns: number) => Math.max(0, ns / 1e6 - resolutionMs) / 1000;

  const monitor: EventLoopDelayMonitor = {
    snapshot() {
      if (histogram === null || histogram.count === 0) return null;
      return {
        p50: beyondPeriod(histogram.percentile(50)),
        p99: beyondPeriod(histogram.percentile(99)),
        max: beyondPeriod(histogram.max),
        samples: histogram.count,
      };
    },
    close() {
      histogram?.disable();
      histogram = null;
    },
  };

  new Gauge({
    name: `${prefix}event_loop_delay_seconds`,
    help: `How late the event loop ran a timer due every ${resolutionMs} ms (time it was held by work or starved of CPU), by quantile (1 = max), over the window since the previous scrape.`,
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      this.reset();
      if (histogram === null) return;
      if (histogram.count > 0) {
        for (const [label, percentile] of QUANTILES) {
          this.set({ quantile: label }, beyondPeriod(percentile === 100 ? histogram.max : histogram.percentile(percentile)));
        }
      }
      histogram.reset();
    },
  });
  return monitor;
}
