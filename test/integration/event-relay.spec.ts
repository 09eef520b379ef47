import type { Connection, RowDataPacket } from 'mysql2/promise';
import { OUTBOX_HEALTH_SERVICE } from '../../src/events/events';
import { HealthProbe } from '../faults/support/health-probe';
import { TcpProxy } from '../faults/support/tcp-proxy';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { entriesOf } from '../support/direct-rows';
import { EventTap, TEST_AMQP_URL, testExchangeName, type TappedEvent } from '../support/event-tap';
import { settleDefinitely } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Two service instances, each with its own relay, sharing one outbox and one broker, which they
 * reach through a proxy that can cut the link. A consumer reads the exchange straight from the
 * broker, deduplicates by event id, and checks each card's stream against the ledger.
 */
let proxy: TcpProxy;
let svc: TestService;
let second: TestService;
let db: Connection;
let tap: EventTap;
const exchange = testExchangeName();

/** Liveness bound for the outbox to drain after the link returns, on a loaded machine. */
const DRAIN_TIMEOUT_MS = 30_000;

const relayEnv = (): Record<string, string> => {
  const broker = new URL(TEST_AMQP_URL);
  broker.host = `127.0.0.1:${proxy.port}`;
  return {
    EVENTS_AMQP_URL: broker.toString(),
    EVENTS_EXCHANGE: exchange,
    // Small batches and short timeouts: the two relays interleave often, and recover fast.
    EVENTS_BATCH_SIZE: '3',
    EVENTS_POLL_INTERVAL_MS: '50',
    EVENTS_PUBLISH_TIMEOUT_MS: '1000',
    EVENTS_MAX_BACKOFF_MS: '300',
    EVENTS_LAG_INTERVAL_MS: '100',
    EVENTS_LAG_ALERT_MS: '1000',
  };
};

beforeAll(async () => {
  const broker = new URL(TEST_AMQP_URL);
  proxy = await TcpProxy.start(broker.hostname, Number(broker.port || 5672));
});

useTestService((started) => {
  ({ svc, db } = started);
}, relayEnv);

beforeAll(async () => {
  second = await startTestService(relayEnv());
  tap = await EventTap.open(exchange);
});

afterAll(async () => {
  await second.stop();
  await tap.close({ deleteExchange: true });
  await proxy.close();
});

/** Each event once, in the order of its first arrival: what a consumer that deduplicates applies. */
function deduplicated(events: readonly TappedEvent[]): TappedEvent[] {
  const seen = new Set<string>();
  return events.filter((tapped) => !seen.has(tapped.event.eventId) && seen.add(tapped.event.eventId));
}

/** Waits until every outbox row of the cards is sent and the tap has seen each of their events. */
async function drained(cards: readonly { giftCardId: string }[]): Promise<void> {
  const ids = cards.map((card) => card.giftCardId);
  const giveUpAt = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const [rows] = await db.query<RowDataPacket[]>(
      `SELECT o.event_id, o.sent_at IS NULL AS unsent FROM event_outbox o JOIN gift_card c ON c.id = o.card_id
       WHERE c.public_id IN (?)`,
      [ids],
    );
    const seen = new Set(tap.received.map((tapped) => tapped.event.eventId));
    if (rows.every((row) => Number(row.unsent) === 0 && seen.has(String(row.event_id)))) return;
    if (Date.now() > giveUpAt) throw new Error('the outbox did not drain to the consumer in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every card's deduplicated stream is its ledger, entry for entry, in order, with rising sequences. */
async function expectLedgerOrder(cards: readonly { giftCardId: string }[]): Promise<void> {
  for (const card of cards) {
    const stream = deduplicated(tap.forCard(card.giftCardId));
    const entries = await entriesOf(db, card.giftCardId);
    expect(stream.map((tapped) => tapped.event.ledgerEntryId)).toEqual(entries.map((entry) => entry.publicId));
    const sequences = stream.map((tapped) => tapped.event.sequence);
    expect(sequences.every((sequence, i) => i === 0 || sequence > (sequences[i - 1] ?? 0n))).toBe(true);
  }
}

/** Redemptions and reloads on a few shared cards, through both instances at once. */
async function busyCards(cards: readonly Awaited<ReturnType<typeof issueCard>>[], calls: number): Promise<void> {
  const apis = [svc.api, second.api];
  const outcomes = await Promise.all(
    Array.from({ length: calls }, (_, i) => {
      const api = apis[i % apis.length]!;
      const card = cards[i % cards.length]!;
      const request = { idempotencyKey: newKey(), ...credentialsOf(card), amount: 1n + BigInt(i % 7), currency: 'USD' };
      const reload = { ...request, sourceTransactionId: newKey() };
      // Admission control may turn part of the burst away: resent with the same key, as callers do.
      return settleDefinitely(() => (i % 4 === 0 ? api.reload(reload) : api.redeem(request)));
    }),
  );
  expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
}

describe('Relays of two instances sharing the outbox', () => {
  it('publish every event of concurrent calls, each card’s stream in the order of its ledger', async () => {
    const cards = await Promise.all(Array.from({ length: 4 }, () => issueCard(svc.api, { amount: 50_000n })));
    const sentBefore = [svc, second].map((instance) => instance.service.events?.relay.sent ?? 0);
    await busyCards(cards, 80);
    await drained(cards);
    await expectLedgerOrder(cards);
    const sentAfter = [svc, second].map((instance) => instance.service.events?.relay.sent ?? 0);
    // Both relays took part: the order above held across them.
    expect(sentAfter[0]).toBeGreaterThan(sentBefore[0] ?? 0);
    expect(sentAfter[1]).toBeGreaterThan(sentBefore[1] ?? 0);
  });
});

describe('Events while the broker is away', () => {
  it('money operations go on, the lag shows in health, and every event goes out when it returns', async () => {
    const cards = await Promise.all(Array.from({ length: 3 }, () => issueCard(svc.api, { amount: 50_000n })));
    await drained(cards);
    const outboxHealth = new HealthProbe(svc.address, OUTBOX_HEALTH_SERVICE);
    const serviceHealth = new HealthProbe(svc.address);
    try {
      await outboxHealth.waitFor('SERVING', DRAIN_TIMEOUT_MS);
      proxy.cut('refuse');
      await busyCards(cards, 24);
      await outboxHealth.waitFor('NOT_SERVING', DRAIN_TIMEOUT_MS);
      expect(await serviceHealth.check()).toBe('SERVING');
      const [[waiting]] = await db.query<RowDataPacket[]>(
        'SELECT COUNT(*) AS n FROM event_outbox WHERE sent_at IS NULL',
      );
      expect(Number(waiting?.n)).toBeGreaterThanOrEqual(24);

      proxy.restore();
      await drained(cards);
      await outboxHealth.waitFor('SERVING', DRAIN_TIMEOUT_MS);
      await expectLedgerOrder(cards);
    } finally {
      proxy.restore();
      outboxHealth.close();
      serviceHealth.close();
    }
  });

  it('a link that swallows everything (no confirms) delays events but loses and reorders none', async () => {
    const cards = await Promise.all(Array.from({ length: 3 }, () => issueCard(svc.api, { amount: 50_000n })));
    await drained(cards);
    proxy.cut('blackhole');
    try {
      await busyCards(cards, 24);
      // Past the publish timeout: the relays gave up on the batches in the hole and wait to retry.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    } finally {
      proxy.restore();
    }
    await drained(cards);
    await expectLedgerOrder(cards);
  });
});
