import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The claim on an idempotency key, written in the same database transaction as the change it
 * guards. The response is sealed (AES-256-GCM); a card-creating response's number and passcode
 * are sealed apart and erased once `secretsExpireAt` has passed.
 */
@Entity({ name: 'idempotency_record' })
export class IdempotencyRecordEntity {
  /** The calling service whose key this is; '' for the anonymous caller (no callers file). */
  @PrimaryColumn({ name: 'caller', type: 'varchar', length: 64 })
  caller!: string;

  @PrimaryColumn({ name: 'idempotency_key', type: 'varchar', length: 64 })
  key!: string;

  /** 1: fingerprint over the whole request, reply sealed whole; 2: see application/idempotency.ts. */
  @Column({ name: 'record_format', type: 'tinyint' })
  recordFormat!: number;

  @Column({ type: 'binary', length: 32 })
  fingerprint!: Buffer;

  /** The operation id the request's ledger entries carry; null on rows from before it was kept. */
  @Column({ name: 'operation_id', type: 'char', length: 36, nullable: true })
  operationId!: string | null;

  @Column({ name: 'sealed_response', type: 'mediumblob', nullable: true })
  sealedResponse!: Buffer | null;

  @Column({ name: 'sealed_secrets', type: 'mediumblob', nullable: true })
  sealedSecrets!: Buffer | null;

  @Column({ name: 'secrets_expire_at', type: 'datetime', precision: 3, nullable: true })
  secretsExpireAt!: Date | null;

  /** The RPC that claimed the key; null on records written before reversals existed. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  rpc!: string | null;

  /** Set when the key's call was reversed: the reversal's answer, sealed like the first one. */
  @Column({ name: 'sealed_reversal', type: 'mediumblob', nullable: true })
  sealedReversal!: Buffer | null;

  @Column({ name: 'reversed_at', type: 'datetime', precision: 3, nullable: true })
  reversedAt!: Date | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'datetime', precision: 3 })
  expiresAt!: Date;
}
