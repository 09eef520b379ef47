import { randomUUID } from 'node:crypto';
import { withWorkDeadline } from '../call-deadline';
import type { CardEvent } from '../domain/card-event';
import { DomainError } from '../domain/errors';
import { hasLapsedHolds, type GiftCard } from '../domain/gift-card';
import { EntryType, type LedgerEntry } from '../domain/ledger-entry';
import type { Minor } from '../domain/money';
import { hasPasscodeFailures, isLockedOut } from '../domain/passcode-lockout';
import { balanceChanged } from './card-events';
import { entryOf, recordOf, type Decide, type DecideRefund, type Posted } from './card-decision';
import { passcodeOpens, type CardReference } from './card-reference';
import type { Queued } from './card-queue';
import { replay, type IdempotentRequest, type RequestFingerprint } from './idempotency';
import {
  RecordFormat,
  scopedKeyId,
  type AppContext,
  type CardTransaction,
  type IdempotencyRecord,
  type BatchRead,
  type RecordWrite,
  type ReferenceLookup,
  type ScopedKey,
} from './ports';

/** A card's line: every operation in it names the card the same way. */
export interface CardLine {
  readonly id: string;
  readonly lookup: ReferenceLookup;
}

/** A balance change or refund with its key, as the batch decides it. */
interface KeyedChange {
  readonly request: IdempotentRequest;
  readonly key: ScopedKey;
  readonly fingerprint: RequestFingerprint;
}

/** What an operation asks of its card. */
export type CardRequest =
  | (KeyedChange & { readonly kind: 'change'; readonly reference: CardReference; readonly decide: Decide<unknown> })
  | (KeyedChange & {
      readonly kind: 'refund';
      readonly entryPublicId: string;
      readonly decide: DecideRefund<unknown>;
    })
  | { readonly kind: 'read'; readonly reference: CardReference; readonly view: (card: GiftCard) => unknown };

/** One call's operation waiting in its card's line. */
export interface CardOperation extends Queued {
  readonly ctx: AppContext;
  readonly line: CardLine;
  readonly request: CardRequest;
  /** The call's own deadline for database work, or null without one. */
  readonly workByMs: number | null;
  /** Runs it by itself, exactly as with nothing else on its card, in its own call's context. */
  readonly alone: () => Promise<unknown>;
  /**
   * Runs `work` in the call's own context: a batch runs in whichever call's context drained the
   * line, and what a call's decision reads of its context (its caller, for its event) is its own.
   */
  inCallContext<T>(work: () => T): T;
  answer(value: unknown): void;
  /** Told of every redemption a batch made, so refunds of it can join the line. */
  readonly redeemed: (entryPublicId: string) => void;
}

/** What one operation of a batch was told, once its batch commits. */
type Answer = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

interface Decided {
  readonly answers: ReadonlyMap<CardOperation, Answer>;
  /** Operations the batch could not judge (a wrong passcode, a refund of another card's money). */
  readonly alone: readonly CardOperation[];
  readonly redemptions: readonly string[];
}

/**
 * Runs a line's batch. One operation runs by itself. Several are applied in one transaction on
 * one locking read (decideBatch), each in arrival order against the card as the ones before it
 * left it; if that transaction fails, for whatever reason, each runs by itself in turn, so one
 * operation can never fail another.
 */
export async function runCardBatch(batch: readonly CardOperation[]): Promise<void> {
  const [first] = batch;
  if (first === undefined) return;
  if (batch.length === 1) {
    await settle(first, first.alone);
    return;
  }
  let decided: Decided;
  try {
    decided = await withWorkDeadline(latestDeadline(batch), () => decideBatch(first.ctx, first.line, batch));
  } catch {
    for (const operation of batch) await settle(operation, operation.alone);
    return;
  }
  for (const [operation, answer] of decided.answers) {
    if (answer.ok) operation.answer(answer.value);
    else operation.fail(answer.error);
  }
  for (const entryPublicId of decided.redemptions) first.redeemed(entryPublicId);
  for (const operation of decided.alone) await settle(operation, operation.alone);
}

async function settle(operation: CardOperation, run: () => Promise<unknown>): Promise<void> {
  try {
    operation.answer(await run());
  } catch (error) {
    operation.fail(error);
  }
}

/** The batch works until the last of its calls stops listening; earlier ones are answered by their transport. */
function latestDeadline(batch: readonly CardOperation[]): number | null {
  let latest = 0;
  for (const { workByMs } of batch) {
    if (workByMs === null) return null;
    latest = Math.max(latest, workByMs);
  }
  return latest;
}

function decideBatch(ctx: AppContext, line: CardLine, batch: readonly CardOperation[]): Promise<Decided> {
  const keys: ScopedKey[] = [];
  const redemptions = new Set<string>();
  for (const { request } of batch) {
    if (request.kind !== 'read') keys.push(request.key);
    if (request.kind === 'refund') redemptions.add(request.entryPublicId);
  }
  return ctx.cardPath.run(line.lookup, (tx) => decideLocked(ctx, line, batch, tx), {
    keys,
    redemptions: [...redemptions],
  });
}

