import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { GiftCardRole, GiftCardStatus } from '../../gen/giftcard/v1/gift_card';
import type { IssueVirtualCardResponse } from '../../gen/giftcard/v1/gift_card_service';
import { issueCard, newKey } from '../support/builders';
import { rpcError } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';
import { listAll, newUserId, saveCard } from '../support/wallet';

let svc: TestService;

useTestService((started) => {
  ({ svc } = started);
});

/** Issues cards saved to the user, a few calls at a time so the run stays gentle on the machine. */
async function savedCards(userId: string, count: number): Promise<IssueVirtualCardResponse[]> {
  const cards: IssueVirtualCardResponse[] = [];
  while (cards.length < count) {
    const batch = Math.min(10, count - cards.length);
    cards.push(...(await Promise.all(Array.from({ length: batch }, () => issueCard(svc.api, { userId })))));
  }
  return cards;
}

/** Flips one character of a token to another of the base64url alphabet. */
function flipCharacter(token: string, at: number): string {
  const replacement = token[at] === 'A' ? 'B' : 'A';
  return token.slice(0, at) + replacement + token.slice(at + 1);
}

describe('ListGiftCards', () => {
  describe('with 250 saved cards', () => {
    const user = newUserId('collector');
    let issued: IssueVirtualCardResponse[];

    beforeAll(async () => {
      issued = await savedCards(user, 250);
    });

    it('pages through all of them exactly once with the page token, in a stable order', async () => {
      const pages: string[][] = [];
      let pageToken = '';
      do {
        const page = await svc.api.listGiftCards({ userId: user, pageSize: 100, pageToken });
        pages.push(page.giftCards.map((card) => card.giftCardId));
        pageToken = page.nextPageToken;
      } while (pageToken !== '' && pages.length < 10);
      expect(pages.map((page) => page.length)).toEqual([100, 100, 50]);
      const seen = pages.flat();
      expect(new Set(seen).size).toBe(250);
      expect([...seen].sort()).toEqual(issued.map((card) => card.giftCardId).sort());
      expect((await listAll(svc.api, user, 7)).map((card) => card.giftCardId)).toEqual(seen);
    });

    it('uses 50 as the default page size', async () => {
      const page = await svc.api.listGiftCards({ userId: user });
      expect(page.giftCards).toHaveLength(50);
      expect(page.nextPageToken).not.toBe('');
    });

    it('gives no next page token when the last page is exactly full', async () => {
      const first = await svc.api.listGiftCards({ userId: user, pageSize: 100 });
      const second = await svc.api.listGiftCards({ userId: user, pageSize: 100, pageToken: first.nextPageToken });
      const last = await svc.api.listGiftCards({ userId: user, pageSize: 50, pageToken: second.nextPageToken });
      expect(last.giftCards).toHaveLength(50);
      expect(last.nextPageToken).toBe('');
    });

    it('refuses a tampered page token with INVALID_ARGUMENT naming pageToken, never INTERNAL', async () => {
      const { nextPageToken } = await svc.api.listGiftCards({ userId: user, pageSize: 10 });
      const forgedPosition = Buffer.from(JSON.stringify({ p: 'ListGiftCards/v2', s: user, a: ['1'] })).toString(
        'base64url',
      );
      const tampered = [
        flipCharacter(nextPageToken, 0),
        flipCharacter(nextPageToken, Math.floor(nextPageToken.length / 2)),
        flipCharacter(nextPageToken, nextPageToken.length - 1),
        nextPageToken.slice(0, -1),
        nextPageToken.slice(0, 20),
        `${nextPageToken}A`,
        `${nextPageToken}==`,
        nextPageToken.replace(/[A-Za-z0-9]/, '+'),
        forgedPosition,
        randomBytes(72).toString('base64url'),
        'A',
        'not a token!',
        'x'.repeat(513),
      ];
      for (const pageToken of tampered) {
        const error = await rpcError(svc.api.listGiftCards({ userId: user, pageSize: 10, pageToken }));
        expect({ pageToken, code: error.codeName, fields: error.fieldViolations.map((v) => v.field) }).toEqual({
          pageToken,
          code: 'INVALID_ARGUMENT',
          fields: ['pageToken'],
        });
      }
    });

    it('refuses a page token issued to another user', async () => {
      const { nextPageToken } = await svc.api.listGiftCards({ userId: user, pageSize: 10 });
      const error = await rpcError(svc.api.listGiftCards({ userId: newUserId(), pageToken: nextPageToken }));
      expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
      expect(error.fieldViolations.map((v) => v.field)).toEqual(['pageToken']);
    });
  });

  it('lists owned and shared cards with role, preferred, balance, status and expiry, and masked numbers only', async () => {
    const [user, owner] = [newUserId('user'), newUserId('owner')];
    const expireTime = new Date(Date.now() + 86_400_000);
    const own = await issueCard(svc.api, { amount: 1_234n, currency: 'EUR', userId: user, expireTime });
    const friends = await issueCard(svc.api, { amount: 99n, userId: owner });
    await svc.api.shareGiftCard({ userId: owner, giftCardId: friends.giftCardId, recipientUserId: user });
    await svc.api.updateGiftCard({ userId: user, giftCardId: friends.giftCardId, preferred: true });
    const page = await svc.api.listGiftCards({ userId: user });
    expect(page).toEqual({
      giftCards: [
        {
          giftCardId: own.giftCardId,
          maskedCardNumber: `************${own.cardNumber.slice(-4)}`,
          balance: 1_234n,
          currency: 'EUR',
          status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE,
          role: GiftCardRole.GIFT_CARD_ROLE_OWNER,
          preferred: false,
          expireTime,
        },
        {
          giftCardId: friends.giftCardId,
          maskedCardNumber: `************${friends.cardNumber.slice(-4)}`,
          balance: 99n,
          currency: 'USD',
          status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE,
          role: GiftCardRole.GIFT_CARD_ROLE_SHARED,
          preferred: true,
          expireTime: undefined,
        },
      ],
      nextPageToken: '',
    });
    const wire = JSON.stringify(page, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));
    for (const secret of [own.cardNumber, own.passcode, friends.cardNumber, friends.passcode]) {
      expect(wire).not.toContain(secret);
    }
  });

  it('shows the current balance of each card', async () => {
    const user = newUserId();
    const card = await issueCard(svc.api, { amount: 1_000n, userId: user });
    await svc.api.redeem({
      idempotencyKey: newKey(),
      giftCardId: card.giftCardId,
      userId: user,
      amount: 400n,
      currency: 'USD',
    });
    expect((await listAll(svc.api, user)).map((c) => c.balance)).toEqual([600n]);
  });

  it('shows a card saved while paging on a later page, and no card twice', async () => {
    const user = newUserId();
    // One at a time, so their order in the wallet is the order they were issued in.
    const before: IssueVirtualCardResponse[] = [];
    for (let i = 0; i < 3; i++) before.push(await issueCard(svc.api, { userId: user }));
    const first = await svc.api.listGiftCards({ userId: user, pageSize: 2 });
    const late = await issueCard(svc.api);
    await saveCard(svc.api, user, late);
    const rest = await svc.api.listGiftCards({ userId: user, pageSize: 100, pageToken: first.nextPageToken });
    const seen = [...first.giftCards, ...rest.giftCards].map((card) => card.giftCardId);
    expect(seen).toEqual([...before.map((card) => card.giftCardId), late.giftCardId]);
  });

  it('lists nothing, with no next page token, for a user with an empty wallet', async () => {
    expect(await svc.api.listGiftCards({ userId: newUserId() })).toEqual({ giftCards: [], nextPageToken: '' });
  });

  it.each([-1, 101, 2 ** 31 - 1, -(2 ** 31)])('refuses pageSize %p with INVALID_ARGUMENT', async (pageSize) => {
    const error = await rpcError(svc.api.listGiftCards({ userId: newUserId(), pageSize }));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['pageSize']);
  });

  it('requires a userId', async () => {
    const error = await rpcError(svc.api.listGiftCards({}));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['userId']);
  });
});
