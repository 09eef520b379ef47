import type { EntityManager } from 'typeorm';
import type { CardStatus, GiftCard } from '../domain/gift-card';
import { CardNumberTaken, type GiftCardRepository, type NewGiftCard } from '../application/ports';
import { GiftCardEntity } from './entities/gift-card.entity';
import { insertedId } from './inserted-id';
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
    failedPasscodeAttempts: row.failedPasscodeAttempts,
    passcodeLockedUntil: row.passcodeLockedUntil,
    successorCardId: row.successorCardId,
  };
}

export class TypeOrmGiftCardRepository implements GiftCardRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(card: NewGiftCard): Promise<GiftCard> {
    const now = new Date();
    const row = this.manager.create(GiftCardEntity, {
      ...card,
      numberHash: Buffer.from(card.numberHash),
      passcodeHash: Buffer.from(card.passcodeHash),
      createdAt: now,
      updatedAt: now,
    });
    try {
      row.id = insertedId(await this.manager.insert(GiftCardEntity, row));
    } catch (error) {
      if (isDuplicateKey(error, 'uq_gift_card_number_hash')) throw new CardNumberTaken();
      throw error;
    }
    return toDomain(row);
  }

  lockById(id: bigint): Promise<GiftCard | null> {
    return this.lockOne('card.id = :id', { id: id.toString() });
  }

  lockByNumberHash(numberHash: Uint8Array): Promise<GiftCard | null> {
    return this.lockOne('card.numberHash = :numberHash', { numberHash: Buffer.from(numberHash) });
  }

  lockByPublicId(publicId: string): Promise<GiftCard | null> {
    return this.lockOne('card.publicId = :publicId', { publicId });
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
    await this.manager.update(
      GiftCardEntity,
      { id: card.id },
      {
        balanceMinor: card.balanceMinor,
        status: card.status,
        failedPasscodeAttempts: card.failedPasscodeAttempts,
        passcodeLockedUntil: card.passcodeLockedUntil,
        successorCardId: card.successorCardId,
        updatedAt: now,
      },
    );
  }

  private async lockOne(where: string, parameters: Record<string, unknown>): Promise<GiftCard | null> {
    const row = await this.manager
      .createQueryBuilder(GiftCardEntity, 'card')
      .setLock('pessimistic_write')
      .where(where, parameters)
      .getOne();
    return row === null ? null : toDomain(row);
  }
}
