import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WakeUp } from '../../src/wake-up.js';

async function settled(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => {
    done = true;
  });
  await vi.advanceTimersByTimeAsync(0);
  return done;
}

describe('WakeUp', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a wakeable sleep ends on wake(), or after its time', async () => {
    const w = new WakeUp();
    const a = w.sleep(1000);
    expect(await settled(a)).toBe(false);
    w.wake();
    expect(await settled(a)).toBe(true);
    const b = w.sleep(1000);
    await vi.advanceTimersByTimeAsync(999);
    expect(await settled(b)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(b)).toBe(true);
  });

  it('remembers a wake-up that came while no sleep ran, once', async () => {
    const w = new WakeUp();
    w.wake();
    expect(await settled(w.sleep(1000))).toBe(true);
    expect(await settled(w.sleep(1000))).toBe(false);
  });

  it('a back-off sleep ignores wake() but keeps it for the next wakeable sleep', async () => {
    const w = new WakeUp();
    const backoff = w.sleep(500, false);
    w.wake();
    expect(await settled(backoff)).toBe(false);
    await vi.advanceTimersByTimeAsync(500);
    expect(await settled(backoff)).toBe(true);
    expect(await settled(w.sleep(1000))).toBe(true);
  });

  it('stop() ends any sleep and later ones until resume()', async () => {
    const w = new WakeUp();
    const backoff = w.sleep(10_000, false);
    w.stop();
    expect(await settled(backoff)).toBe(true);
    expect(await settled(w.sleep(10_000))).toBe(true);
    w.resume();
    expect(await settled(w.sleep(10_000))).toBe(false);
  });
});
