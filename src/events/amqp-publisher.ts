import { once } from 'node:events';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Logger } from '../observability/logger';
import type { AmqpMessage } from './event-message';

export interface PublisherOptions {
  readonly url: string;
  readonly exchange: string;
  /** Connecting, opening the channel and declaring the exchange, together. */
  readonly connectTimeoutMs: number;
  /** From the first publish of a batch to the broker's confirm of the last. */
  readonly confirmTimeoutMs: number;
}

interface Link {
  readonly model: ChannelModel;
  readonly channel: ConfirmChannel;
}

/**
 * One AMQP connection with one confirm channel to the events exchange (a durable topic exchange,
 * declared on connect). Any failure drops the connection, and the next batch opens a fresh one: a
 * channel that saw an error is never reused. The broker's confirms come on the channel the
 * messages went out on, so a batch's messages keep their order from publish to queue.
 */
export class AmqpPublisher {
  private link: Link | null = null;

  constructor(
    private readonly options: PublisherOptions,
    private readonly log: Logger,
  ) {}

  /** Connects unless connected; rejects when the broker cannot be reached in time. */
  async ready(): Promise<void> {
    if (this.link === null) this.link = await this.open();
  }

  /**
   * Publishes the messages in order, persistent, and resolves once the broker has confirmed all
   * of them. Rejects on a nack, a closed channel or the confirm timeout, and drops the connection:
   * then none of the batch may count as sent.
   */
  async publish(messages: readonly AmqpMessage[]): Promise<void> {
    await this.ready();
    const link = this.link;
    if (link === null) throw new Error('no AMQP connection after connecting');
    try {
      await withinMs(this.send(link.channel, messages), this.options.confirmTimeoutMs, 'the broker did not confirm');
    } catch (error) {
      this.drop();
      throw error;
    }
  }

  /** Closes the connection politely, waiting at most the connect timeout for the broker's answer. */
  async close(): Promise<void> {
    const link = this.link;
    this.link = null;
    if (link === null) return;
    await withinMs(link.model.close(), this.options.connectTimeoutMs, 'close').catch(() => undefined);
  }

  private async send(channel: ConfirmChannel, messages: readonly AmqpMessage[]): Promise<void> {
    for (const message of messages) {
      const hasRoom = channel.publish(this.options.exchange, message.routingKey, message.content, message.options);
      // The socket's buffer is full: wait for it to drain rather than buffer a whole backlog.
      if (!hasRoom) await once(channel, 'drain');
    }
    await channel.waitForConfirms();
  }

  private async open(): Promise<Link> {
    const opening = this.connectAndDeclare();
    try {
      return await withinMs(opening, this.options.connectTimeoutMs, 'could not reach the broker');
    } catch (error) {
      // A connection that arrives after we gave up is closed as soon as it does.
      void opening.then(
        (late) => late.model.close(),
        () => undefined,
      );
      throw error;
    }
  }

  private async connectAndDeclare(): Promise<Link> {
    const model = await connect(this.options.url);
    try {
      // Without listeners, an 'error' event would throw and end the process.
      model.on('error', (error: Error) => {
        this.log.warn('AMQP connection error', { error: error.message });
      });
      model.on('close', () => {
        if (this.link?.model === model) this.link = null;
      });
      const channel = await model.createConfirmChannel();
      channel.on('error', (error: Error) => {
        this.log.warn('AMQP channel error', { error: error.message });
      });
      channel.on('close', () => {
        if (this.link?.channel === channel) this.drop();
      });
      await channel.assertExchange(this.options.exchange, 'topic', { durable: true });
      return { model, channel };
    } catch (error) {
      await model.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Forgets the connection and closes it without waiting: a broker that stopped answering would
   * keep a polite close waiting, and the next batch must not.
   */
  private drop(): void {
    const link = this.link;
    this.link = null;
    link?.model.close().catch(() => undefined);
  }
}

function withinMs<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} within ${ms} ms`));
    }, ms);
  });
  return Promise.race([work, timeUp]).finally(() => {
    clearTimeout(timer);
  });
}
