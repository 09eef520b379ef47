import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../bigint.transformer';

/**
 * Who may use a card by its public id: its owner and the users it is shared with. The schema's
 * generated columns (not mapped here) make "one owner per card" and "one preferred card per user"
 * unique keys, so the database enforces both.
 */
@Entity({ name: 'card_access' })
export class CardAccessEntity {
  @PrimaryColumn({ name: 'card_id', type: 'bigint', transformer: bigintTransformer })
  cardId!: bigint;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 128 })
  userId!: string;

  @Column({ type: 'varchar', length: 8 })
  role!: string;

  @Column({ type: 'boolean' })
  preferred!: boolean;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;
}
