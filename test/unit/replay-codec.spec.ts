import {
  canonicalize,
  decodeResult,
  encodeResult,
  splitCardSecrets,
  withAvailableBalances,
  withoutPasscodes,
} from '../../src/application/replay-codec';

/** canonicalize as every stored fingerprint was computed: the oracle its hand-written form must match. */
function replacerCanonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${v.toString()}n`;
    if (v instanceof Date) return v.toISOString();
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/** A small deterministic generator (xorshift), so a failure names a seed that reproduces it. */
function randomValue(seed: number): unknown {
  let state = Math.imul(seed, 2654435761) || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  // A small seed's first draws are tiny: spread it out first.
  for (let i = 0; i < 8; i++) next();
  const names = ['amount', 'card', 'kind', 'b', 'a', '10', '2', '0', '01', 'Z', 'é', '__proto__x', 'x y', '"q"', ''];
  const leaf = (): unknown => {
    const pick = Math.floor(next() * 13);
    return [
      () => BigInt(Math.floor(next() * 1e6)) * (next() < 0.5 ? -1n : 1n) * 10n ** 12n,
      () => Math.floor(next() * 1e6) / 100,
      () => (next() < 0.5 ? NaN : -0),
      () => next() < 0.5,
      () => null,
      () => undefined,
      () => `s\u00e9\n"${Math.floor(next() * 100)}\u2028`,
      () => new Date(Math.floor(next() * 2e12)),
      () => new Date(NaN),
      () => '',
      () => Buffer.from([1, 2, 3]),
      () => new Uint8Array([9, 8]),
      () => () => 1,
    ][pick]!();
  };
  const build = (depth: number): unknown => {
    const roll = next();
    if (depth > 3 || roll < 0.4) return leaf();
    if (roll < 0.55) return Array.from({ length: Math.floor(next() * 4) }, () => build(depth + 1));
    const object: Record<string, unknown> = {};
    for (let i = Math.floor(next() * 6); i > 0; i--)
      object[names[Math.floor(next() * names.length)]!] = build(depth + 1);
    return object;
  };
  return { operation: 'Redeem', payload: build(0) };
}

describe('replay codec', () => {
  it('writes exactly the canonical text every stored fingerprint was computed from', () => {
    const redeem = {
      operation: 'Redeem',
      payload: {
        card: { kind: 'credentials', cardNumber: '4111111111111111' },
        amountMinor: 5n,
        currency: 'USD',
        orderId: null,
        allowPartial: false,
        when: new Date('2026-05-01T12:00:00.123Z'),
      },
    };
    expect(canonicalize(redeem)).toBe(replacerCanonical(redeem));
    for (let seed = 1; seed <= 2_000; seed++) {
      const value = randomValue(seed);
      expect([seed, canonicalize(value)]).toEqual([seed, replacerCanonical(value)]);
    }
  });

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
