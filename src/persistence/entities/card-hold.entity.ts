import { Column, Entity, Generated, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../bigint.transformer';

/** A hold and its own audit; open while ACTIVE, changed only under its card's row lock. */
@Entity({ name: 'card_hold' })
export class CardHoldEntity {
  @PrimaryColumn({ type: 'bigint', transformer: bigintTransformer })
  @Generated('increment')
  id!: bigint;

  @Column({ name: 'public_id', type: 'char', length: 36 })
  publicId!: string;

  @Column({ name: 'card_id', type: 'bigint', transformer: bigintTransformer })
  cardId!: bigint;

  @Column({ name: 'amount_minor', type: 'bigint', transformer: bigintTransformer })
  amountMinor!: bigint;

  @Column({ type: 'char', length: 3 })
  currency!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: string;

  @Column({ name: 'order_id', type: 'varchar', length: 128, nullable: true })
  orderId!: string | null;

  @Column({ name: 'captured_minor', type: 'bigint', nullable: true, transformer: bigintTransformer })
  capturedMinor!: bigint | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'datetime', precision: 3 })
  expiresAt!: Date;

  @Column({ name: 'closed_at', type: 'datetime', precision: 3, nullable: true })
  closedAt!: Date | null;
}
