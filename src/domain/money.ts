import { DomainError, ErrorReason } from './errors';

/** Amounts are always integer minor units held in a bigint; a JS number never holds money. */
export type Minor = bigint;

const isoCurrencies: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

export function isKnownCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && isoCurrencies.has(code);
}

export function assertSameCurrency(cardCurrency: string, requested: string): void {
  if (cardCurrency !== requested) {
    throw new DomainError(ErrorReason.CURRENCY_MISMATCH, `card is in ${cardCurrency}, request is in ${requested}`, {
      cardCurrency,
      requestedCurrency: requested,
    });
  }
}

export function assertWithinMaximum(balanceMinor: Minor, maxBalanceMinor: Minor): void {
  if (balanceMinor > maxBalanceMinor) {
    throw new DomainError(
      ErrorReason.BALANCE_LIMIT_EXCEEDED,
      `balance would be ${balanceMinor}, above the maximum of ${maxBalanceMinor}`,
      { maxBalance: maxBalanceMinor.toString() },
    );
  }
}