/** The card as the batch has left it so far, and what the batch will write. */
class RunningCard {
  readonly answers = new Map<CardOperation, Answer>();
  /** Operations the batch does not judge: each runs by itself after it. */
  readonly alone: CardOperation[] = [];
  /** Some call proved the number's passcode, which ends its streak of wrong ones. */
  passcodeProven = false;
  readonly records: RecordWrite[] = [];
  readonly entries: LedgerEntry[] = [];
  readonly events: CardEvent[] = [];
  readonly redemptions: string[] = [];
  /** Records of keys this batch decided, as a replay of them later in the batch must find them. */
  readonly decidedKeys = new Map<string, IdempotencyRecord>();
  /** What has been given back of each redemption a refund of the batch named, as the batch left it. */
  readonly givenBack = new Map<string, Minor>();

  /** The card as the ones decided so far left it. */
  card: GiftCard;

  constructor(
    /** The card as the locking read found it. */
    readonly locked: GiftCard,
    /** What else the read found: the keys' records, the refunds' redemptions. */
    readonly read: BatchRead,
    readonly now: Date,
  ) {
    this.card = locked;
  }

  post(ctx: AppContext, change: KeyedChange, posted: Posted<unknown>, entryId: string): void {
    const operationId = randomUUID();
    const entry = entryOf(posted, entryId, operationId, this.now);
    const record = recordOf(ctx, change.key, change.fingerprint, operationId, this.now, posted.reply);
    this.records.push(record);
    this.entries.push(entry);
    this.events.push(balanceChanged(posted.card, entry));
    this.decidedKeys.set(scopedKeyId(change.key), {
      format: RecordFormat.CURRENT,
      fingerprint: record.fingerprint,
      reply: record.reply,
      rpc: record.rpc,
      sealedReversal: null,
    });
    this.card = posted.card;
  }
}

async function decideLocked(
  ctx: AppContext,
  line: CardLine,
  batch: readonly CardOperation[],
  tx: CardTransaction,
): Promise<Decided> {
  const now = ctx.clock.now();
  const { card, failures, hasAccess } = tx.read;
  // Whatever would refuse or settle the card first is each operation's own to meet, by itself.
  if (card === null || !hasAccess || isLockedOut(failures, now) || hasLapsedHolds(card, now)) {
    await tx.rollback(null);
    return { answers: new Map(), alone: batch, redemptions: [] };
  }
  const running = new RunningCard(card, tx.read.batch, now);
  for (const operation of batch) {
    operation.inCallContext(() => {
      decideOne(ctx, operation, running);
    });
  }
  const clearFailuresOf =
    running.passcodeProven && line.lookup.kind === 'number' && hasPasscodeFailures(failures)
      ? line.lookup.numberHash
      : null;
  if (running.entries.length === 0) {
    await tx.commitRead(clearFailuresOf);
  } else {
    await tx.commitBatch({
      records: running.records,
      card: running.card,
      entries: running.entries,
      events: running.events,
      clearFailuresOf,
      now,
    });
  }
  return { answers: running.answers, alone: running.alone, redemptions: running.redemptions };
}

/** One operation against the card as the ones before it left it: its answer, or a place among those run alone. */
function decideOne(ctx: AppContext, operation: CardOperation, running: RunningCard): void {
  const { request } = operation;
  const { locked, read } = running;
  if (request.kind !== 'refund' && request.reference.kind === 'credentials') {
    // A wrong guess is judged and counted by itself, under the number's own lock.
    if (!passcodeOpens(ctx, locked, request.reference.passcode)) {
      running.alone.push(operation);
      return;
    }
    running.passcodeProven = true;
  }
  if (request.kind === 'read') {
    running.answers.set(operation, { ok: true, value: request.view(running.card) });
    return;
  }
  const prior = running.decidedKeys.get(scopedKeyId(request.key)) ?? read.records.get(scopedKeyId(request.key));
  if (prior !== undefined) {
    running.answers.set(
      operation,
      attempt(() => replay(ctx, prior, request.fingerprint)),
    );
    return;
  }
  const entryId = randomUUID();
  let decided: Answer;
  if (request.kind === 'refund') {
    const redemption = read.redemptions.get(request.entryPublicId);
    // Money that moved on, or another card's: its own path follows it there.
    if (redemption === undefined || redemption.entry.cardId !== locked.id || locked.successorCardId !== null) {
      running.alone.push(operation);
      return;
    }
    const givenBack = running.givenBack.get(request.entryPublicId) ?? redemption.givenBackMinor;
    decided = attempt(() => request.decide(redemption.entry, givenBack, running.card, running.now, entryId));
    if (decided.ok) {
      running.givenBack.set(request.entryPublicId, givenBack + (decided.value as Posted<unknown>).amountMinor);
    }
  } else {
    decided = attempt(() => request.decide(running.card, running.now, entryId));
  }
  if (!decided.ok) {
    running.answers.set(operation, decided);
    return;
  }
  const posted = decided.value as Posted<unknown>;
  if (posted.type === EntryType.REDEEM) running.redemptions.push(entryId);
  running.post(ctx, request, posted, entryId);
  running.answers.set(operation, { ok: true, value: posted.reply });
}

/** A rule's refusal is that operation's answer; anything else fails the batch. */
function attempt(decide: () => unknown): Answer {
  try {
    return { ok: true, value: decide() };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { ok: false, error };
  }
}
