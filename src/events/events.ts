import type { EventSettings } from '../config';
import type { CardEvent } from '../domain/card-event';
import type { Logger } from '../observability/logger';
import { AmqpPublisher } from './amqp-publisher';
import { encodeCardEvent } from './event-message';
import type { OutboxLag, OutboxQueue } from './outbox-queue';
import { OutboxRelay } from './outbox-relay';

/**
 * The gRPC health entry that reports the outbox (not the service): NOT_SERVING while the oldest
 * unsent event is older than EVENTS_LAG_ALERT_MS. Money operations go on meanwhile, so load
 * balancers should keep checking the service's own entry and leave this one to alerting.
 */
export const OUTBOX_HEALTH_SERVICE = 'giftcard.events.outbox';

type HealthStatus = 'SERVING' | 'NOT_SERVING';

/** What the composition root wires: the unit of work's side, the relay, and one stop. */
export interface RunningEvents {
  /** For the unit of work: how events are stored, and whom to tell that some committed. */
  readonly outbox: { readonly encode: (event: CardEvent) => Uint8Array; readonly committed: () => void };
  readonly relay: OutboxRelay;
  /** Reports the outbox's lag as the health entry OUTBOX_HEALTH_SERVICE. */
  reportHealth(health: { setDetail(service: string, status: HealthStatus): void }): void;
  stop(): Promise<void>;
}

/** True while the oldest unsent event has waited longer than the alert threshold. */
export function isLagging(lag: OutboxLag, alertMs: number, now: Date): boolean {
  return lag.oldestCreatedAt !== null && now.getTime() - lag.oldestCreatedAt.getTime() > alertMs;
}

/** Starts this process's relay (EVENTS_AMQP_URL is set). It connects to the broker only to publish. */
export function startEvents(settings: EventSettings, queue: OutboxQueue, log: Logger): RunningEvents {
  const publisher = new AmqpPublisher(
    {
      url: settings.amqpUrl,
      exchange: settings.exchange,
      connectTimeoutMs: settings.publishTimeoutMs,
      confirmTimeoutMs: settings.publishTimeoutMs,
    },
    log,
  );
  const relay = new OutboxRelay(queue, publisher, settings, log);
  let lagging = false;
  relay.onLag((lag) => {
    const now = isLagging(lag, settings.lagAlertMs, new Date());
    if (now === lagging) return;
    lagging = now;
    const fields = { unsentRows: lag.rows, oldestUnsent: lag.oldestCreatedAt?.toISOString() ?? null };
    if (now) log.warn('events are late: the outbox holds events older than EVENTS_LAG_ALERT_MS', fields);
    else log.info('the outbox has caught up', fields);
  });
  relay.start();
  return {
    outbox: {
      encode: encodeCardEvent,
      committed: () => {
        relay.wake();
      },
    },
    relay,
    reportHealth: (health) => {
      health.setDetail(OUTBOX_HEALTH_SERVICE, 'SERVING');
      relay.onLag((lag) => {
        health.setDetail(
          OUTBOX_HEALTH_SERVICE,
          isLagging(lag, settings.lagAlertMs, new Date()) ? 'NOT_SERVING' : 'SERVING',
        );
      });
    },
    stop: () => relay.stop(),
  };
}
