// Metrics of the mail outbox (issue 21), registered on the service's own
// registry (src/metrics/metrics.ts): deliveries by kind and outcome, and the
// backlog read from the store when scraped (one read for both gauges).
import { Counter, Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../metrics/metrics.js';
import type { MailObserver } from './relay.js';
import { MAIL_KINDS, type MailBacklog } from './types.js';

export function observeMailOutbox(registry: Registry, backlog: () => Promise<MailBacklog>, now: () => number): MailObserver {
  const deliveries = new Counter({
    name: `${METRIC_PREFIX}mail_deliveries_total`,
    help: 'Delivery attempts of self-service mails by this instance, by kind (email_confirmation, password_reset) and result (sent, failed: retried later, expired: dropped, its link expired).',
    labelNames: ['kind', 'result'],
    registers: [registry],
  });
  for (const kind of MAIL_KINDS) for (const result of ['sent', 'failed', 'expired']) deliveries.inc({ kind, result }, 0);
  let reading: Promise<MailBacklog> | null = null;
  const read = () =>
    (reading ??= backlog().finally(() => {
      reading = null;
    }));
  new Gauge({
    name: `${METRIC_PREFIX}mail_outbox_pending`,
    help: 'Mails waiting in the outbox, by state (due: never attempted, retrying: failed at least once).',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      try {
        const { pending, retrying } = await read();
        this.set({ state: 'due' }, pending - retrying);
        this.set({ state: 'retrying' }, retrying);
      } catch {
        this.reset();
      }
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}mail_outbox_oldest_age_seconds`,
    help: 'Age of the oldest mail waiting in the outbox (0 when empty).',
    registers: [registry],
    async collect() {
      try {
        const { oldestCreatedAt } = await read();
        this.set(oldestCreatedAt === null ? 0 : Math.max(0, (now() - oldestCreatedAt) / 1000));
      } catch {
        this.reset();
      }
    },
  });
  return {
    sent: (kind) => deliveries.inc({ kind, result: 'sent' }),
    failed: (kind) => deliveries.inc({ kind, result: 'failed' }),
    expired: (kind) => deliveries.inc({ kind, result: 'expired' }),
  };
}
