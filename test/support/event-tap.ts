import { randomBytes } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConsumeMessage, type MessageProperties } from 'amqplib';
import { GiftCardEvent } from '../../gen/giftcard/v1/gift_card_event';

/** The broker tests use; CI and the README start it on the default port. */
export const TEST_AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** An exchange of this test run's own, so runs on a shared broker never see each other's events. */
export const testExchangeName = (): string => `giftcard.events.test-${randomBytes(6).toString('hex')}`;

/** One delivery as a consumer sees it: the decoded event and the AMQP envelope around it. */
export interface TappedEvent {
  readonly routingKey: string;
  readonly properties: MessageProperties;
  readonly persistent: boolean;
  /** The message body as it came, to search for what must never be in it. */
  readonly content: Buffer;
  readonly event: GiftCardEvent;
}

const POLL_MS = 25;
/** Liveness bound for events to arrive on a loaded machine; the relay is woken at each commit. */
const ARRIVAL_TIMEOUT_MS = 20_000;

/**
 * A consumer of the service's events, as another service would bind one: a queue of its own on
 * the events exchange (declared here the way the service declares it), bound with `bindingKeys`.
 * Everything it created is deleted by `close`; it never touches another queue.
 */
export class EventTap {
  readonly received: TappedEvent[] = [];

  private constructor(
    private readonly model: ChannelModel,
    private readonly channel: Channel,
    private readonly queue: string,
    readonly exchange: string,
  ) {}

  static async open(
    exchange: string,
    options: { url?: string; bindingKeys?: readonly string[]; durable?: boolean } = {},
  ): Promise<EventTap> {
    const model = await connect(options.url ?? TEST_AMQP_URL);
    model.on('error', () => undefined);
    const channel = await model.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const durable = options.durable ?? false;
    const { queue } = await channel.assertQueue(`${exchange}.tap-${randomBytes(4).toString('hex')}`, {
      durable,
      exclusive: !durable,
      autoDelete: !durable,
    });
    for (const key of options.bindingKeys ?? ['#']) await channel.bindQueue(queue, exchange, key);
    const tap = new EventTap(model, channel, queue, exchange);
    await channel.consume(queue, (message) => {
      if (message !== null) tap.take(message);
    });
    return tap;
  }

  /** The events of one card, in the order they arrived. */
  forCard(giftCardId: string): TappedEvent[] {
    return this.received.filter((tapped) => tapped.event.giftCardId === giftCardId);
  }

  /** Waits until `count` events match, and returns them; fails the test if they do not come. */
  async waitFor(
    count: number,
    matches: (tapped: TappedEvent) => boolean = () => true,
    timeoutMs = ARRIVAL_TIMEOUT_MS,
  ): Promise<TappedEvent[]> {
    const giveUpAt = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.filter(matches);
      if (found.length >= count) return found;
      if (Date.now() > giveUpAt) {
        throw new Error(`saw ${found.length} of ${count} expected events on ${this.exchange} in ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Deletes the queue and, when asked, the exchange; both are this run's own. */
  async close({ deleteExchange = false }: { deleteExchange?: boolean } = {}): Promise<void> {
    try {
      await this.channel.deleteQueue(this.queue);
      if (deleteExchange) await this.channel.deleteExchange(this.exchange);
    } finally {
      await this.model.close().catch(() => undefined);
    }
  }

  private take(message: ConsumeMessage): void {
    this.received.push({
      routingKey: message.fields.routingKey,
      properties: message.properties,
      persistent: message.properties.deliveryMode === 2,
      content: message.content,
      event: GiftCardEvent.decode(message.content),
    });
    this.channel.ack(message);
  }
}
