import { TcpProxy } from '../faults/support/tcp-proxy';
import { issueCard } from '../support/builders';
import { EventTap, TEST_AMQP_URL, testExchangeName } from '../support/event-tap';
import { useTestService } from '../support/integration-hooks';
import { sample, scrapeMetrics } from '../support/metrics-page';
import type { TestService } from '../support/test-service';

/**
 * The outbox gauges an operator alerts on (docs/operations.md, "Outbox lag"), with the broker
 * reached through a proxy this spec can cut.
 */
let svc: TestService;
let proxy: TcpProxy;
let tap: EventTap;
const exchange = testExchangeName();

/** Liveness bound for a lag measurement to show on the page, on a loaded machine. */
const SHOW_TIMEOUT_MS = 30_000;

beforeAll(async () => {
  const broker = new URL(TEST_AMQP_URL);
  proxy = await TcpProxy.start(broker.hostname, Number(broker.port || 5672));
});

useTestService(
  (started) => {
    ({ svc } = started);
  },
  () => {
    const broker = new URL(TEST_AMQP_URL);
    broker.host = `127.0.0.1:${proxy.port}`;
    return {
      EVENTS_AMQP_URL: broker.toString(),
      EVENTS_EXCHANGE: exchange,
      EVENTS_POLL_INTERVAL_MS: '50',
      EVENTS_PUBLISH_TIMEOUT_MS: '1000',
      EVENTS_MAX_BACKOFF_MS: '300',
      EVENTS_LAG_INTERVAL_MS: '100',
    };
  },
  { ephemeralMetricsPort: true },
);

beforeAll(async () => {
  tap = await EventTap.open(exchange);
});

afterAll(async () => {
  await tap.close({ deleteExchange: true });
  await proxy.close();
});

interface Backlog {
  readonly unsent: number;
  readonly oldestAgeSeconds: number;
}

async function backlog(): Promise<Backlog> {
  const page = await scrapeMetrics(svc.service.metricsPort);
  return {
    unsent: sample(page, 'giftcard_events_outbox_unsent'),
    oldestAgeSeconds: sample(page, 'giftcard_events_outbox_oldest_unsent_age_seconds'),
  };
}

async function backlogWhen(wanted: (seen: Backlog) => boolean, what: string): Promise<Backlog> {
  const giveUpAt = Date.now() + SHOW_TIMEOUT_MS;
  for (;;) {
    const seen = await backlog();
    if (wanted(seen)) return seen;
    if (Date.now() > giveUpAt)
      throw new Error(`${what} not shown within ${SHOW_TIMEOUT_MS} ms: ${JSON.stringify(seen)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Metrics of the event outbox (EVENTS_AMQP_URL)', () => {
  it('shows the unsent events and the age of the oldest while the broker is away, and zero once they are out', async () => {
    // Events other specs left unsent go out first: the gauges start from an empty outbox.
    await backlogWhen((seen) => seen.unsent === 0 && seen.oldestAgeSeconds === 0, 'an empty outbox');
    proxy.cut('refuse');
    try {
      const card = await issueCard(svc.api);
      const waiting = await backlogWhen((seen) => seen.unsent >= 1, 'the unsent event');
      expect(waiting.oldestAgeSeconds).toBeGreaterThan(0);
      expect(tap.forCard(card.giftCardId)).toEqual([]);
    } finally {
      proxy.restore();
    }
    await backlogWhen((seen) => seen.unsent === 0 && seen.oldestAgeSeconds === 0, 'the drained outbox');
  });
});
