import type { EntityManager } from 'typeorm';
import type { CardBlock } from '../domain/card-lifecycle';
import { CardStatus } from '../domain/gift-card';
import {
  CardNumberTaken,
  type AdjustmentRecord,
  type CardCredentials,
  type CardLifecycleRepository,
  type StatusChange,
} from '../application/ports';
import { isDuplicateKey } from './mysql-errors';

interface StatusChangeRow {
  readonly status: string;
  readonly reason: string;
  readonly created_at: Date;
}

export class TypeOrmCardLifecycleRepository implements CardLifecycleRepository {
  constructor(private readonly manager: EntityManager) {}

  async recordStatusChange(change: StatusChange): Promise<void> {
    await this.manager.query(
      `INSERT INTO card_status_change (card_id, status, reason, caller, operation_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      [change.cardId.toString(), change.status, change.reason, change.caller, change.operationId, change.at],
    );
  }

  async findBlock(cardId: bigint): Promise<CardBlock | null> {
    const rows: StatusChangeRow[] = await this.manager.query(
      'SELECT status, reason, created_at FROM card_status_change WHERE card_id = ? ORDER BY id DESC LIMIT 1',
      [cardId.toString()],
    );
    const latest = rows[0];
    if (latest?.status !== CardStatus.BLOCKED) return null;
    return { reason: latest.reason, since: latest.created_at };
  }

  async recordAdjustment(record: AdjustmentRecord): Promise<void> {
    await this.manager.query(
      'INSERT INTO balance_adjustment (ledger_entry_id, reason_code, note, caller) VALUES (?, ?, ?, ?)',
      [record.ledgerEntryId.toString(), record.reason, record.note, record.caller],
    );
  }

  async replaceCredentials(cardId: bigint, credentials: CardCredentials, now: Date): Promise<void> {
    try {
      await this.manager.query(
        'UPDATE gift_card SET number_hash = ?, number_last4 = ?, passcode_hash = ?, updated_at = ? WHERE id = ?',
        [
          Buffer.from(credentials.numberHash),
          credentials.numberLast4,
          Buffer.from(credentials.passcodeHash),
          now,
          cardId.toString(),
        ],
      );
    } catch (error) {
      if (isDuplicateKey(error, 'uq_gift_card_number_hash')) throw new CardNumberTaken();
      throw error;
    }
  }
}
