import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Wrong passcodes counted per card number hash, whether or not a card has that number, so an
 * unknown number locks exactly as a known one. A record stops mattering a cool-down after its
 * last failure and is swept then: the table holds at most the numbers guessed wrong in the last
 * cool-down.
 */
@Entity({ name: 'passcode_failure' })
export class PasscodeFailureEntity {
  @PrimaryColumn({ name: 'number_hash', type: 'binary', length: 32 })
  numberHash!: Buffer;

  @Column({ name: 'failed_attempts', type: 'int' })
  failedAttempts!: number;

  @Column({ name: 'locked_until', type: 'datetime', precision: 3, nullable: true })
  lockedUntil!: Date | null;

  @Column({ name: 'last_failure_at', type: 'datetime', precision: 3, nullable: true })
  lastFailureAt!: Date | null;
}
