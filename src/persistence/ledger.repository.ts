import type { EntityManager } from 'typeorm';
import { EntryType, type LedgerEntry, type StoredLedgerEntry } from '../domain/ledger-entry';
import type { Minor } from '../domain/money';
import { FundingReferenceUsed, type LedgerRepository } from '../application/ports';
import { LedgerEntryEntity } from './entities/ledger-entry.entity';
import { insertIdOf } from './inserted-id';
import { isDuplicateKey } from './mysql-errors';

/** The unique key on a funding entry's external reference (migration 1764100000000). */
export const FUNDING_REFERENCE_KEY = 'uq_ledger_entry_funding_ref';

function toDomain(row: LedgerEntryEntity): StoredLedgerEntry {
  return {
    id: row.id,
    publicId: row.publicId,
    cardId: row.cardId,
    operationId: row.operationId,
    type: row.entryType as EntryType,
    amountMinor: row.amountMinor,
    balanceAfterMinor: row.balanceAfterMinor,
    availableAfterMinor: row.availableAfterMinor ?? row.balanceAfterMinor,
    currency: row.currency,
    externalRef: row.externalRef,
    refundOfEntryId: row.refundOfEntryId,
    holdId: row.holdId,
    reversesEntryId: row.reversesEntryId,
    createdAt: row.createdAt,
  };
}

/** The insert without its rows, for several entries in one statement; LEDGER_ROW is one entry's. */
export const LEDGER_INSERT_INTO = `INSERT INTO ledger_entry (public_id, card_id, operation_id, entry_type, amount_minor, balance_after_minor,
           available_after_minor, currency, external_ref, refund_of_entry_id, hold_id, reverses_entry_id, created_at)
           VALUES `;
export const LEDGER_ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
export const LEDGER_APPEND = LEDGER_INSERT_INTO + LEDGER_ROW;

export function ledgerAppendValues(entry: LedgerEntry): unknown[] {
  return [
    entry.publicId,
    entry.cardId.toString(),
    entry.operationId,
    entry.type,
    entry.amountMinor.toString(),
    entry.balanceAfterMinor.toString(),
    entry.availableAfterMinor.toString(),
    entry.currency,
    entry.externalRef,
    entry.refundOfEntryId?.toString() ?? null,
    entry.holdId?.toString() ?? null,
    entry.reversesEntryId?.toString() ?? null,
    entry.createdAt,
  ];
}

/** The columns of a stored entry, as the single-card path reads a redemption under its lock. */
export const ENTRY_COLUMNS =
  'id, public_id, card_id, operation_id, entry_type, amount_minor, balance_after_minor, available_after_minor, ' +
  'currency, external_ref, refund_of_entry_id, hold_id, reverses_entry_id, created_at';

export interface LedgerEntryRow {
  readonly id: string;
  readonly public_id: string;
  readonly card_id: string;
  readonly operation_id: string;
  readonly entry_type: string;
  readonly amount_minor: string;
  readonly balance_after_minor: string;
  readonly available_after_minor: string | null;
  readonly currency: string;
  readonly external_ref: string | null;
  readonly refund_of_entry_id: string | null;
  readonly hold_id: string | null;
  readonly reverses_entry_id: string | null;
  readonly created_at: Date;
}

const bigintOrNull = (value: string | null): bigint | null => (value === null ? null : BigInt(value));

export function entryFromRow(row: LedgerEntryRow): StoredLedgerEntry {
  return {
    id: BigInt(row.id),
    publicId: row.public_id,
    cardId: BigInt(row.card_id),
    operationId: row.operation_id,
    type: row.entry_type as EntryType,
    amountMinor: BigInt(row.amount_minor),
    balanceAfterMinor: BigInt(row.balance_after_minor),
    availableAfterMinor: BigInt(row.available_after_minor ?? row.balance_after_minor),
    currency: row.currency,
    externalRef: row.external_ref,
    refundOfEntryId: bigintOrNull(row.refund_of_entry_id),
    holdId: bigintOrNull(row.hold_id),
    reversesEntryId: bigintOrNull(row.reverses_entry_id),
    createdAt: row.created_at,
  };
}

export class TypeOrmLedgerRepository implements LedgerRepository {
  constructor(private readonly manager: EntityManager) {}

  /** Written out, not built by TypeORM: every balance change runs it (see gift-card.repository.ts). */
  async append(entry: LedgerEntry): Promise<StoredLedgerEntry> {
    let inserted: unknown;
    try {
      inserted = await this.manager.query(LEDGER_APPEND, ledgerAppendValues(entry));
    } catch (error) {
      if (isDuplicateKey(error, FUNDING_REFERENCE_KEY)) throw new FundingReferenceUsed();
      throw error;
    }
    return { ...entry, id: insertIdOf(inserted) };
  }

  async lockByPublicId(publicId: string): Promise<StoredLedgerEntry | null> {
    const row = await this.manager
      .createQueryBuilder(LedgerEntryEntity, 'entry')
      .setLock('pessimistic_write')
      .where('entry.publicId = :publicId', { publicId })
      .getOne();
    return row === null ? null : toDomain(row);
  }

  async sumGivenBack(redemptionEntryId: bigint): Promise<Minor> {
    const result = await this.manager
      .createQueryBuilder(LedgerEntryEntity, 'entry')
      .select('COALESCE(SUM(entry.amountMinor), 0)', 'total')
      .where('(entry.refundOfEntryId = :id AND entry.entryType = :refund) OR entry.reversesEntryId = :id', {
        id: redemptionEntryId.toString(),
        refund: EntryType.REFUND,
      })
      .getRawOne<{ total: string | number }>();
    return BigInt(result?.total ?? 0);
  }

  countForCard(cardId: bigint): Promise<number> {
    return this.manager.countBy(LedgerEntryEntity, { cardId });
  }
}
