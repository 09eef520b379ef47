import type { Connection } from 'mysql2/promise';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { entriesOf } from '../support/direct-rows';
import { authorize, durationOf, holdRow } from '../support/holds';
import { useTestService } from '../support/integration-hooks';
import { ledgerSumOf } from '../support/ledger-invariants';
import { settleDefinitely } from '../support/rpc-error';
import type { TestService } from '../support/test-service';

let svc: TestService;
let db: Connection;

// The sweeper runs often here, so expiry races against it too.
useTestService(
  (started) => {
    ({ svc, db } = started);
  },
  { HOLD_SWEEP_INTERVAL_MS: '25' },
);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

describe('Holds under concurrent calls', () => {
  it('lets exactly 20 of 50 concurrent authorizations of 100 on 2,000 through', async () => {
    const card = await issueCard(svc.api, { amount: 2_000n });
    // One key per authorization, resent as callers resend it when a burst is turned away.
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () => {
        const idempotencyKey = newKey();
        return settleDefinitely(() => authorize(svc.api, card, 100n, { idempotencyKey }));
      }),
    );
    expect(outcomes.filter((o) => o.ok)).toHaveLength(20);
    expect(outcomes.flatMap((o) => (o.ok ? [] : [o.error.reason]))).toEqual(Array(30).fill('INSUFFICIENT_FUNDS'));
    expect(await svc.api.balanceInquiry(credentialsOf(card))).toMatchObject({ balance: 2_000n, availableBalance: 0n });
    const holdIds = new Set(outcomes.flatMap((o) => (o.ok ? [o.value.holdId] : [])));
    expect(holdIds.size).toBe(20);
  });

  it('lets exactly one of a capture and a void of the same hold win, sent at once', async () => {
    const card = await issueCard(svc.api, { amount: 10_000n });
    const holds = await Promise.all(Array.from({ length: 20 }, () => authorize(svc.api, card, 100n)));
    const races = await Promise.all(
      holds.map(async (hold) => {
        const [captureKey, voidKey] = [newKey(), newKey()];
        const [captured, voided] = await Promise.all([
          settleDefinitely(() => svc.api.captureHold({ idempotencyKey: captureKey, holdId: hold.holdId })),
          settleDefinitely(() => svc.api.voidHold({ idempotencyKey: voidKey, holdId: hold.holdId })),
        ]);
        const loser = captured.ok ? voided : captured;
        return {
          winners: [captured.ok, voided.ok].filter(Boolean).length,
          loser: loser.ok ? 'none' : loser.error.reason,
          captured: captured.ok,
          row: await holdRow(db, hold.holdId),
        };
      }),
    );
    for (const race of races) {
      expect({ winners: race.winners, loser: race.loser }).toEqual({ winners: 1, loser: 'HOLD_NOT_ACTIVE' });
      expect(race.row.status).toBe(race.captured ? 'CAPTURED' : 'VOIDED');
    }
    const capturedCount = races.filter((race) => race.captured).length;
    const redeemed = (await entriesOf(db, card.giftCardId)).filter((e) => e.type === 'REDEEM');
    expect(redeemed).toHaveLength(capturedCount);
    expect(await svc.api.balanceInquiry(credentialsOf(card))).toMatchObject({
      balance: 10_000n - 100n * BigInt(capturedCount),
      availableBalance: 10_000n - 100n * BigInt(capturedCount),
    });
  });

  it('settles a capture racing the hold’s expiry one way only: captured before it, or expired and spendable', async () => {
    // Each card's whole balance is on hold; at the expire time, captures and full redemptions (and
    // the sweeper) all reach for it. Exactly one of them may have it: a capture that landed before
    // the expire time, or a redemption after it.
    const cards = await Promise.all(Array.from({ length: 6 }, () => issueCard(svc.api, { amount: 1_000n })));
    const results = await Promise.all(
      cards.map(async (card, index) => {
        const hold = await authorize(svc.api, card, 1_000n, { holdDuration: durationOf(1_500) });
        // The cards start reaching at different distances before the expire time (calls take a
        // while to land on a loaded machine), so both outcomes occur across them.
        const firstMs = hold.expireTime!.getTime() - 50 - 60 * index;
        const attempts = Array.from({ length: 8 }, async (_, step) => {
          await sleep(firstMs + 20 * step - Date.now());
          const capture = { idempotencyKey: newKey(), holdId: hold.holdId };
          const redemption = { idempotencyKey: newKey(), ...credentialsOf(card), amount: 1_000n, currency: 'USD' };
          const [captured, redeemed] = await Promise.all([
            settleDefinitely(() => svc.api.captureHold(capture)),
            settleDefinitely(() => svc.api.redeem(redemption)),
          ]);
          return { capture: captured, redemption: redeemed };
        });
        const outcomes = await Promise.all(attempts);
        return { card, hold, outcomes, row: await holdRow(db, hold.holdId) };
      }),
    );
    for (const { card, hold, outcomes, row } of results) {
      const captures = outcomes.filter((o) => o.capture.ok);
      const redemptions = outcomes.filter((o) => o.redemption.ok);
      expect(captures.length + redemptions.length).toBe(1);
      const refusals = outcomes
        .flatMap((o) => [o.capture, o.redemption])
        .flatMap((o) => (o.ok ? [] : [o.error.reason ?? o.error.codeName]));
      const unexpected = refusals.filter((r) => !['HOLD_EXPIRED', 'HOLD_NOT_ACTIVE', 'INSUFFICIENT_FUNDS'].includes(r));
      expect(unexpected).toEqual([]);
      const entries = await entriesOf(db, card.giftCardId);
      expect(entries.map((e) => [e.type, e.amount])).toEqual([
        ['ISSUE', 1_000n],
        ['REDEEM', -1_000n],
      ]);
      if (captures.length === 1) {
        expect(row).toMatchObject({ status: 'CAPTURED', capturedMinor: 1_000n });
        // Captured strictly before the hold's expire time, by the server's clock.
        expect(row.closedAt!.getTime()).toBeLessThan(hold.expireTime!.getTime());
      } else {
        expect(row).toMatchObject({ status: 'EXPIRED', closedAt: hold.expireTime });
      }
      expect(await ledgerSumOf(db, card.giftCardId)).toBe(0n);
    }
  });
});
