import type { GiftCard } from '../domain/gift-card';
import { availableMinor } from '../domain/gift-card';
import type { EntryType, LedgerEntry, StoredLedgerEntry } from '../domain/ledger-entry';
import type { Minor } from '../domain/money';
import { sealReply, type RequestFingerprint } from './idempotency';
import type { AppContext, RecordWrite, ScopedKey } from './ports';

/** A balance change on one card as its rule decided it: the card after it, its entry, and the reply. */
export interface Posted<R> {
  readonly card: GiftCard;
  readonly type: EntryType;
  /** Signed: positive credits, negative debits. */
  readonly amountMinor: Minor;
  readonly externalRef: string | null;
  /** For a refund, the internal id of the redemption entry it gives back. */
  readonly refundOfEntryId?: bigint;
  readonly reply: R;
}

/**
 * An operation's rule, run against the card under its row lock, settled, at `now`. It refuses by
 * throwing a DomainError; `entryId` is the public id its entry will have (the reply names it).
 */
export type Decide<R> = (card: GiftCard, now: Date, entryId: string) => Posted<R>;

/** A refund's rule, against the locked redemption, what was given back of it, and its locked card. */
export type DecideRefund<R> = (
  redemption: StoredLedgerEntry,
  givenBackMinor: Minor,
  card: GiftCard,
  now: Date,
  entryId: string,
) => Posted<R>;

/** The ledger entry a decided change writes. */
export function entryOf(posted: Posted<unknown>, entryId: string, operationId: string, now: Date): LedgerEntry {
  return {
    publicId: entryId,
    cardId: posted.card.id,
    operationId,
    type: posted.type,
    amountMinor: posted.amountMinor,
    balanceAfterMinor: posted.card.balanceMinor,
    availableAfterMinor: availableMinor(posted.card),
    currency: posted.card.currency,
    externalRef: posted.externalRef,
    refundOfEntryId: posted.refundOfEntryId ?? null,
    holdId: null,
    reversesEntryId: null,
    createdAt: now,
  };
}

/** The key's record a decided change writes first, with its sealed reply. */
export function recordOf(
  ctx: AppContext,
  key: ScopedKey,
  fingerprint: RequestFingerprint,
  operationId: string,
  now: Date,
  reply: unknown,
): RecordWrite {
  return {
    key,
    rpc: fingerprint.request.operation,
    fingerprint: fingerprint.current,
    operationId,
    now,
    expiresAt: new Date(now.getTime() + ctx.limits.idempotencyRetentionMs),
    reply: sealReply(ctx, reply),
  };
}
