import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import type { PendingEvent } from '../../src/events/outbox-queue';
import { createDataSource } from '../../src/persistence/data-source';
import { createLogger } from '../../src/observability/logger';
import { MysqlOutboxQueue } from '../../src/persistence/event-outbox.repository';
import { RetentionSweeper } from '../../src/persistence/retention-sweeper';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { useTestService } from '../support/integration-hooks';
import { testDatabaseUrl } from '../support/test-database';
import type { TestService } from '../support/test-service';

/**
 * The outbox as relays share it, on the real database: rows written straight into the table (for
 * cards no other test has: this file's service runs without events, so no relay of its own takes
 * them) and claimed by queues standing in for relays in different processes.
 */
let svc: TestService;
let db: Connection;
let dataSource: DataSource;

useTestService((started) => {
  ({ svc, db } = started);
});

beforeAll(async () => {
  dataSource = createDataSource({ url: testDatabaseUrl(), poolSize: 4, connectTimeoutMs: 5_000 });
  await dataSource.initialize();
});

afterAll(async () => {
  await dataSource.query('DELETE FROM event_outbox WHERE card_id >= ?', [FAKE_CARD_BASE.toString()]);
  await dataSource.destroy();
});

/** Card ids far above any real card's, so rows here never mix with a service's events. */
const FAKE_CARD_BASE = 9_000_000_000n;
let nextFakeCard = FAKE_CARD_BASE;

/** Writes one unsent row for the card, as a committed change would; returns its id. */
async function writeEvent(cardId: bigint, createdAt = new Date()): Promise<bigint> {
  const [result] = await db.query<RowDataPacket[] & { insertId: number }>(
    `INSERT INTO event_outbox (event_id, card_id, event_type, payload, created_at) VALUES (UUID(), ?, 'REDEEMED', ?, ?)`,
    [cardId.toString(), Buffer.from([0x0a, 0x00]), createdAt],
  );
  return BigInt(result.insertId);
}

const sequencesOf = (events: readonly PendingEvent[]): bigint[] => events.map((event) => event.sequence);

/** Leaves nothing unsent in the table, so a test's rows are the oldest a relay sees. */
async function sendEverything(queue: MysqlOutboxQueue): Promise<void> {
  while ((await queue.sendNext(500, () => Promise.resolve())).claimed > 0);
}

describe('Outbox claims by relays in several processes', () => {
  it('holds back a card’s later event while another relay is still publishing its earlier one', async () => {
    const [relayA, relayB] = [new MysqlOutboxQueue(dataSource), new MysqlOutboxQueue(dataSource)];
    await sendEverything(relayA);
    const [cardX, cardY] = [++nextFakeCard, ++nextFakeCard];
    const x1 = await writeEvent(cardX);
    const x2 = await writeEvent(cardX);
    const y1 = await writeEvent(cardY);

    let publishingX1!: () => void;
    const aIsPublishing = new Promise<void>((resolve) => (publishingX1 = resolve));
    let confirmX1!: () => void;
    const confirmed = new Promise<void>((resolve) => (confirmX1 = resolve));
    const publishedByA: PendingEvent[] = [];
    const batchA = relayA.sendNext(1, async (events) => {
      publishedByA.push(...events);
      publishingX1();
      await confirmed;
    });
    await aIsPublishing;

    const publishedByB: PendingEvent[] = [];
    try {
      const whileAPublishes = await relayB.sendNext(10, (events) => {
        publishedByB.push(...events);
        return Promise.resolve();
      });
      expect(sequencesOf(publishedByA)).toEqual([x1]);
      expect(sequencesOf(publishedByB)).toEqual([y1]);
      expect(whileAPublishes).toEqual({ claimed: 2, sent: 1 });
    } finally {
      confirmX1();
    }
    await expect(batchA).resolves.toEqual({ claimed: 1, sent: 1 });
    publishedByB.length = 0;
    await relayB.sendNext(10, (events) => {
      publishedByB.push(...events);
      return Promise.resolve();
    });
    expect(sequencesOf(publishedByB)).toEqual([x2]);
  });

  it('takes several events of one card in one batch, in order, when no other relay holds an earlier one', async () => {
    const queue = new MysqlOutboxQueue(dataSource);
    await sendEverything(queue);
    const card = ++nextFakeCard;
    const written = [await writeEvent(card), await writeEvent(card), await writeEvent(card)];
    const published: PendingEvent[] = [];
    const result = await queue.sendNext(10, (events) => {
      published.push(...events);
      return Promise.resolve();
    });
    expect(result).toEqual({ claimed: 3, sent: 3 });
    expect(sequencesOf(published)).toEqual(written);
  });

  it('marks nothing sent when publishing fails, so the same events go out again, in the same order', async () => {
    const queue = new MysqlOutboxQueue(dataSource);
    await sendEverything(queue);
    const card = ++nextFakeCard;
    const written = [await writeEvent(card), await writeEvent(card)];
    await expect(queue.sendNext(10, () => Promise.reject(new Error('broker gone')))).rejects.toThrow('broker gone');
    const published: PendingEvent[] = [];
    await queue.sendNext(10, (events) => {
      published.push(...events);
      return Promise.resolve();
    });
    expect(sequencesOf(published)).toEqual(written);
  });

  it('lets a relay that died mid-batch hand its rows to the next one', async () => {
    const [dying, survivor] = [new MysqlOutboxQueue(dataSource), new MysqlOutboxQueue(dataSource)];
    await sendEverything(survivor);
    const card = ++nextFakeCard;
    const written = [await writeEvent(card), await writeEvent(card)];
    // Its connection is killed while it waits for the broker: the database releases the rows.
    const batch = dying.sendNext(10, async () => {
      const [[row]] = await db.query<RowDataPacket[]>(
        `SELECT t.trx_mysql_thread_id AS id FROM information_schema.INNODB_TRX t
         JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
         WHERE p.DB = DATABASE() AND t.trx_rows_locked > 0`,
      );
      await db.query(`KILL CONNECTION ${Number(row?.id)}`);
    });
    await expect(batch).rejects.toThrow();
    const published: PendingEvent[] = [];
    await survivor.sendNext(10, (events) => {
      published.push(...events);
      return Promise.resolve();
    });
    expect(sequencesOf(published)).toEqual(written);
  });
});

