import { randomBytes } from 'node:crypto';
import { connect } from 'amqplib';
import type { RowDataPacket } from 'mysql2/promise';
import { connectServer } from './bench-database';

/**
 * The exchange the events-on service publishes to, with one durable queue bound to everything,
 * as a deployment with a consumer has: the broker persists each event before it confirms. Both
 * are this run's own and deleted at the end; no other queue of the broker is touched.
 */
export class BenchEventBroker {
  private constructor(
    private readonly url: string,
    readonly exchange: string,
    private readonly queue: string,
  ) {}

  static async open(url: string, runTag: string): Promise<BenchEventBroker> {
    const exchange = `giftcard.bench.events-${runTag}-${randomBytes(3).toString('hex')}`;
    const broker = new BenchEventBroker(url, exchange, `${exchange}.all`);
    const connection = await connect(url);
    try {
      const channel = await connection.createChannel();
      await channel.assertExchange(exchange, 'topic', { durable: true });
      await channel.assertQueue(broker.queue, { durable: true });
      await channel.bindQueue(broker.queue, exchange, '#');
    } finally {
      await connection.close();
    }
    return broker;
  }

  /** The settings that turn the service's events on, towards this exchange. */
  serviceEnv(): Record<string, string> {
    return { EVENTS_AMQP_URL: this.url, EVENTS_EXCHANGE: this.exchange };
  }

  async close(): Promise<void> {
    const connection = await connect(this.url);
    try {
      const channel = await connection.createChannel();
      await channel.deleteQueue(this.queue);
      await channel.deleteExchange(this.exchange);
    } finally {
      await connection.close();
    }
  }
}

/** Events committed but not yet confirmed by the broker: whether the relay kept up with the cell. */
export async function outboxUnsent(serverUrl: string, database: string): Promise<number> {
  const connection = await connectServer(serverUrl, database);
  try {
    const [[row]] = await connection.query<RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM event_outbox WHERE sent_at IS NULL',
    );
    return Number(row?.n);
  } finally {
    await connection.end();
  }
}
