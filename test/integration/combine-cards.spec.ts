import { status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import { GiftCardStatus } from '../../gen/giftcard/v1/gift_card';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { entriesOf, expireDirectly, preferredCardOf } from '../support/direct-rows';
import { entryCountOf } from '../support/ledger-invariants';
import { rpcError } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';
import { preferCard, shareCard } from '../support/wallet';

let svc: TestService;
let db: Connection;

useTestService((started) => {
  ({ svc, db } = started);
});

let userCounter = 0;
const newUser = (): string => `combine-user-${process.pid}-${++userCounter}`;

const combine = (userId: string, target: { giftCardId: string }, sources: { giftCardId: string }[]) =>
  svc.api.combineCards({
    idempotencyKey: newKey(),
    userId,
    targetGiftCardId: target.giftCardId,
    sourceGiftCardIds: sources.map((s) => s.giftCardId),
  });

const inquire = (card: { cardNumber: string; passcode: string }) => svc.api.balanceInquiry(credentialsOf(card));

describe('CombineCards', () => {
  it('moves every source’s balance to the target in one operation; sources become COMBINED', async () => {
    const user = newUser();
    const target = await issueCard(svc.api, { amount: 1_000n, userId: user });
    const first = await issueCard(svc.api, { amount: 250n, userId: user });
    const second = await issueCard(svc.api, { amount: 4_000n, userId: user });

    const result = await combine(user, target, [second, first]);

    expect(result).toMatchObject({ giftCardId: target.giftCardId, balance: 5_250n, currency: 'USD' });
    expect(result.sources.map((s) => [s.giftCardId, s.amount])).toEqual([
      [second.giftCardId, 4_000n],
      [first.giftCardId, 250n],
    ]);
    for (const source of [first, second]) {
      expect(await inquire(source)).toMatchObject({ balance: 0n, status: GiftCardStatus.GIFT_CARD_STATUS_COMBINED });
    }
    expect(await inquire(target)).toMatchObject({ balance: 5_250n, status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE });

    const outs = [...(await entriesOf(db, second.giftCardId)), ...(await entriesOf(db, first.giftCardId))].filter(
      (e) => e.type === 'COMBINE_OUT',
    );
    const ins = (await entriesOf(db, target.giftCardId)).filter((e) => e.type === 'COMBINE_IN');
    expect(outs.map((e) => [e.publicId, e.amount])).toEqual(result.sources.map((s) => [s.transactionId, -s.amount]));
    expect(ins.map((e) => e.amount)).toEqual([4_000n, 250n]);
    expect(new Set([...outs, ...ins].map((e) => e.operationId))).toEqual(new Set([result.transactionId]));
  });

  it('retires an empty source too, writing no entry for it', async () => {
    const user = newUser();
    const target = await issueCard(svc.api, { amount: 100n, userId: user });
    const empty = await issueCard(svc.api, { amount: 50n, userId: user });
    await svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(empty), amount: 50n, currency: 'USD' });

    const result = await combine(user, target, [empty]);
    expect(result.balance).toBe(100n);
    expect(result.sources).toEqual([{ giftCardId: empty.giftCardId, amount: 0n, transactionId: '' }]);
    expect((await inquire(empty)).status).toBe(GiftCardStatus.GIFT_CARD_STATUS_COMBINED);
    expect(await entryCountOf(db, empty.giftCardId)).toBe(2);
    expect(await entryCountOf(db, target.giftCardId)).toBe(1);
  });

  it('makes the target the user’s preferred card when a source was', async () => {
    const user = newUser();
    const target = await issueCard(svc.api, { amount: 100n, userId: user });
    const preferred = await issueCard(svc.api, { amount: 100n, userId: user });
    await preferCard(svc.api, preferred.giftCardId, user);
    await combine(user, target, [preferred]);
    expect(await preferredCardOf(db, user)).toBe(target.giftCardId);
  });

  it('refuses a target or source the user only has shared with NOT_CARD_OWNER, and changes nothing', async () => {
    const [owner, friend] = [newUser(), newUser()];
    const shared = await issueCard(svc.api, { amount: 100n, userId: owner });
    await shareCard(svc.api, shared.giftCardId, owner, friend);
    const own = await issueCard(svc.api, { amount: 100n, userId: friend });

    for (const [target, source] of [
      [shared, own],
      [own, shared],
    ] as const) {
      const error = await rpcError(combine(friend, target, [source]));
      expect(error).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'NOT_CARD_OWNER' });
      expect(error.metadata).toMatchObject({ giftCardId: shared.giftCardId });
    }
    expect((await inquire(shared)).balance).toBe(100n);
    expect((await inquire(own)).balance).toBe(100n);
  });

  it('answers CARD_NOT_FOUND for another user’s card, as for an unknown id', async () => {
    const [user, stranger] = [newUser(), newUser()];
    const own = await issueCard(svc.api, { amount: 100n, userId: user });
    const theirs = await issueCard(svc.api, { amount: 100n, userId: stranger });
    const unsaved = await issueCard(svc.api, { amount: 100n });
    const unknown = { giftCardId: '00000000-0000-4000-8000-000000000000' };
    for (const other of [theirs, unsaved, unknown]) {
      for (const [target, source] of [
        [own, other],
        [other, own],
      ]) {
        const error = await rpcError(combine(user, target!, [source!]));
        expect(error).toMatchObject({
          code: status.NOT_FOUND,
          reason: 'CARD_NOT_FOUND',
          message: 'gift card not found',
        });
      }
    }
    expect((await inquire(theirs)).balance).toBe(100n);
    expect((await inquire(own)).balance).toBe(100n);
  });

  it('refuses a source in another currency with CURRENCY_MISMATCH, and changes nothing', async () => {
    const user = newUser();
    const target = await issueCard(svc.api, { amount: 100n, userId: user });
    const same = await issueCard(svc.api, { amount: 100n, userId: user });
    const euro = await issueCard(svc.api, { amount: 100n, currency: 'EUR', userId: user });
    const error = await rpcError(combine(user, target, [same, euro]));
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'CURRENCY_MISMATCH' });
    expect(error.metadata).toMatchObject({ giftCardId: euro.giftCardId, sourceCurrency: 'EUR', targetCurrency: 'USD' });
    expect(await inquire(same)).toMatchObject({ balance: 100n, status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE });
    expect((await inquire(target)).balance).toBe(100n);
  });

  it('refuses a result above the maximum balance with BALANCE_LIMIT_EXCEEDED, and changes nothing', async () => {
    const user = newUser();
    const half = svc.config.maxBalanceMinor / 2n;
    const target = await issueCard(svc.api, { amount: half, userId: user });
    const fits = await issueCard(svc.api, { amount: half, userId: user });
    const tips = await issueCard(svc.api, { amount: 1n, userId: user });
    const error = await rpcError(combine(user, target, [fits, tips]));
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'BALANCE_LIMIT_EXCEEDED' });
    for (const card of [target, fits, tips]) {
      expect(await inquire(card)).toMatchObject({ status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE });
      expect(await entryCountOf(db, card.giftCardId)).toBe(1);
    }
    expect((await combine(user, target, [fits])).balance).toBe(svc.config.maxBalanceMinor);
  });

  it('refuses a deactivated card with CARD_NOT_ACTIVE and an expired one with CARD_EXPIRED', async () => {
    const user = newUser();
    const target = await issueCard(svc.api, { amount: 100n, userId: user });
    const deactivated = await issueCard(svc.api, { amount: 100n, userId: user });
    await svc.api.balanceTransfer({
      idempotencyKey: newKey(),
      ...credentialsOf(deactivated),
      currency: 'USD',
      isDeleteSourceCard: true,
    });
    const expired = await issueCard(svc.api, { amount: 100n, userId: user });
    await expireDirectly(db, expired.giftCardId);

    const notActive = await rpcError(combine(user, target, [deactivated]));
    expect(notActive).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'CARD_NOT_ACTIVE' });
    expect(notActive.metadata).toMatchObject({ giftCardId: deactivated.giftCardId });
    const lapsedSource = await rpcError(combine(user, target, [expired]));
    expect(lapsedSource).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'CARD_EXPIRED' });
    const lapsedTarget = await rpcError(combine(user, expired, [target]));
    expect(lapsedTarget).toMatchObject({ reason: 'CARD_EXPIRED', metadata: { giftCardId: expired.giftCardId } });
    expect((await inquire(target)).balance).toBe(100n);
  });

  it('refuses duplicate sources and the target among them, naming each offending element', async () => {
    const user = newUser();
    const [target, a, b] = await Promise.all([1, 2, 3].map(() => issueCard(svc.api, { userId: user })));
    const error = await rpcError(combine(user, target!, [a!, b!, a!, target!]));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['sourceGiftCardIds[2]', 'sourceGiftCardIds[3]']);
    expect((await inquire(a!)).status).toBe(GiftCardStatus.GIFT_CARD_STATUS_ACTIVE);
  });

  it('needs 1 to 20 sources', async () => {
    const user = newUser();
    const target = await issueCard(svc.api, { userId: user });
    const none = await rpcError(combine(user, target, []));
    expect(none.fieldViolations.map((v) => v.field)).toEqual(['sourceGiftCardIds']);
    const ids = Array.from({ length: 21 }, (_, i) => ({
      giftCardId: `00000000-0000-4000-8000-${i.toString().padStart(12, '0')}`,
    }));
    const tooMany = await rpcError(combine(user, target, ids));
    expect(tooMany).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(tooMany.fieldViolations.map((v) => v.field)).toEqual(['sourceGiftCardIds']);
  });

  it('requires an idempotency key, the user and well-formed ids', async () => {
    const error = await rpcError(
      svc.api.combineCards({ targetGiftCardId: 'not-an-id', sourceGiftCardIds: ['also-not-an-id'] }),
    );
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    expect(error.fieldViolations.map((v) => v.field)).toEqual([
      'idempotencyKey',
      'userId',
      'targetGiftCardId',
      'sourceGiftCardIds[0]',
    ]);
  });

  it('combines 20 sources at once', async () => {
    const user = newUser();
    const target = await issueCard(svc.api, { amount: 1n, userId: user });
    const sources = await Promise.all(
      Array.from({ length: 20 }, () => issueCard(svc.api, { amount: 10n, userId: user })),
    );
    expect((await combine(user, target, sources)).balance).toBe(201n);
  });

  it('applies a repeated request once and answers alike', async () => {
    const user = newUser();
    const target = await issueCard(svc.api, { amount: 100n, userId: user });
    const source = await issueCard(svc.api, { amount: 40n, userId: user });
    const request = {
      idempotencyKey: newKey(),
      userId: user,
      targetGiftCardId: target.giftCardId,
      sourceGiftCardIds: [source.giftCardId],
    };
    const responses = await Promise.all(Array.from({ length: 5 }, () => svc.api.combineCards(request)));
    for (const response of responses) expect(response).toEqual(responses[0]);
    expect(await svc.api.combineCards(request)).toEqual(responses[0]);
    expect(await entryCountOf(db, target.giftCardId)).toBe(2);
  });
});

