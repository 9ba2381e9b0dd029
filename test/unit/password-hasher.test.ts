import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ownThreads } from '../helpers/threads.js';
import { defaultHashingConcurrency, HasherBusyError, PasswordHasher } from '../../src/passwords/hasher.js';

const params = { memory_kib: 1024, iterations: 1, parallelism: 1, max_concurrent: 1, max_queue: 2 };

describe('PasswordHasher', () => {
  it('hashes with argon2id and verifies exactly', async () => {
    const hasher = new PasswordHasher(params);
    const h = await hasher.hash('secret');
    expect(h).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    expect(await hasher.verify(h, 'secret')).toBe(true);
    expect(await hasher.verify(h, 'secret ')).toBe(false);
    expect(await hasher.verify(h, 'secret\u0000')).toBe(false);
    expect(await hasher.verify('not a hash', 'secret')).toBe(false);
    expect(await hasher.verifyDummy('secret')).toBe(false);
  });

  it('refuses work beyond its queue instead of queueing without bound', async () => {
    const hasher = new PasswordHasher(params);
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => hasher.hash(`p${i}`)));
    const busy = results.filter((r) => r.status === 'rejected');
    // 1 hashing + 1 held by its thread + 2 waiting are served; the other 2 are refused.
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    expect(busy).toHaveLength(2);
    for (const r of busy) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(HasherBusyError);
    expect(hasher.stats).toEqual({ inFlight: 0, waiting: 0 });
  });

  it('hashes on one thread per core by default (max_concurrent: 0), each holding its next job, the others waiting', async () => {
    expect(defaultHashingConcurrency()).toBe(availableParallelism());
    const hasher = new PasswordHasher({ ...params, max_concurrent: 0, max_queue: 4 });
    const slots = availableParallelism();
    const all = Array.from({ length: 2 * slots + 2 }, (_, i) => hasher.hash(`p${i}`));
    expect(hasher.stats).toEqual({ inFlight: 2 * slots, waiting: 2 });
    for (const h of await Promise.all(all)) expect(h).toMatch(/^\$argon2id\$/);
    expect(hasher.stats).toEqual({ inFlight: 0, waiting: 0 });
  });

  it('never starts more threads than max_concurrent: the next job waits on a busy thread', async () => {
    const hasher = new PasswordHasher({ ...params, niceness: 3, max_concurrent: 1, max_queue: 8 });
    const before = new Set(ownThreads().map((t) => t.tid));
    const hashes = await Promise.all(Array.from({ length: 5 }, (_, i) => hasher.hash(`p${i}`)));
    expect(new Set(hashes).size).toBe(5);
    for (const [i, h] of hashes.entries()) expect(await hasher.verify(h, `p${i}`)).toBe(true);
    expect(ownThreads().filter((t) => t.name === 'argon2id' && !before.has(t.tid))).toHaveLength(1);
    await hasher.close();
  });

  it('tells when a stored hash used other parameters', async () => {
    const hasher = new PasswordHasher(params);
    expect(hasher.needsRehash(await hasher.hash('x'))).toBe(false);
    const other = new PasswordHasher({ ...params, iterations: 2 });
    expect(hasher.needsRehash(await other.hash('x'))).toBe(true);
  });

  it("hashes on threads named argon2id below the event loop's priority, ended by close()", async () => {
    const hasher = new PasswordHasher({ ...params, niceness: 7 });
    await hasher.hash('x');
    const threads = ownThreads().filter((t) => t.name === 'argon2id');
    expect(threads.length).toBeGreaterThanOrEqual(1);
    // Another hasher's threads may be alive in this process: ours has nice 7.
    expect(threads.some((t) => t.nice === 7)).toBe(true);
    await hasher.close();
    expect(ownThreads().some((t) => t.name === 'argon2id' && t.nice === 7)).toBe(false);
    await expect(hasher.hash('y')).rejects.toThrow(/closed/);
  });

  it("hashes at the event loop's priority with niceness 0", async () => {
    const hasher = new PasswordHasher({ ...params, niceness: 0, max_concurrent: 1 });
    const before = new Set(ownThreads().map((t) => t.tid));
    await hasher.hash('x');
    const mine = ownThreads().filter((t) => t.name === 'argon2id' && !before.has(t.tid));
    expect(mine.map((t) => t.nice)).toEqual([0]);
    await hasher.close();
  });
});
