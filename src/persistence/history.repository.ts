import type { EntityManager } from 'typeorm';
import type { HistoryRepository } from '../application/ports';
import {
  counterparts,
  holdEventActivity,
  holdEventOf,
  type ActivityPosition,
  type ActivityType,
  type CardActivity,
} from '../domain/card-activity';
import type { HoldEventType } from '../domain/hold-event';
import { EntryType } from '../domain/ledger-entry';

/*
 * Written out rather than built: a page must cost O(page size), and that is a matter of which
 * index each statement walks, backwards from where the last page stopped: (card_id, id) or
 * (card_id, activity_type, id) for ledger entries, (card_id[, event_type], after_entry_id, id) for
 * hold events. Each first picks the page's ids from that index alone (it covers the query), then
 * reads those rows. The index is forced: with statistics gone stale (a card that gained thousands
 * of entries since the last analysis), MariaDB otherwise looks the card up by card_id alone and
 * walks all of its entries from the newest down. test/integration/list-card-activities.spec.ts
 * counts the rows a page reads.
 */

interface EntryRow {
  readonly id: string;
  readonly public_id: string;
  readonly activity_type: string;
  readonly entry_type: string;
  readonly amount_minor: string;
  readonly balance_after_minor: string;
  readonly available_after_minor: string | null;
  readonly currency: string;
  readonly created_at: Date;
  readonly external_ref: string | null;
  readonly operation_id: string;
  readonly related_public_id: string | null;
  readonly hold_public_id: string | null;
}

interface EventRow {
  readonly id: string;
  readonly public_id: string;
  readonly event_type: string;
  readonly amount_minor: string;
  readonly balance_minor: string;
  readonly available_after_minor: string;
  readonly after_entry_id: string;
  readonly occurred_at: Date;
  readonly hold_public_id: string;
  readonly order_id: string | null;
  readonly currency: string;
}

interface MoveRow {
  readonly id: string;
  readonly operation_id: string;
  readonly entry_type: string;
  readonly public_id: string;
}

const MOVE_TYPES: readonly string[] = [
  EntryType.TRANSFER_OUT,
  EntryType.TRANSFER_IN,
  EntryType.COMBINE_OUT,
  EntryType.COMBINE_IN,
];

export class TypeOrmHistoryRepository implements HistoryRepository {
  constructor(private readonly manager: EntityManager) {}

  async entriesBefore(
    cardId: bigint,
    before: ActivityPosition | null,
    type: ActivityType | null,
    limit: number,
  ): Promise<CardActivity[]> {
    const conditions = ['e.card_id = ?'];
    const values: unknown[] = [cardId.toString()];
    if (type !== null) {
      conditions.push('e.activity_type = ?');
      values.push(type);
    }
    const index = type === null ? 'ix_ledger_entry_card' : 'ix_ledger_entry_card_activity';
    if (before !== null) {
      // Events after an entry come before the next entry: past one of them, that entry itself is next.
      conditions.push('e.id < ?');
      values.push((before.step === 1 ? before.entryId + 1n : before.entryId).toString());
    }
    const rows: EntryRow[] = await this.manager.query(
      `SELECT e.id, e.public_id, e.activity_type, e.entry_type, e.amount_minor, e.balance_after_minor,
              e.available_after_minor, e.currency, e.created_at, e.external_ref, e.operation_id,
              r.public_id AS related_public_id, h.public_id AS hold_public_id
       FROM (SELECT e.id FROM ledger_entry e FORCE INDEX (${index})
             WHERE ${conditions.join(' AND ')} ORDER BY e.id DESC LIMIT ?) page
         JOIN ledger_entry e ON e.id = page.id
         LEFT JOIN ledger_entry r ON r.id = COALESCE(e.refund_of_entry_id, e.reverses_entry_id)
         LEFT JOIN card_hold h ON h.id = e.hold_id
       ORDER BY e.id DESC`,
      [...values, limit],
    );
    const others = await this.counterpartsOf(rows);
    return rows.map((row) => ({
      publicId: row.public_id,
      type: row.activity_type as ActivityType,
      amountMinor: BigInt(row.amount_minor),
      balanceAfterMinor: BigInt(row.balance_after_minor),
      // Entries written before holds existed: no hold counted then.
      availableAfterMinor: BigInt(row.available_after_minor ?? row.balance_after_minor),
      currency: row.currency,
      occurredAt: row.created_at,
      reference: row.external_ref,
      counterpartGiftCardId: others.get(BigInt(row.id)) ?? null,
      relatedTransactionId: row.related_public_id,
      holdId: row.hold_public_id,
      position: { entryId: BigInt(row.id), step: 0, eventId: 0n },
    }));
  }

