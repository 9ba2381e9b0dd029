// The hot-path instruments render as Prometheus expects, next to prom-client's own.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FixedCounter, FixedHistogram, register } from '../../src/metrics/fast.js';
import { Metrics } from '../../src/metrics/metrics.js';

describe('hot-path instruments', () => {
  it('a histogram has cumulative buckets, +Inf, sum and count; boundaries are inclusive', async () => {
    const registry = new Registry();
    const h = new FixedHistogram('t_seconds', 'help text', [0.001, 0.01]);
    register(registry, h);
    for (const v of [0.0005, 0.001, 0.005, 0.5]) h.observe(v);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE t_seconds histogram');
    expect(text).toContain('t_seconds_bucket{le="0.001"} 2');
    expect(text).toContain('t_seconds_bucket{le="0.01"} 3');
    expect(text).toContain('t_seconds_bucket{le="+Inf"} 4');
    expect(text).toContain('t_seconds_sum 0.5065');
    expect(text).toContain('t_seconds_count 4');
  });

  it('a counter exposes every series, zeros included', async () => {
    const registry = new Registry();
    const c = new FixedCounter('c_total', 'help', [{ result: 'a' }, { result: 'b' }]);
    register(registry, c);
    c.inc(1);
    c.inc(1, 2);
    expect(await registry.metrics()).toContain('c_total{result="a"} 0\nc_total{result="b"} 3');
  });

  it('each Metrics has its own registry: two services never share counts', async () => {
    const a = new Metrics({ processMetrics: false });
    const b = new Metrics({ processMetrics: false });
    a.tokens.checked(0, true, 0.0001);
    expect((await a.scrape()).body).toContain('xivo_auth_token_checks_total{result="valid",source="cache"} 1');
    expect((await b.scrape()).body).toContain('xivo_auth_token_checks_total{result="valid",source="cache"} 0');
    expect((await b.scrape()).body).not.toContain('process_cpu');
  });
});
