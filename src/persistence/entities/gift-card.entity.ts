import { Column, Entity, Generated, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../bigint.transformer';

/**
 * The card row. The number and passcode are stored only as keyed hashes (see security/). Wrong
 * passcodes are counted per number in passcode_failure; the table's old failed_passcode_attempts
 * and passcode_locked_until columns are no longer read or written (see that migration).
 */
@Entity({ name: 'gift_card' })
export class GiftCardEntity {
  @PrimaryColumn({ type: 'bigint', transformer: bigintTransformer })
  @Generated('increment')
  id!: bigint;

  @Column({ name: 'public_id', type: 'char', length: 36 })
  publicId!: string;

  @Column({ name: 'number_hash', type: 'binary', length: 32 })
  numberHash!: Buffer;

  @Column({ name: 'number_last4', type: 'char', length: 4 })
  numberLast4!: string;

  @Column({ name: 'passcode_hash', type: 'binary', length: 32 })
  passcodeHash!: Buffer;

  @Column({ type: 'char', length: 3 })
  currency!: string;

  @Column({ name: 'balance_minor', type: 'bigint', transformer: bigintTransformer })
  balanceMinor!: bigint;

  @Column({ type: 'varchar', length: 16 })
  status!: string;

  @Column({ name: 'expires_at', type: 'datetime', precision: 3, nullable: true })
  expiresAt!: Date | null;

  @Column({
    name: 'successor_card_id',
    type: 'bigint',
    nullable: true,
    transformer: bigintTransformer,
  })
  successorCardId!: bigint | null;

  @Column({ name: 'held_minor', type: 'bigint', transformer: bigintTransformer })
  heldMinor!: bigint;

  @Column({ name: 'open_holds', type: 'int' })
  openHolds!: number;

  @Column({ name: 'next_hold_expires_at', type: 'datetime', precision: 3, nullable: true })
  nextHoldExpiresAt!: Date | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;
}
