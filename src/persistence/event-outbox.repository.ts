import type { DataSource, EntityManager } from 'typeorm';
import { IsNull } from 'typeorm';
import type { CardEvent } from '../domain/card-event';
import type { OutboxRepository } from '../application/ports';
import type { OutboxLag, OutboxQueue, PendingEvent, SendResult } from '../events/outbox-queue';
import { EventOutboxEntity } from './entities/event-outbox.entity';

/** Turns an event into the bytes the broker will carry; events/ owns the format. */
export type EventEncoder = (event: CardEvent) => Uint8Array;

/**
 * Collects the transaction's events and writes them in one multi-row INSERT just before COMMIT
 * (the unit of work calls flush): one statement however many events a change produced, and no
 * read, so a write path that batches its statements can send it along with the others.
 */
export class TypeOrmOutboxRepository implements OutboxRepository {
  private readonly pending: CardEvent[] = [];

  constructor(
    private readonly manager: EntityManager,
    private readonly encode: EventEncoder,
  ) {}

  add(event: CardEvent): void {
    this.pending.push(event);
  }

  /** Returns how many events were written. */
  async flush(): Promise<number> {
    const count = this.pending.length;
    if (count === 0) return 0;
    const values: unknown[] = [];
    for (const event of this.pending) {
      values.push(
        event.eventId,
        event.cardId.toString(),
        event.type,
        Buffer.from(this.encode(event)),
        event.occurredAt,
      );
    }
    this.pending.length = 0;
    await this.manager.query(
      `INSERT INTO event_outbox (event_id, card_id, event_type, payload, created_at) VALUES ${Array<string>(count)
        .fill('(?, ?, ?, ?, ?)')
        .join(', ')}`,
      values,
    );
    return count;
  }
}

/** Events off (no EVENTS_AMQP_URL): nothing is written. */
export const DISABLED_OUTBOX = {
  add: (): void => undefined,
  flush: (): Promise<number> => Promise.resolve(0),
};

/** Unsent rows counted for the lag: past this the figure says "at least", and the count stays cheap. */
const LAG_COUNT_CAP = 100_000;

interface ClaimedRow {
  readonly id: string;
  readonly card_id: string;
  readonly event_id: string;
  readonly event_type: string;
  readonly payload: Buffer;
  readonly created_at: Date;
}

interface UnsentRow {
  readonly id: string;
  readonly card_id: string;
}

/**
 * The relays' side of the outbox. Several processes share the work: each locks a batch with
 * FOR UPDATE SKIP LOCKED, so they never wait on each other, and keeps the lock while it publishes,
 * so a batch is published by one relay at a time; a relay that dies releases its rows with its
 * connection, and they go out again (at least once).
 */
export class MysqlOutboxQueue implements OutboxQueue {
  constructor(private readonly dataSource: DataSource) {}

  async sendNext(limit: number, publish: (events: readonly PendingEvent[]) => Promise<void>): Promise<SendResult> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      // READ COMMITTED: no gap locks, so a relay never holds up the inserts of money operations,
      // and each statement reads what is committed now, including rows another relay just sent.
      await runner.startTransaction('READ COMMITTED');
      const claimed = await runner.manager.query<ClaimedRow[]>(
        `SELECT id, card_id, event_id, event_type, payload, created_at FROM event_outbox
         WHERE sent_at IS NULL ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      const ready = claimed.length === 0 ? [] : await this.inCardOrder(runner.manager, claimed);
      if (ready.length > 0) {
        await publish(ready.map(toPendingEvent));
        await runner.query(`UPDATE event_outbox SET sent_at = ? WHERE id IN (${ready.map(() => '?').join(', ')})`, [
          new Date(),
          ...ready.map((row) => row.id),
        ]);
      }
      await runner.commitTransaction();
      return { claimed: claimed.length, sent: ready.length };
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }

  /**
   * The claimed rows that may go out now. SKIP LOCKED passes over rows another relay holds, so a
   * batch can hold a card's later event while that relay still publishes its earlier one; sending
   * it would let the later event overtake. A card's rows are kept up to the first earlier unsent
   * row this batch does not hold; an unsent row read here is either ours, or held by a relay that
   * has not yet had the broker's confirm (what another relay marked sent is committed, and so was
   * confirmed, before this read).
   */
  private async inCardOrder(manager: EntityManager, claimed: readonly ClaimedRow[]): Promise<ClaimedRow[]> {
    const cardIds = [...new Set(claimed.map((row) => row.card_id))];
    const lastId = claimed[claimed.length - 1]?.id ?? '0';
    const unsent = await manager.query<UnsentRow[]>(
      `SELECT id, card_id FROM event_outbox
       WHERE card_id IN (${cardIds.map(() => '?').join(', ')}) AND sent_at IS NULL AND id <= ? ORDER BY id`,
      [...cardIds, lastId],
    );
    const ours = new Set(claimed.map((row) => row.id));
    const blocked = new Set<string>();
    for (const row of unsent) {
      if (!ours.has(row.id)) blocked.add(row.card_id);
      else if (blocked.has(row.card_id)) ours.delete(row.id);
    }
    return claimed.filter((row) => ours.has(row.id));
  }

  async lag(): Promise<OutboxLag> {
    const [counted] = await this.dataSource.query<{ n: string | number }[]>(
      'SELECT COUNT(*) AS n FROM (SELECT 1 FROM event_outbox WHERE sent_at IS NULL LIMIT ?) AS unsent',
      [LAG_COUNT_CAP],
    );
    const oldest = await this.dataSource.manager.findOne(EventOutboxEntity, {
      select: { id: true, createdAt: true },
      where: { sentAt: IsNull() },
      order: { id: 'ASC' },
    });
    const rows = Number(counted?.n ?? 0);
    return { rows, rowsCapped: rows >= LAG_COUNT_CAP, oldestCreatedAt: oldest?.createdAt ?? null };
  }
}

function toPendingEvent(row: ClaimedRow): PendingEvent {
  return {
    sequence: BigInt(row.id),
    eventId: row.event_id,
    eventType: row.event_type,
    payload: row.payload,
    createdAt: row.created_at,
  };
}
