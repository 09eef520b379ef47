import { isLockedOut, recordFailedPasscode, recordGoodPasscode } from '../../src/domain/passcode-lockout';
import { aCard } from '../support/card-fixture';

const policy = { maxFailedAttempts: 5, cooldownMs: 15 * 60_000 };
const now = new Date('2026-01-01T00:00:00Z');
const fresh = aCard();

describe('passcode lockout (domain rule)', () => {
  it('locks the card for the cool-down on the fifth wrong passcode in a row, not before', () => {
    let card = fresh;
    for (let i = 0; i < 4; i++) card = recordFailedPasscode(card, now, policy);
    expect(isLockedOut(card, now)).toBe(false);
    card = recordFailedPasscode(card, now, policy);
    expect(isLockedOut(card, now)).toBe(true);
    expect(isLockedOut(card, new Date(now.getTime() + policy.cooldownMs - 1))).toBe(true);
    expect(isLockedOut(card, new Date(now.getTime() + policy.cooldownMs))).toBe(false);
  });

  it('starts counting again after a right passcode', () => {
    let card = fresh;
    for (let i = 0; i < 4; i++) card = recordFailedPasscode(card, now, policy);
    card = recordGoodPasscode(card);
    for (let i = 0; i < 4; i++) card = recordFailedPasscode(card, now, policy);
    expect(isLockedOut(card, now)).toBe(false);
  });
});
