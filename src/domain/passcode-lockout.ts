import { DomainError, ErrorReason } from './errors';

export interface LockoutPolicy {
  /** Wrong passcodes in a row that trigger the cool-down. */
  readonly maxFailedAttempts: number;
  readonly cooldownMs: number;
}

/**
 * The wrong passcodes recorded against one card number, whether or not a card has that number:
 * an unknown number must lock exactly as a known one does, or the lockout tells which exist.
 */
export interface PasscodeFailures {
  /** Wrong passcodes in the current streak. */
  readonly failedAttempts: number;
  /** While in the future, every passcode check on the number is refused, the right one too. */
  readonly lockedUntil: Date | null;
  readonly lastFailureAt: Date | null;
}

export const NO_PASSCODE_FAILURES: PasscodeFailures = { failedAttempts: 0, lockedUntil: null, lastFailureAt: null };

export function isLockedOut(failures: PasscodeFailures, now: Date): boolean {
  return failures.lockedUntil !== null && failures.lockedUntil.getTime() > now.getTime();
}

/** Whether a right passcode has a streak or an ended lockout to clear. */
export function hasPasscodeFailures(failures: PasscodeFailures): boolean {
  return failures.failedAttempts > 0 || failures.lockedUntil !== null;
}

/**
 * The refusal during a cool-down. It says when to try again counted from this call, a full
 * cool-down, not when the lockout ends: that would date the fifth wrong guess, which someone
 * else may have made.
 */
export function passcodeLocked(policy: LockoutPolicy, now: Date): DomainError {
  return new DomainError(
    ErrorReason.PASSCODE_LOCKED,
    'too many wrong passcodes; try again later',
    { retryAfter: new Date(now.getTime() + policy.cooldownMs).toISOString() },
    [],
    policy.cooldownMs,
  );
}

/** What one more wrong passcode does: counted (the caller is told so), or refused by a lockout. */
export interface CountedFailure {
  readonly failures: PasscodeFailures;
  /** False when the number was already locked: the guess was not judged, only refused. */
  readonly judged: boolean;
}

/**
 * Counts a wrong passcode. A streak a full cool-down old is forgotten, so a number's record can be
 * swept once that long has passed: at most `maxFailedAttempts` wrong guesses per cool-down either
 * way. The fifth in a row starts the cool-down, and the count restarts so that after it the number
 * gets a fresh set of attempts, not one.
 */
export function countFailedPasscode(failures: PasscodeFailures, now: Date, policy: LockoutPolicy): CountedFailure {
  if (isLockedOut(failures, now)) return { failures, judged: false };
  const forgotten =
    failures.lastFailureAt !== null && failures.lastFailureAt.getTime() + policy.cooldownMs <= now.getTime();
  const failedAttempts = (forgotten ? 0 : failures.failedAttempts) + 1;
  if (failedAttempts >= policy.maxFailedAttempts) {
    return {
      failures: { failedAttempts: 0, lockedUntil: new Date(now.getTime() + policy.cooldownMs), lastFailureAt: now },
      judged: true,
    };
  }
  return { failures: { failedAttempts, lockedUntil: failures.lockedUntil, lastFailureAt: now }, judged: true };
}
