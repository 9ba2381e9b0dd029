// Tracing of AMQP publishing (issue 26): with tracing on, each published
// message carries the relay span's W3C traceparent in its AMQP headers (not
// in its body); off, the headers are as before. And the SMTP seam makes a span.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfirmChannel } from 'amqplib';
import { EventRelay } from '../../src/events/relay.js';
import type { OutboxEvent } from '../../src/events/catalog.js';
import { startTracing, traceMailTransport, tracing } from '../../src/tracing/tracing.js';

const quiet = { info: () => {}, warn: () => {}, debug: () => {} };
const options = {
  uri: 'amqp://unused',
  exchangeName: 'xivo',
  exchangeType: 'topic',
  originUuid: null,
  batchSize: 10,
  pollIntervalMs: 1000,
  timeoutMs: 1000,
  retryMinMs: 10,
  retryMaxMs: 100,
};
const event: OutboxEvent = {
  id: 1,
  createdAt: 1_700_000_000_000,
  name: 'auth_session_created',
  routingKey: 'auth.sessions.x.created',
  tenantUuid: null,
  userUuid: null,
  data: { uuid: 'x' },
};

function fakeChannel() {
  const published: { headers: Record<string, unknown>; body: string }[] = [];
  const channel = {
    publish(
      _exchange: string,
      _key: string,
      body: Buffer,
      opts: { headers: Record<string, unknown> },
      cb: (err: unknown) => void,
    ) {
      published.push({ headers: opts.headers, body: body.toString('utf8') });
      cb(null);
      return true;
    },
  } as unknown as ConfirmChannel;
  return { channel, published };
}

async function publishOne() {
  const relay = new EventRelay({ relayEvents: async () => 0 }, options, quiet);
  const { channel, published } = fakeChannel();
  await (relay as unknown as { publish(c: ConfirmChannel, e: OutboxEvent[]): Promise<number> }).publish(channel, [event]);
  return published[0];
}

let stop: (() => Promise<void>) | null = null;
afterEach(async () => {
  await stop?.();
  stop = null;
});

describe('tracing: AMQP publish', () => {
  it('off: no traceparent, nothing started', async () => {
    expect(tracing.enabled).toBe(false);
    const message = await publishOne();
    expect(message.headers.traceparent).toBeUndefined();
  });

  it('on: the message headers carry the relay span traceparent, the body does not; SMTP sends get a span', async () => {
    const bodies: string[] = [];
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const port = (receiver.address() as AddressInfo).port;
      stop = await startTracing(
        {
          enabled: true,
          endpoint: `http://127.0.0.1:${port}/v1/traces`,
          headers: {},
          service_name: 't',
          sample_ratio: 1,
          batch_delay_ms: 60_000,
          export_timeout_ms: 2000,
        },
        quiet,
      );
      expect(tracing.enabled).toBe(true);
      const message = await publishOne();
      expect(message.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(message.headers.name).toBe('auth_session_created');
      expect(message.body).not.toContain('traceparent');

      const sent: string[] = [];
      const transport = traceMailTransport<string, { send(m: string): Promise<void>; close(): void }>('smtp.example', {
        async send(mail) {
          sent.push(mail);
        },
        close() {},
      });
      await transport.send('secret-reset-link');
      expect(sent).toEqual(['secret-reset-link']);

      await stop();
      stop = null;
      const exported = bodies.join('\n');
      const traceId = (message.headers.traceparent as string).split('-')[1];
      expect(exported).toContain('"name":"xivo publish"');
      expect(exported).toContain(traceId);
      expect(exported).toContain('"name":"smtp send"');
      expect(exported).toContain('smtp.example');
      expect(exported).not.toContain('secret-reset-link');
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
