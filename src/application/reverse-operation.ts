import { randomUUID } from 'node:crypto';
import { currentKeyScope } from '../call-caller';
import { concurrencyConflict, DomainError, ErrorReason } from '../domain/errors';
import { availableMinor } from '../domain/gift-card';
import { HoldStatus, isExpired, voidHold } from '../domain/hold';
import { HoldEventType } from '../domain/hold-event';
import { EntryType, type StoredLedgerEntry } from '../domain/ledger-entry';
import type { Minor } from '../domain/money';
import {
  reversalNotPossible,
  ReversibleOperation,
  undoIssue,
  undoRedemption,
  undoReload,
  type Undoing,
} from '../domain/reversal';
import { lockBalanceHolder } from './balance-holder';
import { lockHeldCard } from './held-card';
import { statusChanged } from './card-events';
import { recordHoldChanges } from './hold-events';
import { settleLocked, type LockedCard } from './lapsed-holds';
import { saveAndPost } from './ledger-posting';
import {
  IdempotencyKeyTaken,
  RecordFormat,
  type AppContext,
  type IdempotencyRecord,
  type ScopedKey,
  type TransactionScope,
} from './ports';
import { canonicalize, decodeResult, encodeResult } from './replay-codec';

export interface ReverseOperationCommand {
  readonly operation: ReversibleOperation;
  /** The key the caller sent the operation with: only the caller's own keys, as any call's (SPEC §12). */
  readonly idempotencyKey: string;
}

export const ReversalOutcome = {
  /** The call had been applied; it is undone now. */
  REVERSED: 'REVERSED',
  /** No call with the key had been applied; the key now refuses a late one. */
  NOT_FOUND: 'NOT_FOUND',
} as const;
export type ReversalOutcome = (typeof ReversalOutcome)[keyof typeof ReversalOutcome];

export interface ReversalResult {
  readonly outcome: ReversalOutcome;
  readonly operation: ReversibleOperation;
  /** The card the reversal changed; null when nothing was found. */
  readonly giftCardId: string | null;
  /** Money credited back (redeem, capture), debited back (reload, issue), or released (authorize). */
  readonly reversedMinor: Minor;
  /** The REVERSAL ledger entry; null for an authorization (a hold has none) or nothing found. */
  readonly transactionId: string | null;
  /** The ledger entry undone. */
  readonly reversedTransactionId: string | null;
  readonly holdId: string | null;
  readonly balanceMinor: Minor | null;
  readonly availableMinor: Minor | null;
  readonly currency: string | null;
}

/**
 * A reversal that finds no call reserves the key; if the call was claiming it that very moment,
 * the reservation waits for it and, once the call commits, fails. Then the reversal starts again
 * and undoes what committed. More rounds than this mean records are being purged under us.
 */
const MAX_ROUNDS = 3;

/**
 * Undoes a call whose answer the caller never heard (SPEC §8), named by its operation and key.
 *
 * Exactly one of two things happens, whatever the timing: the call's key is reserved as reversed
 * before the call claimed it (nothing was applied; the call, late, is refused with
 * OPERATION_REVERSED), or the call committed and is undone. Both write the same key, and the
 * database lets only one write it first. Reversing again answers the same and changes nothing.
 */
export async function reverseOperation(ctx: AppContext, command: ReverseOperationCommand): Promise<ReversalResult> {
  const key: ScopedKey = { scope: currentKeyScope(), key: command.idempotencyKey };
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const record = await ctx.uow.reads.idempotency.find(key);
    if (record !== null) return reverseRecorded(ctx, command, key, record);
    try {
      return await reserveReversed(ctx, command, key);
    } catch (error) {
      if (!(error instanceof IdempotencyKeyTaken)) throw error;
    }
  }
  throw concurrencyConflict('the idempotency key changed hands while it was being reversed; retry');
}

