// src/config/reload.ts: which keys changed, which are live, and a rejected reload changing nothing.
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/schema.js';
import type { Config } from '../../src/config/types.js';
import { ConfigError } from '../../src/config/errors.js';
import { ConfigReloader, changedKeys, classifyChanges } from '../../src/config/reload.js';

const base = (): Config => structuredClone(DEFAULT_CONFIG) as Config;
const quiet = () => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() });

describe('changedKeys / classifyChanges', () => {
  it('names leaf paths, lists as one value, named maps by entry', () => {
    const a = base();
    const b = base();
    b.log_level = 'debug';
    b.rest_api.cors.allow_origins = ['https://x'];
    b.rest_api.port = 1;
    b.default_policies = { p1: { acl: ['a'] } };
    b.security.rate_limits.api.burst = 7;
    b.authz.routes = [{ path: '/a', access: 'a' }];
    expect(changedKeys(a, b)).toEqual([
      'authz.routes',
      'default_policies.p1',
      'log_level',
      'rest_api.cors.allow_origins',
      'rest_api.port',
      'security.rate_limits.api.burst',
    ]);
    expect(classifyChanges(changedKeys(a, b))).toEqual({
      live: ['authz.routes', 'default_policies.p1', 'log_level', 'rest_api.cors.allow_origins', 'security.rate_limits.api.burst'],
      restart: ['rest_api.port'],
    });
    expect(changedKeys(a, base())).toEqual([]);
  });

  it('cors.enabled and db_uri need a restart', () => {
    expect(classifyChanges(['rest_api.cors.enabled', 'db_uri', 'security.max_header_bytes']).restart).toEqual([
      'rest_api.cors.enabled',
      'db_uri',
      'security.max_header_bytes',
    ]);
  });
});

describe('ConfigReloader', () => {
  it('applies live keys into the running configuration, not the restart-only ones', async () => {
    const running = base();
    const next = base();
    next.debug = true;
    next.rest_api.port = 1;
    const apply = vi.fn();
    const logger = quiet();
    const outcome = await new ConfigReloader(running, () => next, apply, logger).reload();
    expect(outcome).toMatchObject({ status: 'applied', applied: ['debug'], needsRestart: ['rest_api.port'] });
    expect(apply).toHaveBeenCalledWith(next, ['debug']);
    expect(running.debug).toBe(true);
    expect(running.rest_api.port).toBe(DEFAULT_CONFIG.rest_api.port);
    expect(logger.warn).toHaveBeenCalledWith({ keys: ['rest_api.port'] }, 'configuration reload: needs a restart: rest_api.port');
  });

  it('a configuration that does not load changes nothing', async () => {
    const running = base();
    const apply = vi.fn();
    const logger = quiet();
    const outcome = await new ConfigReloader(
      running,
      () => {
        throw new ConfigError(['log_level: bad (file x)']);
      },
      apply,
      logger,
    ).reload();
    expect(outcome).toMatchObject({ status: 'rejected', problems: ['log_level: bad (file x)'] });
    expect(apply).not.toHaveBeenCalled();
    expect(running).toEqual(base());
    expect(logger.error).toHaveBeenCalled();
  });

  it('a failed apply leaves the running configuration as it was', async () => {
    const running = base();
    const next = base();
    next.default_policies = { p: { acl: ['a'] } };
    const outcome = await new ConfigReloader(
      running,
      () => next,
      () => {
        throw new Error('store unavailable');
      },
      quiet(),
    ).reload();
    expect(outcome.status).toBe('rejected');
    expect(running.default_policies).toEqual(DEFAULT_CONFIG.default_policies);
  });
});
