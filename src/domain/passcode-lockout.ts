import { DomainError, ErrorReason } from './errors';
import type { GiftCard } from './gift-card';

export interface LockoutPolicy {
  /** Wrong passcodes in a row that trigger the cool-down. */
  readonly maxFailedAttempts: number;
  readonly cooldownMs: number;
}

export function isLockedOut(card: GiftCard, now: Date): boolean {
  return card.passcodeLockedUntil !== null && card.passcodeLockedUntil.getTime() > now.getTime();
}

export function passcodeLocked(card: GiftCard): DomainError {
  return new DomainError(ErrorReason.PASSCODE_LOCKED, 'too many wrong passcodes; try again later', {
    retryAfter: card.passcodeLockedUntil?.toISOString() ?? '',
  });
}

/** The count restarts after a cool-down so the card gets a fresh set of attempts, not one. */
export function recordFailedPasscode(card: GiftCard, now: Date, policy: LockoutPolicy): GiftCard {
  const failedPasscodeAttempts = card.failedPasscodeAttempts + 1;
  if (failedPasscodeAttempts >= policy.maxFailedAttempts) {
    return {
      ...card,
      failedPasscodeAttempts: 0,
      passcodeLockedUntil: new Date(now.getTime() + policy.cooldownMs),
    };
  }
  return { ...card, failedPasscodeAttempts };
}

export function recordGoodPasscode(card: GiftCard): GiftCard {
  return { ...card, failedPasscodeAttempts: 0, passcodeLockedUntil: null };
}