async function reserveReversed(
  ctx: AppContext,
  command: ReverseOperationCommand,
  key: ScopedKey,
): Promise<ReversalResult> {
  const result: ReversalResult = {
    outcome: ReversalOutcome.NOT_FOUND,
    operation: command.operation,
    giftCardId: null,
    reversedMinor: 0n,
    transactionId: null,
    reversedTransactionId: null,
    holdId: null,
    balanceMinor: null,
    availableMinor: null,
    currency: null,
  };
  // The reservation is no call's request: its fingerprint matches none, and is never compared.
  const fingerprint = ctx.secrets.fingerprint(
    canonicalize({ operation: 'ReverseOperation', payload: command }),
    RecordFormat.CURRENT,
  );
  await ctx.uow.run(async (tx) => {
    const now = ctx.clock.now();
    await tx.idempotency.reserveReversed({
      key,
      rpc: command.operation,
      fingerprint,
      sealedReversal: ctx.secrets.sealReply(encodeResult(result)),
      now,
      expiresAt: keptUntil(ctx, now),
    });
  });
  return result;
}

/** A reversal keeps the key at least as long as a fresh one: a late call must meet the refusal. */
const keptUntil = (ctx: AppContext, now: Date): Date => new Date(now.getTime() + ctx.limits.idempotencyRetentionMs);

function storedReversal(ctx: AppContext, record: IdempotencyRecord): ReversalResult | null {
  return record.sealedReversal === null
    ? null
    : (decodeResult(ctx.secrets.openReply(record.sealedReversal, RecordFormat.CURRENT)) as ReversalResult);
}

async function reverseRecorded(
  ctx: AppContext,
  command: ReverseOperationCommand,
  key: ScopedKey,
  record: IdempotencyRecord,
): Promise<ReversalResult> {
  if (record.rpc !== command.operation) {
    if (record.rpc === null) {
      throw reversalNotPossible('the call was recorded before reversals existed; it cannot be reversed');
    }
    throw new DomainError(
      ErrorReason.IDEMPOTENCY_KEY_REUSED,
      `the idempotency key belongs to a ${record.rpc} call, not a ${command.operation}`,
    );
  }
  const done = storedReversal(ctx, record);
  if (done !== null) return done;
  if (record.reply === null) throw new Error('a claimed idempotency key has no answer stored');
  // What the call answered, without a new card's number and passcode: its ids are all a reversal needs.
  const original = decodeResult(ctx.secrets.openReply(record.reply.sealedReply, record.format));
  return ctx.uow
    .run(async (tx) => {
      // The card (and entry) locks come first, as for every call, then the key's row: a second
      // reversal waits for the first, then finds its answer before deciding anything itself.
      const locked = async (): Promise<void> => {
        const current = await tx.idempotency.lockStored(key);
        if (current === null) throw new Error('an idempotency record vanished while it was being reversed');
        const concurrent = storedReversal(ctx, current);
        if (concurrent !== null) throw new AlreadyReversed(concurrent);
      };
      const result = await undo(ctx, tx, command, original, locked);
      const now = ctx.clock.now();
      await tx.idempotency.markReversed(key, ctx.secrets.sealReply(encodeResult(result)), now, keptUntil(ctx, now));
      return result;
    })
    .catch((error: unknown) => {
      // Rolled back: the reversal that got there first already did everything.
      if (error instanceof AlreadyReversed) return error.result;
      throw error;
    });
}

class AlreadyReversed extends Error {
  constructor(readonly result: ReversalResult) {
    super('reversed by a concurrent reversal');
  }
}

/** Reads the id the original answer named; anything else in a stored answer is our bug. */
function namedId(original: unknown, field: 'transactionId' | 'holdId'): string {
  const value = (original as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'string' || value === '') throw new Error(`stored answer has no ${field}`);
  return value;
}

async function lockEntry(tx: TransactionScope, transactionId: string): Promise<StoredLedgerEntry> {
  const entry = await tx.ledger.lockByPublicId(transactionId);
  if (entry === null) throw new Error(`entry ${transactionId} of a stored answer is not in the ledger`);
  return entry;
}

/**
 * Takes every lock the reversal needs, then (under them) `locked` makes sure no other reversal got
 * there first, then decides by the domain's rules and writes.
 */
