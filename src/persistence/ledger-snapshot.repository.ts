import type { DataSource, QueryRunner } from 'typeorm';
import type { LedgerSnapshot, LedgerSnapshotReader, SnapshotCard, SnapshotEntry } from '../application/ports';
import { NO_OPEN_HOLDS, type EntrySum, type OpenHoldSum } from '../domain/reconciliation';

/*
 * Every statement reads a range of the primary key of gift_card, or of an index that starts with
 * card_id (ix_ledger_entry_card, ix_card_hold_card_open), bounded by a page of card ids: a page
 * costs the same at the first card as at the millionth, and nothing is held between pages but the
 * id to continue from. SUM over BIGINT is a DECIMAL, which mysql2 returns as a string: no precision
 * is lost on the way to a bigint.
 */

interface CardRow {
  readonly id: string;
  readonly public_id: string;
  readonly currency: string;
  readonly balance_minor: string;
  readonly held_minor: string;
  readonly status: string;
  readonly expires_at: Date | null;
}

interface EntrySumRow {
  readonly card_id: string;
  readonly entry_type: string;
  readonly currency: string;
  readonly amount_minor: string;
  readonly entries: string | number;
}

interface HoldSumRow {
  readonly card_id: string;
  readonly amount_minor: string;
  readonly holds: string | number;
}

interface EntryRow {
  readonly id: string;
  readonly public_id: string;
  readonly amount_minor: string;
  readonly balance_after_minor: string;
}

class SnapshotQueries implements LedgerSnapshot {
  constructor(private readonly runner: QueryRunner) {}

  async cardsAfter(afterCardId: bigint, limit: number): Promise<SnapshotCard[]> {
    const cards = (await this.runner.query(
      `SELECT id, public_id, currency, balance_minor, held_minor, status, expires_at
       FROM gift_card WHERE id > ? ORDER BY id LIMIT ?`,
      [afterCardId.toString(), limit],
    )) as CardRow[];
    const first = cards[0];
    const last = cards[cards.length - 1];
    if (first === undefined || last === undefined) return [];
    const range = [first.id, last.id];
    const entrySums = (await this.runner.query(
      `SELECT card_id, entry_type, currency, SUM(amount_minor) AS amount_minor, COUNT(*) AS entries
       FROM ledger_entry WHERE card_id BETWEEN ? AND ?
       GROUP BY card_id, entry_type, currency`,
      range,
    )) as EntrySumRow[];
    const holdSums = (await this.runner.query(
      `SELECT card_id, SUM(amount_minor) AS amount_minor, COUNT(*) AS holds
       FROM card_hold WHERE card_id BETWEEN ? AND ? AND status = 'ACTIVE'
       GROUP BY card_id`,
      range,
    )) as HoldSumRow[];
    const entriesByCard = new Map<string, EntrySum[]>();
    for (const row of entrySums) {
      const sums = entriesByCard.get(row.card_id) ?? [];
      sums.push({
        type: row.entry_type,
        currency: row.currency,
        amountMinor: BigInt(row.amount_minor),
        count: Number(row.entries),
      });
      entriesByCard.set(row.card_id, sums);
    }
    const holdsByCard = new Map<string, OpenHoldSum>(
      holdSums.map((row) => [row.card_id, { amountMinor: BigInt(row.amount_minor), count: Number(row.holds) }]),
    );
    return cards.map((row) => ({
      id: BigInt(row.id),
      card: {
        publicId: row.public_id,
        currency: row.currency,
        balanceMinor: BigInt(row.balance_minor),
        heldMinor: BigInt(row.held_minor),
        status: row.status,
        expiresAt: row.expires_at,
      },
      entries: entriesByCard.get(row.id) ?? [],
      openHolds: holdsByCard.get(row.id) ?? NO_OPEN_HOLDS,
    }));
  }

  async entriesAfter(cardId: bigint, afterEntryId: bigint, limit: number): Promise<SnapshotEntry[]> {
    const rows = (await this.runner.query(
      `SELECT id, public_id, amount_minor, balance_after_minor
       FROM ledger_entry WHERE card_id = ? AND id > ? ORDER BY id LIMIT ?`,
      [cardId.toString(), afterEntryId.toString(), limit],
    )) as EntryRow[];
    return rows.map((row) => ({
      id: BigInt(row.id),
      publicId: row.public_id,
      amountMinor: BigInt(row.amount_minor),
      balanceAfterMinor: BigInt(row.balance_after_minor),
    }));
  }
}

/**
 * One connection of its own, in a READ ONLY transaction WITH CONSISTENT SNAPSHOT under REPEATABLE
 * READ: every statement sees the ledger as of the same instant, while the service goes on writing,
 * and no row is locked (InnoDB serves plain reads from the snapshot), so it runs beside live
 * traffic or on a replica, where a read-only server accepts it.
 */
export class TypeOrmLedgerSnapshots implements LedgerSnapshotReader {
  constructor(private readonly dataSource: DataSource) {}

  async read<T>(work: (snapshot: LedgerSnapshot) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      // For the next transaction only: the pooled connection keeps the server's default after.
      await runner.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await runner.query('START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT');
      let result: T;
      try {
        result = await work(new SnapshotQueries(runner));
      } catch (error) {
        await runner.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      await runner.query('COMMIT');
      return result;
    } finally {
      await runner.release();
    }
  }
}
