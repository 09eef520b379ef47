import { status } from '@grpc/grpc-js';
import { GiftCardStatus } from '../../gen/giftcard/v1/gift_card';
import { generateCardNumber } from '../../src/domain/card-number';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { rpcError } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';

let svc: TestService;

useTestService((started) => {
  ({ svc } = started);
});

const wrongPasscode = (passcode: string): string => ((Number(passcode) + 1) % 100_000_000).toString().padStart(8, '0');

describe('BalanceInquiry', () => {
  it('reports balance, currency and status with only the last four digits of the number', async () => {
    const card = await issueCard(svc.api, { amount: 4_200n, currency: 'EUR' });
    const view = await svc.api.balanceInquiry(credentialsOf(card));
    expect(view).toMatchObject({
      giftCardId: card.giftCardId,
      balance: 4_200n,
      currency: 'EUR',
      status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE,
      maskedCardNumber: `************${card.cardNumber.slice(-4)}`,
    });
    expect(JSON.stringify(view, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).not.toContain(
      card.cardNumber,
    );
  });

  it('requires exactly one way of naming the card', async () => {
    const card = await issueCard(svc.api);
    const neither = await rpcError(svc.api.balanceInquiry({}));
    expect(neither.code).toBe(status.INVALID_ARGUMENT);
    const both = await rpcError(
      svc.api.balanceInquiry({ ...credentialsOf(card), giftCardId: card.giftCardId, userId: 'someone' }),
    );
    expect(both.code).toBe(status.INVALID_ARGUMENT);
  });
});

describe('Card credentials', () => {
  it('refuses a wrong passcode with PERMISSION_DENIED and INVALID_CARD_CREDENTIALS', async () => {
    const card = await issueCard(svc.api);
    const error = await rpcError(
      svc.api.balanceInquiry({ cardNumber: card.cardNumber, passcode: wrongPasscode(card.passcode) }),
    );
    expect(error).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'INVALID_CARD_CREDENTIALS' });
  });

  it('answers a wrong card number exactly as it answers a wrong passcode', async () => {
    const card = await issueCard(svc.api);
    const wrongNumber = await rpcError(
      svc.api.balanceInquiry({ cardNumber: generateCardNumber(), passcode: card.passcode }),
    );
    const wrongCode = await rpcError(
      svc.api.balanceInquiry({ cardNumber: card.cardNumber, passcode: wrongPasscode(card.passcode) }),
    );
    expect(wrongNumber).toEqual(wrongCode);
  });

  it('locks the card for the cool-down after 5 wrong passcodes, even against the right one', async () => {
    const card = await issueCard(svc.api);
    for (let i = 0; i < 5; i++) {
      const error = await rpcError(
        svc.api.redeem({
          idempotencyKey: newKey(),
          cardNumber: card.cardNumber,
          passcode: wrongPasscode(card.passcode),
          amount: 1n,
          currency: 'USD',
        }),
      );
      expect(error.reason).toBe('INVALID_CARD_CREDENTIALS');
    }
    const locked = await rpcError(svc.api.balanceInquiry(credentialsOf(card)));
    expect(locked).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'PASSCODE_LOCKED' });
  });

  it('lets the right passcode reset the count of wrong ones', async () => {
    const card = await issueCard(svc.api);
    const guess = () =>
      rpcError(svc.api.balanceInquiry({ cardNumber: card.cardNumber, passcode: wrongPasscode(card.passcode) }));
    for (let i = 0; i < 4; i++) await guess();
    await svc.api.balanceInquiry(credentialsOf(card));
    for (let i = 0; i < 4; i++) expect((await guess()).reason).toBe('INVALID_CARD_CREDENTIALS');
    expect((await svc.api.balanceInquiry(credentialsOf(card))).balance).toBe(10_000n);
  });

  it('counts 20 parallel wrong guesses under the row lock, so no more than 5 are ever judged', async () => {
    const card = await issueCard(svc.api);
    const errors = await Promise.all(
      Array.from({ length: 20 }, () =>
        rpcError(svc.api.balanceInquiry({ cardNumber: card.cardNumber, passcode: wrongPasscode(card.passcode) })),
      ),
    );
    const reasons = errors.map((e) => e.reason);
    expect(reasons.filter((r) => r === 'INVALID_CARD_CREDENTIALS')).toHaveLength(5);
    expect(reasons.filter((r) => r === 'PASSCODE_LOCKED')).toHaveLength(15);
  });

  it('refuses a malformed card number or passcode as INVALID_ARGUMENT, not as wrong credentials', async () => {
    const error = await rpcError(svc.api.balanceInquiry({ cardNumber: '4111111111111112', passcode: '1234' }));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.fieldViolations.map((v) => v.field).sort()).toEqual(['cardNumber', 'passcode']);
  });
});