describe('Outbox lag', () => {
  it('counts the unsent rows and dates the oldest; sent rows do not count', async () => {
    const queue = new MysqlOutboxQueue(dataSource);
    await sendEverything(queue);
    const oldest = new Date(Date.now() - 60_000);
    await writeEvent(++nextFakeCard, oldest);
    await writeEvent(++nextFakeCard);
    const lag = await queue.lag();
    expect(lag).toEqual({ rows: 2, rowsCapped: false, oldestCreatedAt: oldest });
    await sendEverything(queue);
    expect(await queue.lag()).toEqual({ rows: 0, rowsCapped: false, oldestCreatedAt: null });
  });
});

describe('Retention of sent events', () => {
  const sweeperKeeping = (retentionMs: number): RetentionSweeper =>
    new RetentionSweeper(dataSource, createLogger('error'), {
      passcodeCooldownMs: 900_000,
      sentEventRetentionMs: retentionMs,
    });

  it('deletes events the broker confirmed before the retention, never an unsent one', async () => {
    const queue = new MysqlOutboxQueue(dataSource);
    await sendEverything(queue);
    const card = ++nextFakeCard;
    const sent = await writeEvent(card);
    await sendEverything(queue);
    const unsent = await writeEvent(card, new Date(Date.now() - 3_600_000));
    const swept = await sweeperKeeping(60_000).sweep(new Date(Date.now() + 61_000));
    expect(swept.sentEvents).toBeGreaterThanOrEqual(1);
    const [rows] = await db.query<RowDataPacket[]>('SELECT id FROM event_outbox WHERE card_id = ? ORDER BY id', [
      card.toString(),
    ]);
    expect(rows.map((row) => BigInt(String(row.id)))).toEqual([unsent]);
    expect(sent).toBeLessThan(unsent);
  });

  it('clears a busy day of sent events in one sweep, more than one statement deletes', async () => {
    const card = ++nextFakeCard;
    const dayAgo = new Date(Date.now() - 86_400_000);
    const rows = Array.from({ length: 2_500 }, () => [card.toString(), Buffer.from([0x0a, 0x00]), dayAgo, dayAgo]);
    await db.query(
      `INSERT INTO event_outbox (event_id, card_id, event_type, payload, created_at, sent_at) VALUES
       ${rows.map(() => "(UUID(), ?, 'REDEEMED', ?, ?, ?)").join(', ')}`,
      rows.flat(),
    );
    expect((await sweeperKeeping(3_600_000).sweep()).sentEvents).toBeGreaterThanOrEqual(2_500);
    const [[left]] = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM event_outbox WHERE card_id = ?', [
      card.toString(),
    ]);
    expect(Number(left?.n)).toBe(0);
  });
});

describe('Events off', () => {
  it('writes nothing to the outbox without EVENTS_AMQP_URL', async () => {
    const card = await issueCard(svc.api, { amount: 500n });
    await svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 200n, currency: 'USD' });
    expect(svc.config.events).toBeNull();
    expect(svc.service.events).toBeNull();
    const [[row]] = await db.query<RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM event_outbox o JOIN gift_card c ON c.id = o.card_id WHERE c.public_id = ?',
      [card.giftCardId],
    );
    expect(Number(row?.n)).toBe(0);
  });
});
