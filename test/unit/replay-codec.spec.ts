import { canonicalize, decodeResult, encodeResult } from '../../src/application/replay-codec';

describe('replay codec', () => {
  it('round-trips bigints beyond 2^53 and dates exactly', () => {
    const value = { balance: 2n ** 63n - 1n, when: new Date('2026-05-01T12:00:00.123Z'), nested: { n: -5n }, s: 'x' };
    expect(decodeResult(encodeResult(value))).toEqual(value);
  });

  it('gives the same canonical text whatever the key order', () => {
    expect(canonicalize({ b: 1n, a: { d: 'x', c: null } })).toBe(canonicalize({ a: { c: null, d: 'x' }, b: 1n }));
    expect(canonicalize({ amount: 1n })).not.toBe(canonicalize({ amount: 1 }));
  });
});
