import { CardStatus, NO_HOLDS, type GiftCard } from '../../src/domain/gift-card';

/** An active USD card for the pure rules' unit tests; override what the rule under test reads. */
export function aCard(overrides: Partial<GiftCard> = {}): GiftCard {
  const id = overrides.id ?? 1n;
  return {
    id,
    publicId: `card-${id}`,
    numberLast4: '0000',
    passcodeHash: new Uint8Array(32),
    currency: 'USD',
    balanceMinor: 0n,
    status: CardStatus.ACTIVE,
    expiresAt: null,
    successorCardId: null,
    holds: NO_HOLDS,
    ...overrides,
  };
}
