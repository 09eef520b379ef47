import type { EntityManager } from 'typeorm';
import {
  IdempotencyKeyTaken,
  RecordFormat,
  type IdempotencyClaim,
  type IdempotencyRecord,
  type IdempotencyRepository,
  type ScopedKey,
  type SealedReply,
} from '../application/ports';
import { MySqlErrno, mysqlErrno } from './mysql-errors';

interface IdempotencyRow {
  readonly record_format: number;
  readonly fingerprint: Buffer;
  readonly sealed_response: Buffer | null;
  readonly sealed_secrets: Buffer | null;
  readonly secrets_expire_at: Date | null;
}

function formatOf(stored: number): RecordFormat {
  if (stored === RecordFormat.LEGACY || stored === RecordFormat.CURRENT) return stored;
  throw new Error(`idempotency record of unknown format ${stored}`);
}

export class TypeOrmIdempotencyRepository implements IdempotencyRepository {
  constructor(private readonly manager: EntityManager) {}

  /** Written out, not built by TypeORM: every money-moving call runs it (see gift-card.repository.ts). */
  async find({ scope, key }: ScopedKey): Promise<IdempotencyRecord | null> {
    const rows: IdempotencyRow[] = await this.manager.query(
      `SELECT record_format, fingerprint, sealed_response, sealed_secrets, secrets_expire_at FROM idempotency_record
         WHERE caller = ? AND idempotency_key = ?`,
      [scope, key],
    );
    const row = rows[0];
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
    };
  }

  /**
   * A plain INSERT, always in the current record format: a duplicate key means another request
   * holds the key. InnoDB makes this insert wait while that request's transaction is open, so it
   * fails only once the holder committed. A missing row is never probed with FOR UPDATE, which
   * would take gap locks and deadlock.
   */
  async claim({ key, fingerprint, operationId, now, expiresAt }: IdempotencyClaim): Promise<void> {
    try {
      await this.manager.query(
        `INSERT INTO idempotency_record
           (caller, idempotency_key, record_format, fingerprint, operation_id, sealed_response, created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, NULL, ?, ?)`,
        [key.scope, key.key, RecordFormat.CURRENT, Buffer.from(fingerprint), operationId, now, expiresAt],
      );
    } catch (error) {
      if (mysqlErrno(error) === MySqlErrno.DUPLICATE_KEY) throw new IdempotencyKeyTaken();
      throw error;
    }
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
}
