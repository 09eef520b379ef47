import { isLuhnValid } from '../domain/card-number';
import { invalidArgument, type FieldViolation } from '../domain/errors';
import { isKnownCurrency } from '../domain/money';
import type { CardReference } from '../application/card-reference';
import type { Duration } from '../../gen/google/protobuf/duration';

/** SPEC §5: an idempotency key is 1 to 64 printable characters. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 64;
/** External references and user ids fit the columns that store them. */
export const MAX_REFERENCE_LENGTH = 128;
export const MAX_USER_ID_LENGTH = 128;
/** An operator's block or unblock reason: a sentence or a case number, as card_status_change.reason holds. */
export const MAX_STATUS_REASON_LENGTH = 256;
/** An adjustment's note for the audit, as balance_adjustment.note holds. */
export const MAX_ADJUSTMENT_NOTE_LENGTH = 512;
/** AIP-158 list paging: 0 asks for the default; more than the maximum is refused, not clamped. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;
/** A hold shorter than this would lapse while its answer is still on the wire. */
export const MIN_HOLD_DURATION_MS = 1_000;
/** Page tokens this service writes are about 100 characters; anything far longer is not one. */
const MAX_PAGE_TOKEN_LENGTH = 512;
/** DATETIME holds years up to 9999; later instants cannot be stored. */
const LATEST_STORABLE_TIME_MS = Date.UTC(9999, 11, 31);

const PRINTABLE_ASCII = /^[\x20-\x7E]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The card-naming fields every request on an existing card carries (SPEC §4a). */
export interface CardNamingFields {
  readonly cardNumber: string;
  readonly passcode: string;
  readonly giftCardId: string;
  readonly userId: string;
}

/**
 * Collects every problem with a request before any of it is used, so a caller learns all of them
 * at once; check() then throws INVALID_ARGUMENT with one BadRequest violation per field.
 * Fields are named by their JSON names (`sourceTransactionId`), as REST, grpcurl and ts-proto
 * callers write them (google.rpc.BadRequest allows either form).
 */
export class RequestFields {
  private readonly violations: FieldViolation[] = [];

  violation(field: string, description: string): void {
    this.violations.push({ field, description });
  }

  check(): void {
    if (this.violations.length > 0) throw invalidArgument(this.violations);
  }

  idempotencyKey(value: string): string {
    if (value.length === 0) this.violation('idempotencyKey', 'is required');
    else this.exactKey('idempotencyKey', value, MAX_IDEMPOTENCY_KEY_LENGTH);
    return value;
  }

  /** An idempotency key where the operation accepts one without requiring it. */
  optionalIdempotencyKey(value: string): string | null {
    if (value.length === 0) return null;
    this.exactKey('idempotencyKey', value, MAX_IDEMPOTENCY_KEY_LENGTH);
    return value;
  }

  positiveAmount(field: string, value: bigint): bigint {
    if (value <= 0n) this.violation(field, 'must be greater than zero');
    return value;
  }

  currency(field: string, value: string): string {
    if (value.length === 0) this.violation(field, 'is required');
    else if (!isKnownCurrency(value)) this.violation(field, 'must be an ISO-4217 currency code such as USD');
    return value;
  }

  text(field: string, value: string, maxLength: number): string {
    if (value.length === 0) this.violation(field, 'is required');
    else this.printable(field, value, maxLength);
    return value;
  }

  optionalText(field: string, value: string, maxLength: number): string | null {
    if (value.length === 0) return null;
    this.printable(field, value, maxLength);
    return value;
  }

  userId(field: string, value: string): string {
    if (value.length === 0) this.violation(field, 'is required');
    else this.exactKey(field, value, MAX_USER_ID_LENGTH);
    return value;
  }

  optionalUserId(field: string, value: string): string | null {
    if (value.length === 0) return null;
    this.exactKey(field, value, MAX_USER_ID_LENGTH);
    return value;
  }

