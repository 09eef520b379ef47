import type { EntityManager } from 'typeorm';
import { IdempotencyKeyTaken, type IdempotencyRecord, type IdempotencyRepository } from '../application/ports';
import { IdempotencyRecordEntity } from './entities/idempotency-record.entity';
import { MySqlErrno, mysqlErrno } from './mysql-errors';

export class TypeOrmIdempotencyRepository implements IdempotencyRepository {
  constructor(private readonly manager: EntityManager) {}

  async find(key: string): Promise<IdempotencyRecord | null> {
    const row = await this.manager.findOneBy(IdempotencyRecordEntity, { key });
    return row === null ? null : { fingerprint: row.fingerprint, sealedResponse: row.sealedResponse };
  }

  /**
   * A plain INSERT: a duplicate key means another request holds the key. InnoDB makes this insert
   * wait while that request's transaction is open, so it fails only once the holder committed.
   * A missing row is never probed with FOR UPDATE, which would take gap locks and deadlock.
   */
  async claim(key: string, fingerprint: Uint8Array, now: Date, expiresAt: Date): Promise<void> {
    try {
      await this.manager.insert(IdempotencyRecordEntity, {
        key,
        fingerprint: Buffer.from(fingerprint),
        sealedResponse: null,
        createdAt: now,
        expiresAt,
      });
    } catch (error) {
      if (mysqlErrno(error) === MySqlErrno.DUPLICATE_KEY) throw new IdempotencyKeyTaken();
      throw error;
    }
  }

  async complete(key: string, sealedResponse: Uint8Array): Promise<void> {
    await this.manager.update(IdempotencyRecordEntity, { key }, { sealedResponse: Buffer.from(sealedResponse) });
  }
}
