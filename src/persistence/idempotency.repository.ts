import type { EntityManager } from 'typeorm';
import {
  IdempotencyKeyTaken,
  RecordFormat,
  type IdempotencyClaim,
  type IdempotencyRecord,
  type IdempotencyRepository,
  type ReversedKey,
  type ScopedKey,
  type SealedReply,
} from '../application/ports';
import { MySqlErrno, mysqlErrno } from './mysql-errors';

export interface IdempotencyRow {
  readonly record_format: number;
  readonly fingerprint: Buffer;
  readonly sealed_response: Buffer | null;
  readonly sealed_secrets: Buffer | null;
  readonly secrets_expire_at: Date | null;
  readonly rpc: string | null;
  readonly sealed_reversal: Buffer | null;
}

export const RECORD_COLUMNS =
  'record_format, fingerprint, sealed_response, sealed_secrets, secrets_expire_at, rpc, sealed_reversal';

function formatOf(stored: number): RecordFormat {
  if (stored === RecordFormat.LEGACY || stored === RecordFormat.CURRENT) return stored;
  throw new Error(`idempotency record of unknown format ${stored}`);
}

export function toRecord(row: IdempotencyRow | undefined): IdempotencyRecord | null {
  if (row === undefined) return null;
  return {
    format: formatOf(row.record_format),
    fingerprint: row.fingerprint,
    reply:
      row.sealed_response === null
        ? null
        : {
            sealedReply: row.sealed_response,
            sealedSecrets: row.sealed_secrets,
            secretsExpireAt: row.secrets_expire_at,
          },
    rpc: row.rpc,
    sealedReversal: row.sealed_reversal,
  };
}

/** A duplicate key means the key is another call's; anything else is the database's to report. */
async function insertClaim(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (mysqlErrno(error) === MySqlErrno.DUPLICATE_KEY) throw new IdempotencyKeyTaken();
    throw error;
  }
}

export class TypeOrmIdempotencyRepository implements IdempotencyRepository {
  constructor(private readonly manager: EntityManager) {}

  /** Written out, not built by TypeORM: every money-moving call runs it (see gift-card.repository.ts). */
  async find({ scope, key }: ScopedKey): Promise<IdempotencyRecord | null> {
    const rows: IdempotencyRow[] = await this.manager.query(
      `SELECT ${RECORD_COLUMNS} FROM idempotency_record WHERE caller = ? AND idempotency_key = ?`,
      [scope, key],
    );
    return toRecord(rows[0]);
  }

  /**
   * A plain INSERT, always in the current record format: a duplicate key means another request
   * holds the key. InnoDB makes this insert wait while that request's transaction is open, so it
   * fails only once the holder committed. A missing row is never probed with FOR UPDATE, which
   * would take gap locks and deadlock.
   */
  claim(claim: IdempotencyClaim): Promise<void> {
    return insertClaim(() =>
      this.manager.query(
        `INSERT INTO idempotency_record (caller, idempotency_key, record_format, rpc, fingerprint, operation_id,
           sealed_response, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
        [
          claim.key.scope,
          claim.key.key,
          RecordFormat.CURRENT,
          claim.rpc,
          Buffer.from(claim.fingerprint),
          claim.operationId,
          claim.now,
          claim.expiresAt,
        ],
      ),
    );
  }

  async complete({ scope, key }: ScopedKey, reply: SealedReply): Promise<void> {
    await this.manager.query(
      `UPDATE idempotency_record SET sealed_response = ?, sealed_secrets = ?, secrets_expire_at = ?
         WHERE caller = ? AND idempotency_key = ?`,
      [
        Buffer.from(reply.sealedReply),
        reply.sealedSecrets === null ? null : Buffer.from(reply.sealedSecrets),
        reply.secretsExpireAt,
        scope,
        key,
      ],
    );
  }

  /** Only ever called for a key found stored: FOR UPDATE on an existing row takes no gap lock. */
  async lockStored({ scope, key }: ScopedKey): Promise<IdempotencyRecord | null> {
    const rows: IdempotencyRow[] = await this.manager.query(
      `SELECT ${RECORD_COLUMNS} FROM idempotency_record WHERE caller = ? AND idempotency_key = ? FOR UPDATE`,
      [scope, key],
    );
    return toRecord(rows[0]);
  }

  async markReversed({ scope, key }: ScopedKey, sealedReversal: Uint8Array, now: Date, expiresAt: Date): Promise<void> {
    await this.manager.query(
      `UPDATE idempotency_record SET sealed_reversal = ?, reversed_at = ?, expires_at = GREATEST(expires_at, ?)
       WHERE caller = ? AND idempotency_key = ?`,
      [Buffer.from(sealedReversal), now, expiresAt, scope, key],
    );
  }

  reserveReversed(reservation: ReversedKey): Promise<void> {
    return insertClaim(() =>
      this.manager.query(
        `INSERT INTO idempotency_record (caller, idempotency_key, record_format, rpc, fingerprint, sealed_response,
           sealed_reversal, reversed_at, created_at, expires_at) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)`,
        [
          reservation.key.scope,
          reservation.key.key,
          RecordFormat.CURRENT,
          reservation.rpc,
          Buffer.from(reservation.fingerprint),
          Buffer.from(reservation.sealedReversal),
          reservation.now,
          reservation.now,
          reservation.expiresAt,
        ],
      ),
    );
  }
}
