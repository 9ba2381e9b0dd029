// A test service whose log lines are kept (JSON strings), on either engine,
// closed after the file's tests. Login throttling is off (see ./relaxed.ts).
import { closeAtEnd } from '../helpers/cleanup.js';
import pino from 'pino';
import { FakeClock } from '../../src/clock.js';
import type { Config } from '../../src/config/types.js';
import { createService } from '../../src/main.js';
import { dbUriFor, testConfig, type Engine, type TestService } from '../helpers/service.js';
import { withoutThrottling } from './relaxed.js';

export interface LoggedService extends TestService {
  lines: string[];
}

export async function startLoggedService(engine: Engine, overrides: Partial<Config>): Promise<LoggedService> {
  const db = await dbUriFor(engine);
  const config = testConfig(db.uri, { ...overrides, debug: true, ...withoutThrottling() });
  const lines: string[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        lines.push(line);
      },
    },
  );
  const clock = new FakeClock(Date.now());
  let service;
  try {
    service = await createService(config, logger, { clock });
    await service.app.ready();
  } catch (err) {
    await db.cleanup();
    throw err;
  }
  const started = service;
  const close = closeAtEnd(async () => {
    await started.close();
    await db.cleanup();
  });
  return { service: started, clock, config, close, lines };
}
