import type { EntityManager } from 'typeorm';
import type { HoldRepository } from '../application/ports';
import { HoldStatus, type Hold } from '../domain/hold';
import type { HoldEvent } from '../domain/hold-event';
import { CardHoldEntity } from './entities/card-hold.entity';

function toDomain(row: CardHoldEntity): Hold {
  return {
    id: row.id,
    publicId: row.publicId,
    cardId: row.cardId,
    amountMinor: row.amountMinor,
    currency: row.currency,
    status: row.status as HoldStatus,
    orderId: row.orderId,
    capturedMinor: row.capturedMinor,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    closedAt: row.closedAt,
  };
}

export class TypeOrmHoldRepository implements HoldRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(hold: Omit<Hold, 'id'>): Promise<Hold> {
    const result = await this.manager.insert(CardHoldEntity, hold);
    const id: unknown = result.identifiers[0]?.id;
    if (typeof id !== 'bigint' && typeof id !== 'string' && typeof id !== 'number') {
      throw new Error('card_hold insert reported no id');
    }
    return { ...hold, id: BigInt(id) };
  }

  async findByPublicId(publicId: string): Promise<Hold | null> {
    const row = await this.manager.findOneBy(CardHoldEntity, { publicId });
    return row === null ? null : toDomain(row);
  }

  async listOpen(cardId: bigint): Promise<Hold[]> {
    const rows = await this.manager.findBy(CardHoldEntity, { cardId, status: HoldStatus.ACTIVE });
    return rows.map(toDomain);
  }

  async close(holds: readonly Hold[]): Promise<void> {
    for (const hold of holds) {
      // Only an open hold closes: a second closing of the same hold changes no row, and is our bug.
      const result = await this.manager.update(
        CardHoldEntity,
        { id: hold.id, status: HoldStatus.ACTIVE },
        { status: hold.status, capturedMinor: hold.capturedMinor, closedAt: hold.closedAt },
      );
      if (result.affected !== 1) throw new Error(`hold ${hold.publicId} was not open when it was closed`);
    }
  }

  async recordEvents(events: readonly HoldEvent[]): Promise<void> {
    if (events.length === 0) return;
    // Each row reads the card's latest ledger entry as it inserts: the caller holds the card's lock,
    // which every ledger entry of the card is written under, so no entry can slip in before it.
    const row = '(?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(e.id), 0) FROM ledger_entry e WHERE e.card_id = ?), ?)';
    await this.manager.query(
      `INSERT INTO hold_event (public_id, hold_id, card_id, event_type, amount_minor, balance_minor,
         available_after_minor, after_entry_id, occurred_at) VALUES ${events.map(() => row).join(', ')}`,
      events.flatMap((event) => [
        event.publicId,
        event.holdId.toString(),
        event.cardId.toString(),
        event.type,
        event.amountMinor.toString(),
        event.balanceMinor.toString(),
        event.availableAfterMinor.toString(),
        event.cardId.toString(),
        event.occurredAt,
      ]),
    );
  }

  countForCard(cardId: bigint): Promise<number> {
    return this.manager.countBy(CardHoldEntity, { cardId });
  }

  async findCardsWithLapsedHolds(now: Date, limit: number): Promise<bigint[]> {
    // The (status, expires_at) index walks only the open holds already past their expire time.
    const rows: { card_id: string }[] = await this.manager.query(
      `SELECT card_id FROM card_hold WHERE status = 'ACTIVE' AND expires_at <= ? ORDER BY expires_at LIMIT ?`,
      [now, limit],
    );
    return [...new Set(rows.map((row) => BigInt(row.card_id)))];
  }
}
