// Hot-path instruments: plain numbers bumped by index, turned into the
// Prometheus exposition only when scraped. prom-client's own Counter.inc()
// builds a label hash string per call; on the token check (tens of
// thousands of calls a second) that costs more than the check's cache hit.
// These objects satisfy the shape a prom-client Registry reads
// (`name`, `help`, `type`, `get()`), so they are registered beside its metrics.
import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

interface MetricValue {
  value: number;
  labels: Labels;
  metricName?: string;
}

interface CollectedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram' | 'gauge';
  values: MetricValue[];
  aggregator: 'sum';
}

/** A counter over a fixed, enumerated set of label values (index = series). */
export class FixedCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly counts: Float64Array;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly series: readonly Labels[],
  ) {
    this.counts = new Float64Array(series.length);
  }

  inc(index: number, by = 1): void {
    this.counts[index] += by;
  }

  value(index: number): number {
    return this.counts[index];
  }

  get(): CollectedMetric {
    return {
      name: this.name,
      help: this.help,
      type: 'counter',
      aggregator: 'sum',
      values: this.series.map((labels, i) => ({ value: this.counts[i], labels })),
    };
  }
}

/** A histogram without labels, cumulative buckets computed at scrape time. */
export class FixedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {
    this.counts = new Float64Array(buckets.length);
  }

  /** `value` in the unit of the buckets (seconds). */
  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    const b = this.buckets;
    for (let i = 0; i < b.length; i += 1) {
      if (value <= b[i]) {
        this.counts[i] += 1;
        return;
      }
    }
  }

  get(): CollectedMetric {
    const values: MetricValue[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.buckets.length; i += 1) {
      cumulative += this.counts[i];
      values.push({ metricName: `${this.name}_bucket`, labels: { le: String(this.buckets[i]) }, value: cumulative });
    }
    values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, value: this.count });
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sum });
    values.push({ metricName: `${this.name}_count`, labels: {}, value: this.count });
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }
}

export function register(registry: Registry, metric: FixedCounter | FixedHistogram): void {
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}
