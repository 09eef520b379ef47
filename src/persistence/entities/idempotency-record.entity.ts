import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The claim on an idempotency key, written in the same database transaction as the change it
 * guards. The response is sealed (AES-256-GCM) because a card-creating response holds the card
 * number and passcode.
 */
@Entity({ name: 'idempotency_record' })
export class IdempotencyRecordEntity {
  @PrimaryColumn({ name: 'idempotency_key', type: 'varchar', length: 64 })
  key!: string;

  @Column({ type: 'binary', length: 32 })
  fingerprint!: Buffer;

  /** The operation id the request's ledger entries carry; null on rows from before it was kept. */
  @Column({ name: 'operation_id', type: 'char', length: 36, nullable: true })
  operationId!: string | null;

  @Column({ name: 'sealed_response', type: 'mediumblob', nullable: true })
  sealedResponse!: Buffer | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'datetime', precision: 3 })
  expiresAt!: Date;
}
