import { Column, Entity, Generated, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../bigint.transformer';

/**
 * An event waiting for the broker, or sent and kept for a while. Rows are inserted and claimed by
 * hand-written SQL (event-outbox.repository.ts); this entity serves the relay's housekeeping.
 */
@Entity({ name: 'event_outbox' })
export class EventOutboxEntity {
  /** Orders each card's events: written under the card's row lock, so in the order they happened. */
  @PrimaryColumn({ type: 'bigint', transformer: bigintTransformer })
  @Generated('increment')
  id!: bigint;

  @Column({ name: 'event_id', type: 'char', length: 36 })
  eventId!: string;

  @Column({ name: 'card_id', type: 'bigint', transformer: bigintTransformer })
  cardId!: bigint;

  @Column({ name: 'event_type', type: 'varchar', length: 32 })
  eventType!: string;

  /** The giftcard.v1.GiftCardEvent, encoded when the change committed. */
  @Column({ type: 'blob' })
  payload!: Buffer;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'sent_at', type: 'datetime', precision: 3, nullable: true })
  sentAt!: Date | null;
}
