import type { EntityManager } from 'typeorm';
import { EntryType, type LedgerEntry, type StoredLedgerEntry } from '../domain/ledger-entry';
import type { Minor } from '../domain/money';
import type { LedgerRepository } from '../application/ports';
import { LedgerEntryEntity } from './entities/ledger-entry.entity';
import { insertedId } from './inserted-id';

function toDomain(row: LedgerEntryEntity): StoredLedgerEntry {
  return {
    id: row.id,
    publicId: row.publicId,
    cardId: row.cardId,
    operationId: row.operationId,
    type: row.entryType as EntryType,
    amountMinor: row.amountMinor,
    balanceAfterMinor: row.balanceAfterMinor,
    currency: row.currency,
    externalRef: row.externalRef,
    refundOfEntryId: row.refundOfEntryId,
    createdAt: row.createdAt,
  };
}

export class TypeOrmLedgerRepository implements LedgerRepository {
  constructor(private readonly manager: EntityManager) {}

  async append(entry: LedgerEntry): Promise<StoredLedgerEntry> {
    const { type, ...rest } = entry;
    const row = this.manager.create(LedgerEntryEntity, { ...rest, entryType: type });
    row.id = insertedId(await this.manager.insert(LedgerEntryEntity, row));
    return toDomain(row);
  }

  async lockByPublicId(publicId: string): Promise<StoredLedgerEntry | null> {
    const row = await this.manager
      .createQueryBuilder(LedgerEntryEntity, 'entry')
      .setLock('pessimistic_write')
      .where('entry.publicId = :publicId', { publicId })
      .getOne();
    return row === null ? null : toDomain(row);
  }

  async sumRefunds(redemptionEntryId: bigint): Promise<Minor> {
    const result = await this.manager
      .createQueryBuilder(LedgerEntryEntity, 'entry')
      .select('COALESCE(SUM(entry.amountMinor), 0)', 'total')
      .where('entry.refundOfEntryId = :id AND entry.entryType = :type', {
        id: redemptionEntryId.toString(),
        type: EntryType.REFUND,
      })
      .getRawOne<{ total: string | number }>();
    return BigInt(result?.total ?? 0);
  }
}
