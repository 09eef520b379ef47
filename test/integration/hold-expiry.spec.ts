import type { Connection, RowDataPacket } from 'mysql2/promise';
import { sweepLapsedHolds } from '../../src/application/sweep-lapsed-holds';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { authorize, durationOf, holdEventsOf, holdRow } from '../support/holds';
import { useTestService } from '../support/integration-hooks';
import { TestClock } from '../support/test-clock';
import type { TestService } from '../support/test-service';

const clock = new TestClock(new Date('2030-04-01T00:00:00.000Z'));
let svc: TestService;
let db: Connection;

// No sweeper: whatever the holds' rows say, reads must honour expire times on their own.
useTestService(
  (started) => {
    ({ svc, db } = started);
  },
  { HOLD_SWEEP_INTERVAL_MS: '0' },
  { clock },
);

/** Holds of these cards past their expire time still ACTIVE in storage. */
async function lapsedHoldRows(giftCardIds: readonly string[]): Promise<number> {
  const [[row]] = await db.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM card_hold h JOIN gift_card c ON c.id = h.card_id
     WHERE h.status = 'ACTIVE' AND h.expires_at <= ? AND c.public_id IN (?)`,
    [clock.now(), giftCardIds],
  );
  return Number(row?.n);
}

describe('Hold expiry', () => {
  it('gives the held amount back at the expire time exactly, with no sweeper running', async () => {
    const card = await issueCard(svc.api, { amount: 3_000n });
    const hold = await authorize(svc.api, card, 1_000n, { holdDuration: durationOf(2_000) });
    const expireTime = hold.expireTime!;
    clock.set(new Date(expireTime.getTime() - 1));
    expect(await svc.api.balanceInquiry(credentialsOf(card))).toMatchObject({
      balance: 3_000n,
      availableBalance: 2_000n,
    });
    clock.set(expireTime);
    expect(await svc.api.balanceInquiry(credentialsOf(card))).toMatchObject({
      balance: 3_000n,
      availableBalance: 3_000n,
    });
    // And the money is spendable at that instant.
    const redeemed = await svc.api.redeem({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 3_000n,
      currency: 'USD',
    });
    expect(redeemed).toMatchObject({ balance: 0n, availableBalance: 0n });
  });

  it('records the expiry at the expire time, before whatever happened to the card after it', async () => {
    const card = await issueCard(svc.api, { amount: 3_000n });
    const early = await authorize(svc.api, card, 500n, { holdDuration: durationOf(1_000) });
    const late = await authorize(svc.api, card, 700n, { holdDuration: durationOf(2_000) });
    const lasting = await authorize(svc.api, card, 100n, { holdDuration: durationOf(60_000) });
    clock.advance(5_000);
    await svc.api.reload({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 10n,
      currency: 'USD',
      sourceTransactionId: newKey(),
    });
    expect(await holdRow(db, early.holdId)).toMatchObject({ status: 'EXPIRED', closedAt: early.expireTime });
    expect(await holdEventsOf(db, early.holdId)).toEqual([
      ['PLACED', -500n, 2_500n, expect.any(Date)],
      // Just after it expired, the other two holds still counted.
      ['EXPIRED', 500n, 2_200n, early.expireTime],
    ]);
    expect((await holdEventsOf(db, late.holdId))[1]).toEqual(['EXPIRED', 700n, 2_900n, late.expireTime]);
    expect((await holdRow(db, lasting.holdId)).status).toBe('ACTIVE');
    const [entries] = await db.query<RowDataPacket[]>(
      `SELECT MAX(e.id) AS reload_id, (SELECT MAX(v.after_entry_id) FROM hold_event v JOIN card_hold h ON h.id = v.hold_id
         WHERE h.public_id = ?) AS expiry_after
       FROM ledger_entry e JOIN gift_card c ON c.id = e.card_id WHERE c.public_id = ?`,
      [late.holdId, card.giftCardId],
    );
    // The expiries sit before the reload in the card's history, though the reload recorded them.
    expect(BigInt(String(entries[0]?.expiry_after))).toBeLessThan(BigInt(String(entries[0]?.reload_id)));
  });

  it('sweeps lapsed holds of idle cards in bounded batches, each at its expire time', async () => {
    // Other specs of the run share the database: sweep their lapsed holds (older, so first) away.
    while ((await sweepLapsedHolds(svc.service.app, 1_000)) > 0);
    const cards = await Promise.all(Array.from({ length: 5 }, () => issueCard(svc.api, { amount: 100n })));
    const ids = cards.map((card) => card.giftCardId);
    const holds = [];
    for (const card of cards) holds.push(await authorize(svc.api, card, 40n, { holdDuration: durationOf(1_000) }));
    clock.advance(2_000);
    expect(await lapsedHoldRows(ids)).toBe(5);
    expect(await sweepLapsedHolds(svc.service.app, 2)).toBe(2);
    expect(await lapsedHoldRows(ids)).toBe(3);
    expect(await sweepLapsedHolds(svc.service.app, 100)).toBe(3);
    expect(await lapsedHoldRows(ids)).toBe(0);
    for (const hold of holds)
      expect(await holdRow(db, hold.holdId)).toMatchObject({ status: 'EXPIRED', closedAt: hold.expireTime });
    expect(await sweepLapsedHolds(svc.service.app, 100)).toBe(0);
  });
});