describe('A combined card', () => {
  it('can no longer be redeemed, reloaded, transferred, combined or gifted', async () => {
    const user = newUser();
    const target = await issueCard(svc.api, { amount: 100n, userId: user });
    const combined = await issueCard(svc.api, { amount: 100n, userId: user });
    const other = await issueCard(svc.api, { amount: 100n, userId: user });
    await combine(user, target, [combined]);

    // Each call gets its own key, so no refusal is a replay of another.
    const byCredentials = () => ({ idempotencyKey: newKey(), ...credentialsOf(combined), currency: 'USD' });
    const bySavedCard = () => ({
      idempotencyKey: newKey(),
      giftCardId: combined.giftCardId,
      userId: user,
      currency: 'USD',
    });
    const refusals = await Promise.all([
      rpcError(svc.api.redeem({ ...byCredentials(), amount: 1n })),
      rpcError(svc.api.redeem({ ...bySavedCard(), amount: 1n })),
      rpcError(svc.api.reload({ ...byCredentials(), amount: 1n, sourceTransactionId: 'top-up' })),
      rpcError(svc.api.reload({ ...bySavedCard(), amount: 1n, sourceTransactionId: 'top-up' })),
      rpcError(svc.api.balanceTransfer({ ...byCredentials(), isDeleteSourceCard: true })),
      rpcError(combine(user, other, [combined])),
      rpcError(combine(user, combined, [other])),
      rpcError(
        svc.api.giftDigitalCard({
          idempotencyKey: newKey(),
          userId: user,
          recipientUserId: newUser(),
          giftCardId: combined.giftCardId,
        }),
      ),
    ]);
    for (const refusal of refusals) {
      expect(refusal).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'CARD_NOT_ACTIVE' });
    }
    expect(await inquire(combined)).toMatchObject({ balance: 0n, status: GiftCardStatus.GIFT_CARD_STATUS_COMBINED });
    expect((await inquire(other)).balance).toBe(100n);
    expect((await inquire(target)).balance).toBe(200n);
  });
});