async function undo(
  ctx: AppContext,
  tx: TransactionScope,
  command: ReverseOperationCommand,
  original: unknown,
  locked: () => Promise<void>,
): Promise<ReversalResult> {
  switch (command.operation) {
    case ReversibleOperation.REDEEM:
    case ReversibleOperation.CAPTURE_HOLD: {
      // Refunds of the redemption serialize on its entry, as a reversal does.
      const redemption = await lockEntry(tx, namedId(original, 'transactionId'));
      const holder = await lockBalanceHolder(ctx, tx, redemption.cardId);
      await locked();
      const givenBack = await tx.ledger.sumGivenBack(redemption.id);
      const undoing = undoRedemption(holder.card, redemption, givenBack, ctx.limits.maxBalanceMinor);
      return postReversal(tx, command, holder, redemption, undoing);
    }
    case ReversibleOperation.RELOAD: {
      const reload = await lockEntry(tx, namedId(original, 'transactionId'));
      const holder = await lockBalanceHolder(ctx, tx, reload.cardId);
      await locked();
      return postReversal(tx, command, holder, reload, undoReload(holder.card, reload));
    }
    case ReversibleOperation.ISSUE_VIRTUAL_CARD: {
      const issue = await lockEntry(tx, namedId(original, 'transactionId'));
      const row = await tx.cards.lockById(issue.cardId);
      if (row === null) throw new Error(`card ${issue.cardId} of an issue is not stored`);
      const card = await settleLocked(ctx, tx, row);
      await locked();
      const touched = (await tx.ledger.countForCard(row.id)) > 1 || (await tx.holds.countForCard(row.id)) > 0;
      return postReversal(tx, command, card, issue, undoIssue(card.card, issue, touched));
    }
    case ReversibleOperation.AUTHORIZE_REDEMPTION:
      return releaseHold(ctx, tx, command, namedId(original, 'holdId'), locked);
  }
}

async function postReversal(
  tx: TransactionScope,
  command: ReverseOperationCommand,
  locked: LockedCard,
  undone: StoredLedgerEntry,
  undoing: Undoing,
): Promise<ReversalResult> {
  const operationId = randomUUID();
  const entry = await saveAndPost(tx, {
    card: undoing.card,
    type: EntryType.REVERSAL,
    amountMinor: undoing.amountMinor,
    operationId,
    // The caller's reference of what is undone, so its history reads as one story.
    externalRef: undone.externalRef,
    reversesEntryId: undone.id,
    now: locked.now,
  });
  // An issue undone leaves its card DEACTIVATED.
  if (undoing.card.status !== locked.card.status) tx.outbox.add(statusChanged(undoing.card, operationId, locked.now));
  return {
    outcome: ReversalOutcome.REVERSED,
    operation: command.operation,
    giftCardId: undoing.card.publicId,
    reversedMinor: undoing.amountMinor < 0n ? -undoing.amountMinor : undoing.amountMinor,
    transactionId: entry.publicId,
    reversedTransactionId: undone.publicId,
    holdId: null,
    balanceMinor: undoing.card.balanceMinor,
    availableMinor: availableMinor(undoing.card),
    currency: undoing.card.currency,
  };
}

/**
 * An authorization is undone by voiding its hold. A hold already voided or expired has nothing
 * left to undo; a captured one is undone by reversing its capture, with the capture's own key.
 */
async function releaseHold(
  ctx: AppContext,
  tx: TransactionScope,
  command: ReverseOperationCommand,
  holdId: string,
  locked: () => Promise<void>,
): Promise<ReversalResult> {
  const { card, now, hold, open } = await lockHeldCard(ctx, tx, holdId);
  await locked();
  if (hold.status === HoldStatus.CAPTURED) {
    throw reversalNotPossible('the hold was captured; reverse the capture with its own idempotency key', {
      holdId: hold.publicId,
    });
  }
  const base = {
    outcome: ReversalOutcome.REVERSED,
    operation: command.operation,
    giftCardId: card.publicId,
    transactionId: null,
    reversedTransactionId: null,
    holdId: hold.publicId,
    currency: card.currency,
  };
  if (hold.status !== HoldStatus.ACTIVE || isExpired(hold, now)) {
    return { ...base, reversedMinor: 0n, balanceMinor: card.balanceMinor, availableMinor: availableMinor(card) };
  }
  const released = voidHold(card, open, hold, now);
  await tx.holds.close([released.hold]);
  await tx.cards.save(released.card, now);
  const availableAfter = availableMinor(released.card);
  await recordHoldChanges(
    tx,
    [{ type: HoldEventType.VOIDED, hold, card: released.card, availableAfterMinor: availableAfter, occurredAt: now }],
    randomUUID(),
  );
  return {
    ...base,
    reversedMinor: released.releasedMinor,
    balanceMinor: released.card.balanceMinor,
    availableMinor: availableAfter,
  };
}