  /** A page_size as AIP-158 reads it: 0 is the default, negative or above the maximum is refused. */
  pageSize(field: string, value: number): number {
    if (value === 0) return DEFAULT_PAGE_SIZE;
    if (value < 0 || value > MAX_PAGE_SIZE) this.violation(field, `must be from 0 to ${MAX_PAGE_SIZE}`);
    return value;
  }

  /** Only the shape here; what the token says is checked where it is opened (application/page-token.ts). */
  optionalPageToken(field: string, value: string): string | null {
    if (value.length === 0) return null;
    if (value.length > MAX_PAGE_TOKEN_LENGTH || !BASE64URL.test(value)) {
      this.violation(field, 'is not a page token issued by this service');
    }
    return value;
  }

  publicId(field: string, value: string): string {
    if (value.length === 0) this.violation(field, 'is required');
    else if (!UUID.test(value)) this.violation(field, 'must be an id returned by this service');
    return value;
  }

  cardNumber(field: string, value: string): string {
    if (!/^\d{16}$/.test(value) || !isLuhnValid(value)) this.violation(field, 'must be a 16-digit card number');
    return value;
  }

  passcode(field: string, value: string): string {
    if (!/^\d{8}$/.test(value)) this.violation(field, 'must be 8 digits');
    return value;
  }

  optionalFutureTime(field: string, value: Date | undefined): Date | null {
    if (value === undefined) return null;
    const ms = value.getTime();
    if (Number.isNaN(ms) || ms > LATEST_STORABLE_TIME_MS) {
      this.violation(field, 'must be a valid timestamp before year 10000');
      return null;
    }
    return value;
  }

  /**
   * A google.protobuf.Duration from minMs to maxMs, as whole milliseconds (what the database
   * stores; a sub-millisecond rest is dropped). Unset is null: the caller's default applies.
   */
  optionalDuration(field: string, value: Duration | undefined, minMs: number, maxMs: number): number | null {
    if (value === undefined) return null;
    const { seconds, nanos } = value;
    const wellFormed = seconds >= 0n && Number.isInteger(nanos) && nanos >= 0 && nanos < 1_000_000_000;
    const ms = wellFormed ? seconds * 1_000n + BigInt(Math.trunc(nanos / 1_000_000)) : -1n;
    if (ms < BigInt(minMs) || ms > BigInt(maxMs)) {
      this.violation(field, `must be from ${minMs / 1_000} s to ${maxMs / 1_000} s`);
      return null;
    }
    return Number(ms);
  }

  /** Exactly one of the two ways to name a card (SPEC §2). */
  cardReference(fields: CardNamingFields): CardReference {
    const byCredentials = fields.cardNumber !== '' || fields.passcode !== '';
    const bySavedCard = fields.giftCardId !== '' || fields.userId !== '';
    if (byCredentials && bySavedCard) {
      this.violation('cardNumber', 'name the card by cardNumber + passcode or by giftCardId + userId, not both');
    }
    if (byCredentials || !bySavedCard) {
      return {
        kind: 'credentials',
        cardNumber: this.cardNumber('cardNumber', fields.cardNumber),
        passcode: this.passcode('passcode', fields.passcode),
      };
    }
    return {
      kind: 'saved',
      giftCardId: this.publicId('giftCardId', fields.giftCardId),
      userId: this.userId('userId', fields.userId),
    };
  }

  /**
   * User ids and idempotency keys are compared under MySQL's PAD SPACE collation, where 'bob '
   * equals 'bob': a user id with surrounding spaces would reach another user's cards, and a key
   * would collide with its neighbour, so such values are refused as malformed.
   */
  private exactKey(field: string, value: string, maxLength: number): void {
    this.printable(field, value, maxLength);
    if (value.trim() !== value) this.violation(field, 'must not begin or end with a space');
  }

  private printable(field: string, value: string, maxLength: number): void {
    if (value.length > maxLength) this.violation(field, `must be at most ${maxLength} characters`);
    else if (!PRINTABLE_ASCII.test(value)) this.violation(field, 'must be printable ASCII characters');
  }
}
