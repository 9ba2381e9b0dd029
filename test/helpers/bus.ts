// A consumer on the real RabbitMQ (127.0.0.1:5672, guest/guest) bound to a
// test-unique exchange: what the service published, in arrival order.
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';

export const AMQP_URI = 'amqp://guest:guest@127.0.0.1:5672/';

export interface BusMessage {
  routingKey: string;
  headers: Record<string, unknown>;
  body: Record<string, unknown>;
  messageId: string | undefined;
}

export interface BusConsumer {
  exchange: string;
  messages: BusMessage[];
  /** The messages named `name` (the `name` header). */
  named(name: string): BusMessage[];
  close(): Promise<void>;
}

/** A fresh exchange name, so parallel test files never see each other's events. */
export function uniqueExchange(): string {
  return `xivo-test-${randomUUID()}`;
}

export async function startBusConsumer(exchange = uniqueExchange()): Promise<BusConsumer> {
  const connection = await amqp.connect(AMQP_URI);
  const channel = await connection.createChannel();
  // Declared as the relay declares it (durable topic), whoever comes first.
  await channel.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, exchange, '#');
  const messages: BusMessage[] = [];
  await channel.consume(
    queue,
    (msg) => {
      if (msg === null) return;
      messages.push({
        routingKey: msg.fields.routingKey,
        headers: (msg.properties.headers ?? {}) as Record<string, unknown>,
        body: JSON.parse(msg.content.toString('utf8')) as Record<string, unknown>,
        messageId: msg.properties.messageId as string | undefined,
      });
    },
    { noAck: true },
  );
  return {
    exchange,
    messages,
    named: (name) => messages.filter((m) => m.headers.name === name),
    async close() {
      await channel.deleteExchange(exchange).catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}
