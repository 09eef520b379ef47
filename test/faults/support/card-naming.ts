import type { Rng } from './random';
import type { WorkloadCard } from './world';

/**
 * Most calls name the card by number and passcode, some as a saved card of its owner. Chosen once
 * per call: a retry must send exactly the same request, or its key would be refused as reused.
 */
export function nameCard(card: WorkloadCard, rng: Rng) {
  return rng.chance(0.3)
    ? { giftCardId: card.giftCardId, userId: card.userId }
    : { cardNumber: card.cardNumber, passcode: card.passcode };
}
