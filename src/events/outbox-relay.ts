import { randomInt } from 'node:crypto';
import type { Logger } from '../observability/logger';
import type { AmqpPublisher } from './amqp-publisher';
import { amqpMessage } from './event-message';
import type { OutboxLag, OutboxQueue } from './outbox-queue';

export interface RelayOptions {
  /** Rows claimed, published and confirmed together. */
  readonly batchSize: number;
  /** How often an idle relay looks for rows other processes wrote; this process's own wake it at once. */
  readonly pollIntervalMs: number;
  /** The longest pause between attempts while the broker or the database is away. */
  readonly maxBackoffMs: number;
  /** How often the lag is measured. */
  readonly lagIntervalMs: number;
}

/** The first pause after a failure; it doubles per failure, up to maxBackoffMs. */
const FIRST_BACKOFF_MS = 100;
/** While failing, a warning at most this often: an outage of an hour is not thousands of lines. */
const FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * Publishes the outbox to the broker, in this process, next to the relays of the other processes
 * (SPEC §11). A loop: claim a batch, publish it with confirms, mark it sent, repeat while there is
 * more, then wait to be woken or for the poll interval. While the broker or the database is away
 * it backs off; money operations never wait for it, they only add rows.
 */
export class OutboxRelay {
  private running: Promise<void> | null = null;
  private stopping = false;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private lagTimer: NodeJS.Timeout | null = null;
  private sentCount = 0;
  private readonly lagListeners = new Set<(lag: OutboxLag) => void>();

  constructor(
    private readonly queue: OutboxQueue,
    private readonly publisher: AmqpPublisher,
    private readonly options: RelayOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.running !== null) return;
    this.running = this.loop();
    this.measureLag();
  }

  /** New rows committed in this process: look now rather than at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Events this relay published and marked sent since it started. */
  get sent(): number {
    return this.sentCount;
  }

  /** Called with every lag measurement. */
  onLag(listener: (lag: OutboxLag) => void): void {
    this.lagListeners.add(listener);
  }

  /** Ends the loop after the batch in hand (bounded by the publish timeout) and closes the connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.lagTimer !== null) clearTimeout(this.lagTimer);
    this.wakeUp?.();
    await this.running;
    await this.publisher.close();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    let failingSinceMs = 0;
    let lastWarnedAtMs = 0;
    while (!this.stopping) {
      try {
        // Connect before claiming: while the broker is away no rows are locked for nothing.
        await this.publisher.ready();
        const { claimed, sent } = await this.queue.sendNext(this.options.batchSize, (events) =>
          this.publisher.publish(events.map(amqpMessage)),
        );
        this.sentCount += sent;
        if (failures > 0) {
          this.log.info('events flow to the broker again', { afterMs: Date.now() - failingSinceMs, failures });
          failures = 0;
        }
        // A full batch means more may be waiting; a batch held back entirely waits for another relay.
        if (claimed < this.options.batchSize || sent === 0) await this.idle(this.options.pollIntervalMs, true);
      } catch (error) {
        if (failures === 0) failingSinceMs = Date.now();
        failures++;
        const now = Date.now();
        const fields = { error: error instanceof Error ? error.message : String(error), failures };
        if (now - lastWarnedAtMs >= FAILURE_LOG_INTERVAL_MS) {
          lastWarnedAtMs = now;
          this.log.warn('publishing events failed; the outbox keeps them and the relay retries', fields);
        } else {
          this.log.debug('publishing events failed again', fields);
        }
        await this.idle(this.backoffMs(failures), false);
      }
    }
  }

  /** Between half and all of the doubling ceiling: relays that failed together do not retry together. */
  private backoffMs(failures: number): number {
    const ceiling = Math.min(this.options.maxBackoffMs, FIRST_BACKOFF_MS * 2 ** Math.min(failures - 1, 20));
    return randomInt(Math.max(1, Math.floor(ceiling / 2)), ceiling + 1);
  }

  /** Waits `ms`, or less when stopping, or (if `wakeable`) when this process commits new events. */
  private async idle(ms: number, wakeable: boolean): Promise<void> {
    if (this.stopping) return;
    if (wakeable && this.woken) {
      this.woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = (): void => {
        if (wakeable || this.stopping) done();
      };
    });
    this.wakeUp = null;
    this.woken = false;
  }

  /** Measures, then schedules the next measurement: a slow database never stacks up queries. */
  private measureLag(): void {
    if (this.stopping) return;
    this.queue
      .lag()
      .then(
        (lag) => {
          for (const listener of this.lagListeners) listener(lag);
        },
        (error: unknown) => {
          this.log.debug('measuring the outbox lag failed', { error: String(error) });
        },
      )
      .finally(() => {
        if (this.stopping) return;
        this.lagTimer = setTimeout(() => {
          this.measureLag();
        }, this.options.lagIntervalMs);
        this.lagTimer.unref();
      });
  }
}
