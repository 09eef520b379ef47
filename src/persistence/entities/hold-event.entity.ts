import { Column, Entity, Generated, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../bigint.transformer';

/** A hold placed, voided or expired, as the card's history lists it: inserted once, never changed. */
@Entity({ name: 'hold_event' })
export class HoldEventEntity {
  @PrimaryColumn({ type: 'bigint', transformer: bigintTransformer })
  @Generated('increment')
  id!: bigint;

  @Column({ name: 'public_id', type: 'char', length: 36 })
  publicId!: string;

  @Column({ name: 'hold_id', type: 'bigint', transformer: bigintTransformer })
  holdId!: bigint;

  @Column({ name: 'card_id', type: 'bigint', transformer: bigintTransformer })
  cardId!: bigint;

  @Column({ name: 'event_type', type: 'varchar', length: 16 })
  eventType!: string;

  @Column({ name: 'amount_minor', type: 'bigint', transformer: bigintTransformer })
  amountMinor!: bigint;

  @Column({ name: 'balance_minor', type: 'bigint', transformer: bigintTransformer })
  balanceMinor!: bigint;

  @Column({ name: 'available_after_minor', type: 'bigint', transformer: bigintTransformer })
  availableAfterMinor!: bigint;

  /** The card's latest ledger entry when the event happened: where it sits in the card's history. */
  @Column({ name: 'after_entry_id', type: 'bigint', transformer: bigintTransformer })
  afterEntryId!: bigint;

  @Column({ name: 'occurred_at', type: 'datetime', precision: 3 })
  occurredAt!: Date;
}
