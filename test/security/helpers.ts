// Helpers of the security tests: configuration with the defaults of
// src/config/sections/security.ts changed where a test needs it, a counter of
// the argon2 work a service spends, and login requests from chosen addresses.
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import type { Config } from '../../src/config/types.js';
import type { Service } from '../../src/main.js';
import { basic } from '../helpers/service.js';

type Security = Config['security'];

export function securityWith(
  over: {
    login_throttle?: Partial<Security['login_throttle']>;
    rate_limits?: Partial<Omit<Security['rate_limits'], 'login' | 'api' | 'checks'>> &
      Partial<Pick<Security['rate_limits'], 'login' | 'api' | 'checks'>>;
    max_header_bytes?: number;
    hsts_max_age?: number;
  } = {},
): Security {
  const base = structuredClone(DEFAULT_CONFIG.security) as Security;
  return {
    ...base,
    ...(over.max_header_bytes !== undefined ? { max_header_bytes: over.max_header_bytes } : {}),
    ...(over.hsts_max_age !== undefined ? { hsts_max_age: over.hsts_max_age } : {}),
    login_throttle: { ...base.login_throttle, ...(over.login_throttle ?? {}) },
    rate_limits: { ...base.rate_limits, ...(over.rate_limits ?? {}) },
  };
}

/** Counts every argon2 verification and hash the service's hasher performs (the backend shares the instance). */
export function countHashes(service: Service): { readonly count: number } {
  const hasher = service.hasher as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const counter = { count: 0 };
  for (const name of ['verify', 'hash']) {
    const original = hasher[name].bind(service.hasher);
    hasher[name] = async (...args: unknown[]) => {
      counter.count += 1;
      return original(...args);
    };
  }
  return counter;
}

export function login(service: Service, username: string, password: string, address = '203.0.113.1') {
  return service.app.inject({
    method: 'POST',
    url: '/0.1/token',
    remoteAddress: address,
    headers: { 'content-type': 'application/json', authorization: basic(username, password) },
    payload: {},
  });
}

export async function createUser(service: Service, adminToken: string, body: Record<string, unknown>) {
  const res = await service.app.inject({
    method: 'POST',
    url: '/0.1/users',
    remoteAddress: '192.0.2.250',
    headers: { 'content-type': 'application/json', 'x-auth-token': adminToken },
    payload: body,
  });
  if (res.statusCode !== 200) throw new Error(`create user: ${res.statusCode} ${res.body}`);
  return res.json() as { uuid: string; tenant_uuid: string };
}
