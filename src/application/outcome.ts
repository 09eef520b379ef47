import type { DomainError } from '../domain/errors';

/**
 * What a unit of work returns. A rejection is returned, not thrown, when the transaction must
 * still commit: a wrong passcode has to count towards the lockout even though the call fails.
 */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: DomainError };

export const accepted = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const rejected = <T = never>(error: DomainError): Outcome<T> => ({ ok: false, error });
