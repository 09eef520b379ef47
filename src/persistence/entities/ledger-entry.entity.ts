import { Column, Entity, Generated, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../bigint.transformer';

/**
 * An immutable ledger row: inserted once, never updated or deleted. The schema's generated
 * `funding_ref` column (not mapped here) makes a funding entry's external reference unique.
 */
@Entity({ name: 'ledger_entry' })
export class LedgerEntryEntity {
  @PrimaryColumn({ type: 'bigint', transformer: bigintTransformer })
  @Generated('increment')
  id!: bigint;

  @Column({ name: 'public_id', type: 'char', length: 36 })
  publicId!: string;

  @Column({ name: 'card_id', type: 'bigint', transformer: bigintTransformer })
  cardId!: bigint;

  @Column({ name: 'operation_id', type: 'char', length: 36 })
  operationId!: string;

  @Column({ name: 'entry_type', type: 'varchar', length: 16 })
  entryType!: string;

  @Column({ name: 'amount_minor', type: 'bigint', transformer: bigintTransformer })
  amountMinor!: bigint;

  @Column({ name: 'balance_after_minor', type: 'bigint', transformer: bigintTransformer })
  balanceAfterMinor!: bigint;

  @Column({ type: 'char', length: 3 })
  currency!: string;

  @Column({ name: 'external_ref', type: 'varchar', length: 128, nullable: true })
  externalRef!: string | null;

  @Column({
    name: 'refund_of_entry_id',
    type: 'bigint',
    nullable: true,
    transformer: bigintTransformer,
  })
  refundOfEntryId!: bigint | null;

  /** Null on entries written before holds existed, when it equalled the balance after. */
  @Column({
    name: 'available_after_minor',
    type: 'bigint',
    nullable: true,
    transformer: bigintTransformer,
  })
  availableAfterMinor!: bigint | null;

  @Column({ name: 'hold_id', type: 'bigint', nullable: true, transformer: bigintTransformer })
  holdId!: bigint | null;

  @Column({ name: 'reverses_entry_id', type: 'bigint', nullable: true, transformer: bigintTransformer })
  reversesEntryId!: bigint | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  /** Set by the migration that made funding references unique, on the duplicates it found. */
  @Column({ name: 'legacy_duplicate_funding', type: 'boolean' })
  legacyDuplicateFunding!: boolean;
}
