import { status } from '@grpc/grpc-js';
import { generateCardNumber } from '../../src/domain/card-number';
import { credentialsOf, issueCard } from '../support/builders';
import { useTestService } from '../support/integration-hooks';
import { rpcError, type DecodedRpcError } from '../support/rpc-error';
import type { TestService } from '../support/test-service';

/**
 * Issue 10, point 4: whether a card number exists must not show. The attack: an unknown number
 * never locked while a known one did after 5 guesses, and a wrong guess at a known card took about
 * 0.7 ms longer (it wrote the failure; the unknown number wrote nothing).
 */
let svc: TestService;

useTestService((started) => {
  ({ svc } = started);
});

const COOLDOWN_MS = 900_000;
const wrongPasscode = (passcode: string, offset = 1): string =>
  ((Number(passcode) + offset) % 100_000_000).toString().padStart(8, '0');
const guess = (cardNumber: string, passcode: string) => rpcError(svc.api.balanceInquiry({ cardNumber, passcode }));
const reasonsOf = (errors: DecodedRpcError[]) => errors.map((e) => e.reason);

describe('Card existence', () => {
  it('locks an unknown number after 5 wrong guesses, exactly as it locks a known card', async () => {
    const card = await issueCard(svc.api);
    const unknown = generateCardNumber();
    const known: DecodedRpcError[] = [];
    const unknowns: DecodedRpcError[] = [];
    for (let i = 1; i <= 7; i++) {
      known.push(await guess(card.cardNumber, wrongPasscode(card.passcode, i)));
      unknowns.push(await guess(unknown, wrongPasscode(card.passcode, i)));
    }
    const expected = [...Array<string>(5).fill('INVALID_CARD_CREDENTIALS'), 'PASSCODE_LOCKED', 'PASSCODE_LOCKED'];
    expect(reasonsOf(known)).toEqual(expected);
    expect(reasonsOf(unknowns)).toEqual(expected);
    expect(unknowns[6]).toEqual({ ...known[6], metadata: unknowns[6]!.metadata });
  });

  it('judges 5 of 20 parallel guesses at an unknown number, as at a known card', async () => {
    const card = await issueCard(svc.api);
    const unknown = generateCardNumber();
    for (const cardNumber of [card.cardNumber, unknown]) {
      const reasons = reasonsOf(
        await Promise.all(Array.from({ length: 20 }, (_, i) => guess(cardNumber, wrongPasscode(card.passcode, i + 1)))),
      );
      expect(reasons.filter((r) => r === 'INVALID_CARD_CREDENTIALS')).toHaveLength(5);
      expect(reasons.filter((r) => r === 'PASSCODE_LOCKED')).toHaveLength(15);
    }
  });

  it('tells a refused caller to wait a full cool-down from its own call, not when the fifth guess was made', async () => {
    const card = await issueCard(svc.api);
    for (let i = 1; i <= 5; i++) await guess(card.cardNumber, wrongPasscode(card.passcode, i));
    // Long enough that the fifth guess's time and this call's time cannot be mistaken for each other.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const sentAt = Date.now();
    const refused = await rpcError(svc.api.balanceInquiry(credentialsOf(card)));
    const answeredAt = Date.now();
    expect(refused).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'PASSCODE_LOCKED' });
    const retryAfter = Date.parse(refused.metadata.retryAfter ?? '');
    expect(retryAfter).toBeGreaterThanOrEqual(sentAt + COOLDOWN_MS);
    expect(retryAfter).toBeLessThanOrEqual(answeredAt + COOLDOWN_MS);
    expect(refused.retryDelayMs).toBe(COOLDOWN_MS);
  });
});
