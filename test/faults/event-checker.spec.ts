import { GiftCardEvent, GiftCardEventType } from '../../gen/giftcard/v1/gift_card_event';
import { judgeEvents, type CommittedEntry, type CommittedEvent } from './support/event-checker';

/**
 * The event checker judged on hand-made histories: it must pass an honest delivery (duplicates
 * included, which at-least-once allows) and name each kind of failure the fault test looks for.
 */

function committedEvent(sequence: number, card: string, entry = ''): CommittedEvent {
  return {
    sequence: BigInt(sequence),
    event: GiftCardEvent.fromPartial({
      eventId: `event-${sequence}`,
      type: GiftCardEventType.GIFT_CARD_EVENT_TYPE_REDEEMED,
      giftCardId: card,
      ledgerEntryId: entry,
      amount: -10n,
      balance: 90n,
      sequence: BigInt(sequence),
    }),
  };
}

const entry = (publicId: string, card: string): CommittedEntry => ({
  publicId,
  giftCardId: card,
  amountMinor: -10n,
  balanceAfterMinor: 90n,
});

const events = [committedEvent(1, 'a', 'e1'), committedEvent(2, 'b', 'e2'), committedEvent(3, 'a', 'e3')];
const entries = [entry('e1', 'a'), entry('e2', 'b'), entry('e3', 'a')];
const delivered = (...sequences: number[]): GiftCardEvent[] =>
  sequences.map((s) => {
    const found = events.find((c) => c.sequence === BigInt(s));
    if (found === undefined) throw new Error(`no event ${s}`);
    return found.event;
  });

describe('The event checker', () => {
  it('passes every committed event delivered in card order, duplicates and interleaving allowed', () => {
    const report = judgeEvents({ events, entries }, [
      { name: 'all', events: delivered(2, 1, 1, 3, 2) },
      { name: 'again', events: delivered(1, 2, 3) },
    ]);
    expect(report.violations).toEqual([]);
    expect(report.consumers.map((c) => c.duplicates)).toEqual([2, 0]);
  });

  it('names a committed event a consumer never received', () => {
    expect(judgeEvents({ events, entries }, [{ name: 'c', events: delivered(1, 2) }]).violations).toEqual([
      'c: committed event event-3 (3 on a) missing',
    ]);
  });

  it('names a card whose later event came first, even when the earlier one came again after', () => {
    expect(judgeEvents({ events, entries }, [{ name: 'c', events: delivered(3, 1, 2, 3) }]).violations).toEqual([
      'c: card a got event 1 after 3: out of order',
    ]);
  });

  it('names an event of a change that was never committed', () => {
    const rolledBack = GiftCardEvent.fromPartial({ eventId: 'ghost', giftCardId: 'a', sequence: 9n });
    expect(
      judgeEvents({ events, entries }, [{ name: 'c', events: [...delivered(1, 2, 3), rolledBack] }]).violations,
    ).toEqual(['c: event ghost (0 on a) was never committed']);
  });

  it('names a ledger entry without an event, and an event that misstates its entry', () => {
    const misstated = committedEvent(3, 'a', 'e3');
    const report = judgeEvents(
      {
        events: [events[0]!, { ...misstated, event: { ...misstated.event, amount: -11n } }],
        entries,
      },
      [],
    );
    expect(report.violations).toEqual([
      'entry e2 on b has no event',
      'entry e3: event says -11 leaving 90 on a, the ledger -10 leaving 90 on a',
    ]);
  });
});
