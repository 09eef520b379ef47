import { ActivityType, counterparts, newestFirst, type CardActivity } from '../../src/domain/card-activity';
import { EntryType } from '../../src/domain/ledger-entry';

function activity(name: string, entryId: number, step: 0 | 1 = 0, eventId = 0): CardActivity {
  return {
    publicId: name,
    type: ActivityType.REDEEM,
    amountMinor: 0n,
    balanceAfterMinor: 0n,
    availableAfterMinor: 0n,
    currency: 'USD',
    occurredAt: new Date(0),
    reference: null,
    counterpartGiftCardId: null,
    relatedTransactionId: null,
    holdId: null,
    position: { entryId: BigInt(entryId), step, eventId: BigInt(eventId) },
  };
}

describe('newestFirst', () => {
  it('places hold events after the entry they followed and before the next, newest first', () => {
    const entries = [activity('e9', 9), activity('e5', 5), activity('e2', 2)];
    const events = [activity('v31', 5, 1, 31), activity('v30', 5, 1, 30), activity('v12', 2, 1, 12)];
    expect(newestFirst(entries, events, 10).map((a) => a.publicId)).toEqual(['e9', 'v31', 'v30', 'e5', 'v12', 'e2']);
    expect(newestFirst(entries, events, 3).map((a) => a.publicId)).toEqual(['e9', 'v31', 'v30']);
    expect(newestFirst([], events, 2).map((a) => a.publicId)).toEqual(['v31', 'v30']);
  });
});

describe('counterparts', () => {
  it('pairs each debit of a move with its credit in the order they were written', () => {
    const moves = [
      { entryId: 10n, operationId: 'combine', type: EntryType.COMBINE_OUT, cardPublicId: 'source-a' },
      { entryId: 11n, operationId: 'combine', type: EntryType.COMBINE_IN, cardPublicId: 'target' },
      { entryId: 13n, operationId: 'combine', type: EntryType.COMBINE_OUT, cardPublicId: 'source-b' },
      { entryId: 14n, operationId: 'combine', type: EntryType.COMBINE_IN, cardPublicId: 'target' },
      { entryId: 20n, operationId: 'transfer', type: EntryType.TRANSFER_OUT, cardPublicId: 'old' },
      { entryId: 21n, operationId: 'transfer', type: EntryType.TRANSFER_IN, cardPublicId: 'new' },
    ];
    expect(Object.fromEntries(counterparts(moves))).toEqual({
      '10': 'target',
      '11': 'source-a',
      '13': 'target',
      '14': 'source-b',
      '20': 'new',
      '21': 'old',
    });
  });
});
