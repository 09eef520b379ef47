import { Column, Entity, Generated, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../bigint.transformer';

/** The card row. The number and passcode are stored only as keyed hashes (see security/). */
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

  @Column({ name: 'failed_passcode_attempts', type: 'int' })
  failedPasscodeAttempts!: number;

  @Column({ name: 'passcode_locked_until', type: 'datetime', precision: 3, nullable: true })
  passcodeLockedUntil!: Date | null;

  @Column({
    name: 'successor_card_id',
    type: 'bigint',
    nullable: true,
    transformer: bigintTransformer,
  })
  successorCardId!: bigint | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;
}
