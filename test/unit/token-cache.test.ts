import { describe, expect, it } from 'vitest';
import { compileAcl } from '@xivo-auth/acl';
import type { TokenRecord } from '../../src/store/types.js';
import { TokenCache } from '../../src/tokens/cache.js';

function entry(hash: string) {
  const record = { hash, acl: ['a.b'] } as unknown as TokenRecord;
  return { record, acl: compileAcl(record.acl) };
}

describe('TokenCache', () => {
  it('is bounded and evicts the least recently used entry', () => {
    const cache = new TokenCache(2, true);
    cache.set('a', entry('a'), cache.generation);
    cache.set('b', entry('b'), cache.generation);
    expect(cache.get('a')).toBeDefined(); // a is now the most recent
    cache.set('c', entry('c'), cache.generation);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
  });

  it('keeps recently used entries, without moving the ones that are not at risk', () => {
    const cache = new TokenCache(4, true);
    for (const k of ['a', 'b', 'c', 'd']) cache.set(k, entry(k), cache.generation);
    expect(cache.get('a')).toBeDefined(); // oldest: refreshed
    expect(cache.get('d')).toBeDefined(); // newest half: stays
    cache.set('e', entry('e'), cache.generation); // evicts b, the least recently used
    expect(cache.get('b')).toBeUndefined();
    for (const k of ['a', 'c', 'd', 'e']) expect(cache.get(k), k).toBeDefined();
    expect(cache.size).toBe(4);
    cache.set('e', entry('e'), cache.generation); // re-setting a present key evicts nothing
    expect(cache.size).toBe(4);
    expect(cache.evictions).toBe(1);
  });

  it('does not cache a record read before an invalidation', () => {
    const cache = new TokenCache(10, true);
    const generation = cache.generation; // lookup starts, reads the store...
    cache.invalidate(['x']); // ...meanwhile the token is revoked
    cache.set('x', entry('x'), generation);
    expect(cache.get('x')).toBeUndefined();
  });

  it('forgets invalidated entries', () => {
    const cache = new TokenCache(10, true);
    cache.set('x', entry('x'), cache.generation);
    cache.set('y', entry('y'), cache.generation);
    cache.invalidate(['x']);
    expect(cache.get('x')).toBeUndefined();
    expect(cache.get('y')).toBeDefined();
    cache.flush();
    expect(cache.get('y')).toBeUndefined();
  });

  it('fails closed when disabled: empty and not filling until enabled', () => {
    const cache = new TokenCache(10, true);
    cache.set('x', entry('x'), cache.generation);
    cache.disable();
    expect(cache.get('x')).toBeUndefined();
    cache.set('y', entry('y'), cache.generation);
    expect(cache.size).toBe(0);
    cache.enable();
    cache.set('y', entry('y'), cache.generation);
    expect(cache.get('y')).toBeDefined();
  });

  it('caches nothing with max_entries 0', () => {
    const cache = new TokenCache(0, true);
    cache.set('x', entry('x'), cache.generation);
    expect(cache.get('x')).toBeUndefined();
  });
});
