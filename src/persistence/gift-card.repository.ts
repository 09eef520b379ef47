import type { EntityManager } from 'typeorm';
import { NO_HOLDS, type CardStatus, type GiftCard, type HoldTally } from '../domain/gift-card';
import { CardNumberTaken, type GiftCardRepository, type NewGiftCard } from '../application/ports';
import { GiftCardEntity } from './entities/gift-card.entity';
import { insertIdOf } from './inserted-id';
import { isDuplicateKey } from './mysql-errors';

/** Shared with the wallet listing, which reads cards next to their access rows. */
export function toDomain(row: GiftCardEntity): GiftCard {
  return {
    id: row.id,
    publicId: row.publicId,
    numberLast4: row.numberLast4,
    passcodeHash: row.passcodeHash,
    currency: row.currency,
    balanceMinor: row.balanceMinor,
    status: row.status as CardStatus,
    expiresAt: row.expiresAt,
    successorCardId: row.successorCardId,
    holds: tallyOf(row.heldMinor, row.openHolds, row.nextHoldExpiresAt),
  };
}

function tallyOf(heldMinor: bigint, count: number, nextExpiresAt: Date | null): HoldTally {
  return count === 0 ? NO_HOLDS : { heldMinor, count, nextExpiresAt };
}

/*
 * The statements every balance change runs are written out rather than built by TypeORM's query
 * builder: building them (aliases, parameter renaming, entity hydration) took about a third of
 * the server's CPU per redemption (docs/benchmarks.md). Same columns, values and locks as before.
 */
export const CARD_COLUMNS =
  'id, public_id, number_last4, passcode_hash, currency, balance_minor, status, expires_at, successor_card_id, ' +
  'held_minor, open_holds, next_hold_expires_at';
/** The locking reads the single-card path and its batches take, by number and by public id. */
export const CARD_LOCK_BY_NUMBER_HASH = `SELECT ${CARD_COLUMNS} FROM gift_card WHERE number_hash = ? FOR UPDATE`;
export const CARD_LOCK_BY_PUBLIC_ID = `SELECT ${CARD_COLUMNS} FROM gift_card WHERE public_id = ? FOR UPDATE`;

/** A gift_card row as mysql2 returns it: BIGINT as decimal strings, DATETIME(3) as Date. */
export interface GiftCardRow {
  readonly id: string;
  readonly public_id: string;
  readonly number_last4: string;
  readonly passcode_hash: Buffer;
  readonly currency: string;
  readonly balance_minor: string;
  readonly status: string;
  readonly expires_at: Date | null;
  readonly successor_card_id: string | null;
  readonly held_minor: string;
  readonly open_holds: number;
  readonly next_hold_expires_at: Date | null;
}

export function fromRow(row: GiftCardRow): GiftCard {
  return {
    id: BigInt(row.id),
    publicId: row.public_id,
    numberLast4: row.number_last4,
    passcodeHash: row.passcode_hash,
    currency: row.currency,
    balanceMinor: BigInt(row.balance_minor),
    status: row.status as CardStatus,
    expiresAt: row.expires_at,
    successorCardId: row.successor_card_id === null ? null : BigInt(row.successor_card_id),
    holds: tallyOf(BigInt(row.held_minor), row.open_holds, row.next_hold_expires_at),
  };
}

export const CARD_SAVE = `UPDATE gift_card SET balance_minor = ?, status = ?, successor_card_id = ?, held_minor = ?, open_holds = ?,
         next_hold_expires_at = ?, updated_at = ? WHERE id = ?`;

export function cardSaveValues(card: GiftCard, now: Date): unknown[] {
  return [
    card.balanceMinor.toString(),
    card.status,
    card.successorCardId?.toString() ?? null,
    card.holds.heldMinor.toString(),
    card.holds.count,
    card.holds.nextExpiresAt,
    now,
    card.id.toString(),
  ];
}

export class TypeOrmGiftCardRepository implements GiftCardRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(card: NewGiftCard): Promise<GiftCard> {
    const now = new Date();
    const passcodeHash = Buffer.from(card.passcodeHash);
    let id: bigint;
    try {
      id = insertIdOf(
        await this.manager.query(
          `INSERT INTO gift_card (public_id, number_hash, number_last4, passcode_hash, currency, balance_minor,
             status, expires_at, successor_card_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            card.publicId,
            Buffer.from(card.numberHash),
            card.numberLast4,
            passcodeHash,
            card.currency,
            card.balanceMinor.toString(),
            card.status,
            card.expiresAt,
            card.successorCardId?.toString() ?? null,
            now,
            now,
          ],
        ),
      );
    } catch (error) {
      if (isDuplicateKey(error, 'uq_gift_card_number_hash')) throw new CardNumberTaken();
      throw error;
    }
    return {
      id,
      publicId: card.publicId,
      numberLast4: card.numberLast4,
      passcodeHash,
      currency: card.currency,
      balanceMinor: card.balanceMinor,
      status: card.status,
      expiresAt: card.expiresAt,
      successorCardId: card.successorCardId,
      // A new card starts without holds: the columns' defaults.
      holds: NO_HOLDS,
    };
  }

  lockById(id: bigint): Promise<GiftCard | null> {
    return this.lockOne('id', id.toString());
  }

  lockByNumberHash(numberHash: Uint8Array): Promise<GiftCard | null> {
    return this.lockOne('number_hash', Buffer.from(numberHash));
  }

  lockByPublicId(publicId: string): Promise<GiftCard | null> {
    return this.lockOne('public_id', publicId);
  }

  async findByPublicId(publicId: string): Promise<GiftCard | null> {
    const row = await this.manager.findOneBy(GiftCardEntity, { publicId });
    return row === null ? null : toDomain(row);
  }

  async findById(id: bigint): Promise<GiftCard | null> {
    const row = await this.manager.findOneBy(GiftCardEntity, { id });
    return row === null ? null : toDomain(row);
  }

  async save(card: GiftCard, now: Date): Promise<void> {
    await this.manager.query(CARD_SAVE, cardSaveValues(card, now));
  }

  /** SELECT ... FOR UPDATE on one unique key: `column` is one of the three above, never input. */
  private async lockOne(column: 'id' | 'number_hash' | 'public_id', value: unknown): Promise<GiftCard | null> {
    const rows: GiftCardRow[] = await this.manager.query(
      `SELECT ${CARD_COLUMNS} FROM gift_card WHERE ${column} = ? FOR UPDATE`,
      [value],
    );
    const row = rows[0];
    return row === undefined ? null : fromRow(row);
  }
}
