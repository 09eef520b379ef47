import { randomInt } from 'node:crypto';

export const CARD_NUMBER_LENGTH = 16;
export const PASSCODE_LENGTH = 8;

/** Luhn check digit for a string of digits that does not yet carry one. */
export function luhnCheckDigit(payload: string): number {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    // Double every second digit counting from the right of the payload, where the check digit follows.
    let digit = Number(payload[payload.length - 1 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return (10 - (sum % 10)) % 10;
}

export function isLuhnValid(number: string): boolean {
  if (!/^\d{2,}$/.test(number)) return false;
  return luhnCheckDigit(number.slice(0, -1)) === Number(number[number.length - 1]);
}

function randomDigits(count: number): string {
  let digits = '';
  for (let i = 0; i < count; i++) digits += randomInt(10).toString();
  return digits;
}

/** A fresh card number from the CSPRNG; uniqueness is enforced by the database's unique index. */
export function generateCardNumber(): string {
  const payload = randomDigits(CARD_NUMBER_LENGTH - 1);
  return payload + luhnCheckDigit(payload).toString();
}

export function generatePasscode(): string {
  return randomDigits(PASSCODE_LENGTH);
}

export function lastFour(cardNumber: string): string {
  return cardNumber.slice(-4);
}

export function maskCardNumber(last4: string): string {
  return '*'.repeat(CARD_NUMBER_LENGTH - last4.length) + last4;
}
