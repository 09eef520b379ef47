import { status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import { GiftCardStatus } from '../../gen/giftcard/v1/gift_card';
import { TransferStatus } from '../../gen/giftcard/v1/gift_card_service';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { accessOf, entriesOf, expireDirectly, preferredCardOf } from '../support/direct-rows';
import { entryCountOf } from '../support/ledger-invariants';
import { rpcError, settle } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';
import { preferCard, shareCard } from '../support/wallet';

let svc: TestService;
let db: Connection;

useTestService((started) => {
  ({ svc, db } = started);
});

const transfer = (card: { cardNumber: string; passcode: string }, fields: { amount?: bigint; delete?: boolean }) =>
  svc.api.balanceTransfer({
    idempotencyKey: newKey(),
    ...credentialsOf(card),
    amount: fields.amount ?? 0n,
    currency: 'USD',
    isDeleteSourceCard: fields.delete ?? false,
  });

describe('BalanceTransfer', () => {
  it('moves the amount to a new card, shown whole once, and returns both entries and COMPLETED', async () => {
    const source = await issueCard(svc.api, { amount: 5_000n });
    const result = await transfer(source, { amount: 1_200n });

    expect(result).toMatchObject({
      balance: 1_200n,
      currency: 'USD',
      sourceGiftCardId: source.giftCardId,
      sourceBalance: 3_800n,
      sourceStatus: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE,
      status: TransferStatus.TRANSFER_STATUS_COMPLETED,
    });
    expect(result.giftCardId).not.toBe(source.giftCardId);
    expect(result.cardNumber).toMatch(/^\d{16}$/);
    expect(result.passcode).toMatch(/^\d{8}$/);
    // The new card answers to the credentials the response gave.
    expect((await svc.api.balanceInquiry(credentialsOf(result))).balance).toBe(1_200n);
    expect((await svc.api.balanceInquiry(credentialsOf(source))).balance).toBe(3_800n);

    const [out] = (await entriesOf(db, source.giftCardId)).slice(-1);
    const [into] = await entriesOf(db, result.giftCardId);
    expect(out).toMatchObject({ publicId: result.debitTransactionId, type: 'TRANSFER_OUT', amount: -1_200n });
    expect(into).toMatchObject({ publicId: result.transactionId, type: 'TRANSFER_IN', amount: 1_200n });
    expect(into?.operationId).toBe(out?.operationId);
  });

  it('with isDeleteSourceCard and no amount moves the whole balance and deactivates the source', async () => {
    const source = await issueCard(svc.api, { amount: 4_321n });
    const result = await transfer(source, { delete: true });
    expect(result).toMatchObject({
      balance: 4_321n,
      sourceBalance: 0n,
      sourceStatus: GiftCardStatus.GIFT_CARD_STATUS_DEACTIVATED,
    });
    const inquiry = await svc.api.balanceInquiry(credentialsOf(source));
    expect(inquiry).toMatchObject({ balance: 0n, status: GiftCardStatus.GIFT_CARD_STATUS_DEACTIVATED });
    const redeem = await rpcError(
      svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(source), amount: 1n, currency: 'USD' }),
    );
    expect(redeem).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'CARD_NOT_ACTIVE' });
  });

  it('with isDeleteSourceCard accepts an amount equal to the whole balance', async () => {
    const source = await issueCard(svc.api, { amount: 900n });
    const result = await transfer(source, { amount: 900n, delete: true });
    expect(result).toMatchObject({ balance: 900n, sourceStatus: GiftCardStatus.GIFT_CARD_STATUS_DEACTIVATED });
  });

  it('with isDeleteSourceCard refuses any other amount with TRANSFER_AMOUNT_MISMATCH and changes nothing', async () => {
    const source = await issueCard(svc.api, { amount: 900n });
    for (const amount of [899n, 901n]) {
      const error = await rpcError(transfer(source, { amount, delete: true }));
      expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'TRANSFER_AMOUNT_MISMATCH' });
      expect(error.metadata).toMatchObject({ balance: '900', requested: amount.toString() });
    }
    const inquiry = await svc.api.balanceInquiry(credentialsOf(source));
    expect(inquiry).toMatchObject({ balance: 900n, status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE });
    expect(await entryCountOf(db, source.giftCardId)).toBe(1);
  });

  it('refuses more than the balance with INSUFFICIENT_FUNDS and changes nothing', async () => {
    const source = await issueCard(svc.api, { amount: 500n });
    const error = await rpcError(transfer(source, { amount: 501n }));
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'INSUFFICIENT_FUNDS' });
    expect(await entryCountOf(db, source.giftCardId)).toBe(1);
    expect((await svc.api.balanceInquiry(credentialsOf(source))).balance).toBe(500n);
  });

  it('refuses to transfer an empty card with INSUFFICIENT_FUNDS, with or without deleting it', async () => {
    const source = await issueCard(svc.api, { amount: 300n });
    await svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(source), amount: 300n, currency: 'USD' });
    expect(await rpcError(transfer(source, { delete: true }))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'INSUFFICIENT_FUNDS',
    });
    expect((await rpcError(transfer(source, { amount: 1n }))).reason).toBe('INSUFFICIENT_FUNDS');
    expect((await svc.api.balanceInquiry(credentialsOf(source))).status).toBe(GiftCardStatus.GIFT_CARD_STATUS_ACTIVE);
  });

  it('requires an amount above zero unless the source is deleted, and never a negative one', async () => {
    const source = await issueCard(svc.api);
    const zero = await rpcError(transfer(source, { amount: 0n }));
    expect(zero).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    expect(zero.fieldViolations.map((v) => v.field)).toEqual(['amount']);
    const negative = await rpcError(transfer(source, { amount: -5n, delete: true }));
    expect(negative.fieldViolations.map((v) => v.field)).toEqual(['amount']);
  });

  it('requires an idempotency key and well-formed credentials', async () => {
    const error = await rpcError(
      svc.api.balanceTransfer({ cardNumber: '1234', passcode: 'x', amount: 10n, currency: 'USD' }),
    );
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['idempotencyKey', 'cardNumber', 'passcode']);
  });

  it('refuses a currency other than the card’s with CURRENCY_MISMATCH', async () => {
    const source = await issueCard(svc.api, { currency: 'EUR' });
    const error = await rpcError(transfer(source, { amount: 10n }));
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'CURRENCY_MISMATCH' });
  });

  it('refuses a wrong passcode with INVALID_CARD_CREDENTIALS', async () => {
    const source = await issueCard(svc.api);
    const wrong = { cardNumber: source.cardNumber, passcode: source.passcode === '00000000' ? '11111111' : '00000000' };
    const error = await rpcError(transfer(wrong, { amount: 10n }));
    expect(error).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'INVALID_CARD_CREDENTIALS' });
  });

  it('refuses a deactivated source with CARD_NOT_ACTIVE and an expired one with CARD_EXPIRED', async () => {
    const deactivated = await issueCard(svc.api, { amount: 100n });
    await transfer(deactivated, { delete: true });
    expect(await rpcError(transfer(deactivated, { delete: true }))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'CARD_NOT_ACTIVE',
    });
    const expired = await issueCard(svc.api, { amount: 100n });
    await expireDirectly(db, expired.giftCardId);
    expect(await rpcError(transfer(expired, { amount: 10n }))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'CARD_EXPIRED',
    });
  });

  it('gives the new card the source’s currency and expiry', async () => {
    const expireTime = new Date(Date.now() + 30 * 86_400_000);
    const source = await issueCard(svc.api, { amount: 700n, currency: 'EUR', expireTime });
    const result = await svc.api.balanceTransfer({
      idempotencyKey: newKey(),
      ...credentialsOf(source),
      amount: 200n,
      currency: 'EUR',
    });
    const inquiry = await svc.api.balanceInquiry(credentialsOf(result));
    expect(inquiry).toMatchObject({ currency: 'EUR', expireTime });
  });

  it('saves the new card to the source’s owner, without the source’s shares', async () => {
    const owned = await issueCard(svc.api, { amount: 700n, userId: 'transfer-owner' });
    await shareCard(svc.api, owned.giftCardId, 'transfer-owner', 'transfer-friend');
    const result = await transfer(owned, { amount: 200n });
    expect(await accessOf(db, result.giftCardId)).toEqual([['transfer-owner', 'OWNER']]);
    const viaWallet = await svc.api.balanceInquiry({ giftCardId: result.giftCardId, userId: 'transfer-owner' });
    expect(viaWallet.balance).toBe(200n);

    const unowned = await issueCard(svc.api, { amount: 700n });
    expect(await accessOf(db, (await transfer(unowned, { amount: 200n })).giftCardId)).toEqual([]);
  });

  it('makes the new card its owner’s preferred one when it replaces a preferred source', async () => {
    const owner = `transfer-preferring-${process.pid}`;
    const kept = await issueCard(svc.api, { amount: 700n, userId: owner });
    await preferCard(svc.api, kept.giftCardId, owner);
    await transfer(kept, { amount: 200n });
    expect(await preferredCardOf(db, owner)).toBe(kept.giftCardId);

    const replaced = await transfer(kept, { delete: true });
    expect(await preferredCardOf(db, owner)).toBe(replaced.giftCardId);
  });

  it('applies a repeated request once and answers with the same new card', async () => {
    const source = await issueCard(svc.api, { amount: 1_000n });
    const request = { idempotencyKey: newKey(), ...credentialsOf(source), amount: 250n, currency: 'USD' };
    const responses = await Promise.all(Array.from({ length: 5 }, () => svc.api.balanceTransfer(request)));
    for (const response of responses) expect(response).toEqual(responses[0]);
    expect(await svc.api.balanceTransfer(request)).toEqual(responses[0]);
    expect((await svc.api.balanceInquiry(credentialsOf(source))).balance).toBe(750n);
    expect(await entryCountOf(db, source.giftCardId)).toBe(2);
  });

  it('lets only one of two concurrent deleting transfers of one card move its balance', async () => {
    const source = await issueCard(svc.api, { amount: 1_000n });
    const outcomes = await Promise.all([
      settle(transfer(source, { delete: true })),
      settle(transfer(source, { delete: true })),
    ]);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.flatMap((o) => (o.ok ? [] : [o.error.reason]))).toEqual(['CARD_NOT_ACTIVE']);
  });
});

