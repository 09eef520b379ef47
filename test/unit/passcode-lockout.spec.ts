import {
  countFailedPasscode,
  isLockedOut,
  NO_PASSCODE_FAILURES,
  passcodeLocked,
  type PasscodeFailures,
} from '../../src/domain/passcode-lockout';

const policy = { maxFailedAttempts: 5, cooldownMs: 15 * 60_000 };
const now = new Date('2026-01-01T00:00:00Z');
const later = (ms: number): Date => new Date(now.getTime() + ms);

function failTimes(times: number, at: Date, from: PasscodeFailures = NO_PASSCODE_FAILURES): PasscodeFailures {
  let failures = from;
  for (let i = 0; i < times; i++) failures = countFailedPasscode(failures, at, policy).failures;
  return failures;
}

describe('passcode lockout (domain rule)', () => {
  it('locks the number for the cool-down on the fifth wrong passcode in a row, not before', () => {
    expect(isLockedOut(failTimes(4, now), now)).toBe(false);
    const locked = failTimes(5, now);
    expect(isLockedOut(locked, now)).toBe(true);
    expect(isLockedOut(locked, later(policy.cooldownMs - 1))).toBe(true);
    expect(isLockedOut(locked, later(policy.cooldownMs))).toBe(false);
  });

  it('does not judge a guess while locked: it is refused, and the lockout is not extended', () => {
    const locked = failTimes(5, now);
    const refused = countFailedPasscode(locked, later(1_000), policy);
    expect(refused).toEqual({ failures: locked, judged: false });
  });

  it('gives a fresh set of attempts after the cool-down', () => {
    const afterCooldown = later(policy.cooldownMs);
    expect(isLockedOut(failTimes(4, afterCooldown, failTimes(5, now)), afterCooldown)).toBe(false);
  });

  it('forgets a streak a full cool-down old', () => {
    const stale = failTimes(4, now);
    expect(isLockedOut(failTimes(1, later(policy.cooldownMs), stale), later(policy.cooldownMs))).toBe(false);
    expect(isLockedOut(failTimes(1, later(policy.cooldownMs - 1), stale), later(policy.cooldownMs - 1))).toBe(true);
  });

  it('tells a refused caller to retry a full cool-down after its own call', () => {
    const refusal = passcodeLocked(policy, later(42_000));
    expect(refusal.metadata.retryAfter).toBe(later(42_000 + policy.cooldownMs).toISOString());
    expect(refusal.retryDelayMs).toBe(policy.cooldownMs);
  });
});
