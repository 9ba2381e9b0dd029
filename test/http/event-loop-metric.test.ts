// xivo_auth_event_loop_delay_seconds: the service's event-loop delay over the
// window since the previous scrape (src/metrics/event-loop.ts). The service
// runs in this process, so blocking the test's thread blocks its event loop.
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { registerEventLoopDelay } from '../../src/metrics/event-loop.js';
import { ENGINES, startTestService } from '../helpers/service.js';

function quantiles(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^xivo_auth_event_loop_delay_seconds\{quantile="([^"]+)"\} (\S+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* hold the event loop */
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(ENGINES)('event-loop delay metric (%s)', (engine) => {
  it('shows a blocked event loop in the window where it happened, and only there', async () => {
    const t = await startTestService(engine);
    const scrape = async () => {
      const res = await t.service.app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      return quantiles(res.body);
    };
    await scrape(); // starts a window
    await pause(30);
    block(120);
    await pause(30);
    const blocked = await scrape();
    expect(Object.keys(blocked).sort()).toEqual(['0.5', '0.99', '1']);
    // The timer due every 2 ms ran about 120 ms late once.
    expect(blocked['1']).toBeGreaterThanOrEqual(0.1);
    expect(blocked['0.5']).toBeLessThan(blocked['1']);

    // The next window starts at that scrape: nothing blocked since.
    await pause(100);
    const calm = await scrape();
    expect(calm['1']).toBeLessThan(0.1);
    await t.close();
  });
});

describe('registerEventLoopDelay', () => {
  it('reports the delay beyond the sampling period, and stops on close', async () => {
    const registry = new Registry();
    const monitor = registerEventLoopDelay(registry, 'test_', 5);
    await pause(50);
    block(60);
    await pause(20);
    const snap = monitor.snapshot();
    expect(snap).not.toBeNull();
    expect(snap!.max).toBeGreaterThanOrEqual(0.05);
    expect(snap!.p50).toBeLessThan(snap!.max);
    expect(snap!.samples).toBeGreaterThan(3);
    const exposed = /^test_event_loop_delay_seconds\{quantile="1"\} (\S+)$/m.exec(await registry.metrics());
    expect(Number(exposed?.[1])).toBeGreaterThanOrEqual(0.05);
    monitor.close();
    expect(monitor.snapshot()).toBeNull();
    // After close the gauge has no value any more.
    expect(await registry.metrics()).not.toMatch(/^test_event_loop_delay_seconds\{/m);
  });
});