describe('BalanceTransfer by the owner’s saved card', () => {
  it('moves the amount from a card its owner names by id; the new card is saved to them', async () => {
    const owner = `owner-${newKey()}`;
    const card = await issueCard(svc.api, { amount: 5_000n, userId: owner });
    const result = await svc.api.balanceTransfer({
      idempotencyKey: newKey(),
      giftCardId: card.giftCardId,
      userId: owner,
      amount: 1_500n,
      currency: 'USD',
    });
    expect(result).toMatchObject({ balance: 1_500n, sourceGiftCardId: card.giftCardId, sourceBalance: 3_500n });
    expect(result.cardNumber).toMatch(/^\d{16}$/);
    expect(await accessOf(db, result.giftCardId)).toEqual([[owner, 'OWNER']]);
    expect((await svc.api.balanceInquiry({ giftCardId: result.giftCardId, userId: owner })).balance).toBe(1_500n);
  });

  it('is refused to a user the card is only shared with, and to anybody else, moving nothing', async () => {
    const [owner, friend] = [`owner-${newKey()}`, `friend-${newKey()}`];
    const card = await issueCard(svc.api, { amount: 5_000n, userId: owner });
    await shareCard(svc.api, card.giftCardId, owner, friend);
    const byFriend = svc.api.balanceTransfer({
      idempotencyKey: newKey(),
      giftCardId: card.giftCardId,
      userId: friend,
      amount: 100n,
      currency: 'USD',
    });
    expect(await rpcError(byFriend)).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'NOT_CARD_OWNER' });
    const byStranger = svc.api.balanceTransfer({
      idempotencyKey: newKey(),
      giftCardId: card.giftCardId,
      userId: `stranger-${newKey()}`,
      amount: 100n,
      currency: 'USD',
    });
    expect(await rpcError(byStranger)).toMatchObject({ code: status.NOT_FOUND, reason: 'CARD_NOT_FOUND' });
    expect(await entryCountOf(db, card.giftCardId)).toBe(1);
  });

  it('replays the new card’s number and passcode to the owner only while they still own the source', async () => {
    const [owner, recipient] = [`owner-${newKey()}`, `recipient-${newKey()}`];
    const card = await issueCard(svc.api, { amount: 5_000n, userId: owner });
    const request = {
      idempotencyKey: newKey(),
      giftCardId: card.giftCardId,
      userId: owner,
      amount: 100n,
      currency: 'USD',
    };
    const first = await svc.api.balanceTransfer(request);
    expect(await svc.api.balanceTransfer(request)).toEqual(first);
    await svc.api.giftDigitalCard({
      idempotencyKey: newKey(),
      userId: owner,
      recipientUserId: recipient,
      giftCardId: card.giftCardId,
    });
    expect(await rpcError(svc.api.balanceTransfer(request))).toMatchObject({
      code: status.NOT_FOUND,
      reason: 'CARD_NOT_FOUND',
    });
  });
});
