import type { EntityManager } from 'typeorm';
import { AccessRole, type CardAccess, type CardAccessRepository } from '../application/ports';
import { CardAccessEntity } from './entities/card-access.entity';

function toDomain(row: CardAccessEntity): CardAccess {
  return { cardId: row.cardId, userId: row.userId, role: row.role as AccessRole, preferred: row.preferred };
}

export class TypeOrmCardAccessRepository implements CardAccessRepository {
  constructor(private readonly manager: EntityManager) {}

  async find(cardId: bigint, userId: string): Promise<CardAccess | null> {
    const row = await this.manager.findOneBy(CardAccessEntity, { cardId, userId });
    return row === null ? null : toDomain(row);
  }

  async findOwner(cardId: bigint): Promise<CardAccess | null> {
    const row = await this.manager.findOneBy(CardAccessEntity, { cardId, role: AccessRole.OWNER });
    return row === null ? null : toDomain(row);
  }

  async insert(access: CardAccess, now: Date): Promise<void> {
    await this.manager.insert(CardAccessEntity, { ...access, createdAt: now });
  }

  async revokeAll(cardId: bigint): Promise<void> {
    await this.manager.delete(CardAccessEntity, { cardId });
  }

  async setPreferred(cardId: bigint, userId: string, preferred: boolean): Promise<void> {
    await this.manager.update(CardAccessEntity, { cardId, userId }, { preferred });
  }
}
