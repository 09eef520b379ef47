import {
  canonicalize,
  decodeResult,
  encodeResult,
  splitCardSecrets,
  withAvailableBalances,
  withoutPasscodes,
} from '../../src/application/replay-codec';

describe('replay codec', () => {
  it('round-trips bigints beyond 2^53 and dates exactly', () => {
    const value = { balance: 2n ** 63n - 1n, when: new Date('2026-05-01T12:00:00.123Z'), nested: { n: -5n }, s: 'x' };
    expect(decodeResult(encodeResult(value))).toEqual(value);
  });

  it('gives the same canonical text whatever the key order', () => {
    expect(canonicalize({ b: 1n, a: { d: 'x', c: null } })).toBe(canonicalize({ a: { c: null, d: 'x' }, b: 1n }));
    expect(canonicalize({ amount: 1n })).not.toBe(canonicalize({ amount: 1 }));
  });

  it('leaves every passcode, at any depth, out of what a fingerprint covers', () => {
    const redeem = { card: { kind: 'credentials', cardNumber: '4111111111111111', passcode: '12345678' }, amount: 5n };
    const { rest, hadPasscode } = withoutPasscodes(redeem);
    expect(hadPasscode).toBe(true);
    expect(rest).toEqual({ card: { kind: 'credentials', cardNumber: '4111111111111111' }, amount: 5n });
    expect(canonicalize(withoutPasscodes({ ...redeem, card: { ...redeem.card, passcode: '87654321' } }).rest)).toBe(
      canonicalize(rest),
    );
    expect(withoutPasscodes({ giftCardId: 'g', userId: 'u', when: new Date(0) })).toEqual({
      rest: { giftCardId: 'g', userId: 'u', when: new Date(0) },
      hadPasscode: false,
    });
  });

  it('seals a new card’s number and passcode apart, leaving the reply its shape', () => {
    const issued = { giftCardId: 'g', cardNumber: '4111111111111111', passcode: '12345678', balanceMinor: 5n };
    expect(splitCardSecrets(issued)).toEqual({
      rest: { giftCardId: 'g', cardNumber: '', passcode: '', balanceMinor: 5n },
      secrets: { cardNumber: '4111111111111111', passcode: '12345678' },
    });
    const handedOver = { giftCardId: 'g', cardNumber: null, passcode: null };
    expect(splitCardSecrets(handedOver)).toEqual({ rest: handedOver, secrets: null });
  });

  it('gives a result stored before holds existed available balances equal to its balances', () => {
    const stored = decodeResult(encodeResult({ transactionId: 't', balanceMinor: 700n, sourceBalanceMinor: 5n }));
    expect(withAvailableBalances(stored)).toEqual({
      transactionId: 't',
      balanceMinor: 700n,
      availableMinor: 700n,
      sourceBalanceMinor: 5n,
      sourceAvailableMinor: 5n,
    });
  });

  it('leaves a result that already has its available balances as it was stored', () => {
    const stored = { balanceMinor: 700n, availableMinor: 200n };
    expect(withAvailableBalances(stored)).toEqual(stored);
  });
});