  async eventsBefore(
    cardId: bigint,
    before: ActivityPosition | null,
    type: ActivityType | null,
    limit: number,
  ): Promise<CardActivity[]> {
    const conditions = ['v.card_id = ?'];
    const values: unknown[] = [cardId.toString()];
    const eventType = type === null ? null : holdEventOf(type);
    if (type !== null) {
      if (eventType === null) return [];
      conditions.push('v.event_type = ?');
      values.push(eventType);
    }
    const index = eventType === null ? 'ix_hold_event_card' : 'ix_hold_event_card_type';
    if (before?.step === 0) {
      conditions.push('v.after_entry_id < ?');
      values.push(before.entryId.toString());
    } else if (before?.step === 1) {
      conditions.push('(v.after_entry_id < ? OR (v.after_entry_id = ? AND v.id < ?))');
      values.push(before.entryId.toString(), before.entryId.toString(), before.eventId.toString());
    }
    const rows: EventRow[] = await this.manager.query(
      `SELECT v.id, v.public_id, v.event_type, v.amount_minor, v.balance_minor, v.available_after_minor,
              v.after_entry_id, v.occurred_at, h.public_id AS hold_public_id, h.order_id, h.currency
       FROM (SELECT v.id FROM hold_event v FORCE INDEX (${index}) WHERE ${conditions.join(' AND ')}
             ORDER BY v.after_entry_id DESC, v.id DESC LIMIT ?) page
         JOIN hold_event v ON v.id = page.id
         JOIN card_hold h ON h.id = v.hold_id
       ORDER BY v.after_entry_id DESC, v.id DESC`,
      [...values, limit],
    );
    return rows.map((row) => ({
      publicId: row.public_id,
      type: holdEventActivity(row.event_type as HoldEventType),
      amountMinor: BigInt(row.amount_minor),
      balanceAfterMinor: BigInt(row.balance_minor),
      availableAfterMinor: BigInt(row.available_after_minor),
      currency: row.currency,
      occurredAt: row.occurred_at,
      reference: row.order_id,
      counterpartGiftCardId: null,
      relatedTransactionId: null,
      holdId: row.hold_public_id,
      position: { entryId: BigInt(row.after_entry_id), step: 1, eventId: BigInt(row.id) },
    }));
  }

  /** The other card of each transfer or combine entry on the page, from the entries of its operation. */
  private async counterpartsOf(rows: readonly EntryRow[]): Promise<Map<bigint, string>> {
    const operations = [
      ...new Set(rows.filter((row) => MOVE_TYPES.includes(row.entry_type)).map((r) => r.operation_id)),
    ];
    if (operations.length === 0) return new Map();
    const moves: MoveRow[] = await this.manager.query(
      `SELECT e.id, e.operation_id, e.entry_type, c.public_id
       FROM ledger_entry e JOIN gift_card c ON c.id = e.card_id
       WHERE e.operation_id IN (?) AND e.entry_type IN (?)`,
      [operations, MOVE_TYPES],
    );
    return counterparts(
      moves.map((move) => ({
        entryId: BigInt(move.id),
        operationId: move.operation_id,
        type: move.entry_type as EntryType,
        cardPublicId: move.public_id,
      })),
    );
  }
}
