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
  readonly redelivered: boolean;
  /** The message body as it came, to search for what must never be in it. */
  readonly content: Buffer;
  readonly event: GiftCardEvent;
}

export interface TapOptions {
  readonly url?: string;
  readonly bindingKeys?: readonly string[];
  /**
   * A durable queue that outlives the tap's connection, as a real consumer's does: while the
   * broker is away the tap reconnects, and takes up the queue where it was.
   */
  readonly durable?: boolean;
}

const POLL_MS = 25;
const RECONNECT_MS = 250;
/** Liveness bound for events to arrive on a loaded machine; the relay is woken at each commit. */
const ARRIVAL_TIMEOUT_MS = 20_000;

interface Link {
  readonly model: ChannelModel;
  readonly channel: Channel;
}

/**
 * A consumer of the service's events, as another service would bind one: a queue of its own on
 * the events exchange (declared here the way the service declares it), bound with the given keys,
 * each delivery acknowledged once recorded. Everything it created is deleted by `close`; it never
 * touches another queue.
 */
export class EventTap {
  readonly received: TappedEvent[] = [];
  /** Times the connection was lost and made again. */
  reconnects = 0;
  private link: Link | null = null;
  private closing = false;

  private constructor(
    readonly exchange: string,
    private readonly queue: string,
    private readonly options: TapOptions,
  ) {}

  static async open(exchange: string, options: TapOptions = {}): Promise<EventTap> {
    const tap = new EventTap(exchange, `${exchange}.tap-${randomBytes(4).toString('hex')}`, options);
    await tap.attach();
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
    this.closing = true;
    const link = this.link ?? (await this.connect().catch(() => null));
    if (link === null) return;
    try {
      await link.channel.deleteQueue(this.queue);
      if (deleteExchange) await link.channel.deleteExchange(this.exchange);
    } finally {
      await link.model.close().catch(() => undefined);
    }
  }

  private async connect(): Promise<Link> {
    const model = await connect(this.options.url ?? TEST_AMQP_URL);
    model.on('error', () => undefined);
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    return { model, channel };
  }

  private async attach(): Promise<void> {
    const link = await this.connect();
    const { channel } = link;
    const durable = this.options.durable ?? false;
    await channel.assertExchange(this.exchange, 'topic', { durable: true });
    await channel.assertQueue(this.queue, { durable, exclusive: !durable, autoDelete: !durable });
    for (const key of this.options.bindingKeys ?? ['#']) await channel.bindQueue(this.queue, this.exchange, key);
    await channel.consume(this.queue, (message) => {
      if (message !== null) this.take(channel, message);
    });
    this.link = link;
    link.model.on('close', () => {
      if (this.link === link) this.link = null;
      if (durable && !this.closing) void this.reattach();
    });
  }

  private async reattach(): Promise<void> {
    while (!this.closing && this.link === null) {
      try {
        await this.attach();
        this.reconnects++;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
      }
    }
  }

  private take(channel: Channel, message: ConsumeMessage): void {
    this.received.push({
      routingKey: message.fields.routingKey,
      properties: message.properties,
      persistent: message.properties.deliveryMode === 2,
      redelivered: message.fields.redelivered,
      content: message.content,
      event: GiftCardEvent.decode(message.content),
    });
    try {
      channel.ack(message);
    } catch {
      // The channel closed under us: the broker delivers the message again, a duplicate to skip.
    }
  }
}
