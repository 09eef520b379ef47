import type { EntityManager } from 'typeorm';
import {
  IdempotencyKeyTaken,
  type IdempotencyClaim,
  type IdempotencyRecord,
  type IdempotencyRepository,
} from '../application/ports';
import { MySqlErrno, mysqlErrno } from './mysql-errors';

export class TypeOrmIdempotencyRepository implements IdempotencyRepository {
  constructor(private readonly manager: EntityManager) {}

  /** Written out, not built by TypeORM: every money-moving call runs it (see gift-card.repository.ts). */
  async find(key: string): Promise<IdempotencyRecord | null> {
    const rows: { fingerprint: Buffer; sealed_response: Buffer | null }[] = await this.manager.query(
      'SELECT fingerprint, sealed_response FROM idempotency_record WHERE idempotency_key = ?',
      [key],
    );
    const row = rows[0];
    return row === undefined ? null : { fingerprint: row.fingerprint, sealedResponse: row.sealed_response };
  }

  /**
   * A plain INSERT: a duplicate key means another request holds the key. InnoDB makes this insert
   * wait while that request's transaction is open, so it fails only once the holder committed.
   * A missing row is never probed with FOR UPDATE, which would take gap locks and deadlock.
   */
  async claim(claim: IdempotencyClaim): Promise<void> {
    try {
      await this.manager.query(
        `INSERT INTO idempotency_record
           (idempotency_key, fingerprint, operation_id, sealed_response, created_at, expires_at)
           VALUES (?, ?, ?, NULL, ?, ?)`,
        [claim.key, Buffer.from(claim.fingerprint), claim.operationId, claim.now, claim.expiresAt],
      );
    } catch (error) {
      if (mysqlErrno(error) === MySqlErrno.DUPLICATE_KEY) throw new IdempotencyKeyTaken();
      throw error;
    }
  }

  async complete(key: string, sealedResponse: Uint8Array): Promise<void> {
    await this.manager.query('UPDATE idempotency_record SET sealed_response = ? WHERE idempotency_key = ?', [
      Buffer.from(sealedResponse),
      key,
    ]);
  }
}
