import {
  generateCardNumber,
  generatePasscode,
  isLuhnValid,
  luhnCheckDigit,
  maskCardNumber,
} from '../../src/domain/card-number';

describe('card numbers', () => {
  it('computes the Luhn check digit of a known number', () => {
    // 4111 1111 1111 1111 is the canonical Luhn-valid test number.
    expect(luhnCheckDigit('411111111111111')).toBe(1);
    expect(isLuhnValid('4111111111111111')).toBe(true);
  });

  it('rejects a number whose last digit is not its check digit', () => {
    expect(isLuhnValid('4111111111111112')).toBe(false);
    expect(isLuhnValid('79927398710')).toBe(false);
    expect(isLuhnValid('79927398713')).toBe(true);
  });

  it('generates 16-digit numbers that pass the Luhn check and differ from each other', () => {
    const numbers = Array.from({ length: 500 }, generateCardNumber);
    for (const number of numbers) {
      expect(number).toMatch(/^\d{16}$/);
      expect(isLuhnValid(number)).toBe(true);
    }
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it('generates 8-digit passcodes', () => {
    for (let i = 0; i < 100; i++) expect(generatePasscode()).toMatch(/^\d{8}$/);
  });

  it('masks all but the last four digits', () => {
    expect(maskCardNumber('1234')).toBe('************1234');
  });
});
