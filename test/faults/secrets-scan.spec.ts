import { secretsIn } from './support/secrets-scan';

describe('The secret scanner the leak checks rely on', () => {
  const secrets = new Set(['4111111111111111', '12345678']);

  it('finds a card number anywhere in a run of digits and a passcode standing on its own', () => {
    expect(secretsIn('{"card":"4111111111111111"}', secrets)).toEqual(['************1111']);
    expect(secretsIn('x94111111111111111x', secrets)).toEqual(['************1111']);
    expect(secretsIn('{"passcode":"12345678"}', secrets)).toEqual(['****5678']);
    expect(secretsIn(Buffer.from('\u0000\u000112345678\u0002', 'latin1').toString('latin1'), secrets)).toEqual([
      '****5678',
    ]);
  });

  it('does not take a passcode-like run inside a longer id for a leak', () => {
    expect(secretsIn('a12345678b-9f00 112345678 2025-11-25T12:34:56.789Z', secrets)).toEqual([]);
  });
});
