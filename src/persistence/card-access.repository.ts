import { In, type EntityManager } from 'typeorm';
import {
  AccessRole,
  CardAlreadyOwned,
  PreferredCardTaken,
  type CardAccess,
  type CardAccessRepository,
  type SavedCard,
} from '../application/ports';
import { CardAccessEntity } from './entities/card-access.entity';
import { GiftCardEntity } from './entities/gift-card.entity';
import { toDomain as giftCardToDomain } from './gift-card.repository';
import { isDuplicateKey } from './mysql-errors';

/** Whether a user may use a card named by its public id (values: public id, user id). */
export const USER_ACCESS_FIND =
  'SELECT a.user_id FROM card_access a JOIN gift_card g ON g.id = a.card_id WHERE g.public_id = ? AND a.user_id = ?';

const ONE_OWNER_KEY = 'uq_card_access_one_owner';
const ONE_PREFERRED_KEY = 'uq_card_access_one_preferred';

function toDomain(row: CardAccessEntity): CardAccess {
  return { cardId: row.cardId, userId: row.userId, role: row.role as AccessRole, preferred: row.preferred };
}

/**
 * user_id compares under a PAD SPACE collation, where 'bob' equals 'bob '. Validation refuses
 * such ids; this byte-for-byte check makes sure no access is ever granted on that equality anyway.
 */
function isExactly(row: CardAccessEntity, userId: string): boolean {
  return row.userId === userId;
}

/** The database's unique keys are the backstop behind the locks: name the rule that tripped. */
function translateUniqueKey(error: unknown): unknown {
  if (isDuplicateKey(error, ONE_OWNER_KEY)) return new CardAlreadyOwned();
  if (isDuplicateKey(error, ONE_PREFERRED_KEY)) return new PreferredCardTaken();
  return error;
}

export class TypeOrmCardAccessRepository implements CardAccessRepository {
  constructor(private readonly manager: EntityManager) {}

  async find(cardId: bigint, userId: string): Promise<CardAccess | null> {
    const row = await this.manager.findOneBy(CardAccessEntity, { cardId, userId });
    return row === null || !isExactly(row, userId) ? null : toDomain(row);
  }

  async findOwner(cardId: bigint): Promise<CardAccess | null> {
    const row = await this.manager.findOneBy(CardAccessEntity, { cardId, role: AccessRole.OWNER });
    return row === null ? null : toDomain(row);
  }

  async insert(access: CardAccess, now: Date): Promise<void> {
    try {
      await this.manager.insert(CardAccessEntity, { ...access, createdAt: now });
    } catch (error) {
      throw translateUniqueKey(error);
    }
  }

  async lockAllOfUser(userId: string): Promise<CardAccess[]> {
    // Walk the (user_id, card_id) index so every caller locks the same rows in the same order and
    // no other user's rows are touched; a table scan would lock (and wait on) strangers' rows.
    const rows = await this.manager
      .createQueryBuilder(CardAccessEntity, 'access')
      .useIndex('ix_card_access_user')
      .setLock('pessimistic_write')
      .where('access.userId = :userId', { userId })
      .orderBy('access.cardId', 'ASC')
      .getMany();
    return rows.filter((row) => isExactly(row, userId)).map(toDomain);
  }

  countShares(cardId: bigint): Promise<number> {
    return this.manager.countBy(CardAccessEntity, { cardId, role: AccessRole.SHARED });
  }

  async setRole(cardId: bigint, userId: string, role: AccessRole): Promise<void> {
    try {
      await this.manager.update(CardAccessEntity, { cardId, userId }, { role });
    } catch (error) {
      throw translateUniqueKey(error);
    }
  }

  async setPreferred(cardId: bigint, userId: string, preferred: boolean): Promise<void> {
    try {
      await this.manager.update(CardAccessEntity, { cardId, userId }, { preferred });
    } catch (error) {
      throw translateUniqueKey(error);
    }
  }

  async remove(cardId: bigint, userId: string): Promise<boolean> {
    const result = await this.manager.delete(CardAccessEntity, { cardId, userId });
    return (result.affected ?? 0) > 0;
  }

  async listByUser(userId: string, afterCardId: bigint | null, limit: number): Promise<SavedCard[]> {
    const query = this.manager
      .createQueryBuilder(CardAccessEntity, 'access')
      .where('access.userId = :userId', { userId })
      .orderBy('access.cardId', 'ASC')
      .limit(limit);
    if (afterCardId !== null) query.andWhere('access.cardId > :afterCardId', { afterCardId: afterCardId.toString() });
    const rows = await query.getMany();
    if (rows.length === 0) return [];
    // A card row is never deleted (the access row's foreign key needs it), so every id resolves.
    const cards = await this.manager.findBy(GiftCardEntity, { id: In(rows.map((row) => row.cardId)) });
    const cardById = new Map(cards.map((card) => [card.id, giftCardToDomain(card)]));
    return rows.map((row) => {
      const card = cardById.get(row.cardId);
      if (card === undefined) throw new Error(`card_access row points at missing card ${row.cardId.toString()}`);
      return { card, access: toDomain(row) };
    });
  }

  async revokeAll(cardId: bigint): Promise<void> {
    await this.manager.delete(CardAccessEntity, { cardId });
  }
}
