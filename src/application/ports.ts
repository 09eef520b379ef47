import type { ActivityPosition, ActivityType, CardActivity } from '../domain/card-activity';
import type { CardEvent } from '../domain/card-event';
import type { CardLines } from './card-lines';
import type { AdjustmentReason, CardBlock } from '../domain/card-lifecycle';
import type { CardStatus, GiftCard } from '../domain/gift-card';
import type { Hold, HoldPolicy } from '../domain/hold';
import type { HoldEvent } from '../domain/hold-event';
import type { LedgerEntry, StoredLedgerEntry } from '../domain/ledger-entry';
import type { Minor } from '../domain/money';
import type { CardFigures, EntryStep, EntrySum, OpenHoldSum } from '../domain/reconciliation';
import type { LockoutPolicy, PasscodeFailures } from '../domain/passcode-lockout';

/** A card about to be inserted: everything but the row id and holds, plus the keyed hash of its number. */
export interface NewGiftCard extends Omit<GiftCard, 'id' | 'holds'> {
  readonly numberHash: Uint8Array;
}

export interface GiftCardRepository {
  /** Throws CardNumberTaken when the number's hash is already stored. */
  insert(card: NewGiftCard): Promise<GiftCard>;
  /** The locking reads (SELECT ... FOR UPDATE): the only reads a balance change may start from. */
  lockById(id: bigint): Promise<GiftCard | null>;
  lockByNumberHash(numberHash: Uint8Array): Promise<GiftCard | null>;
  lockByPublicId(publicId: string): Promise<GiftCard | null>;
  /** A plain read, for answers and for finding ids to lock; never the base of a new balance. */
  findByPublicId(publicId: string): Promise<GiftCard | null>;
  findById(id: bigint): Promise<GiftCard | null>;
  /** Writes the card's mutable state: balance, status, successor, hold tally. */
  save(card: GiftCard, now: Date): Promise<void>;
}

export interface HoldRepository {
  insert(hold: Omit<Hold, 'id'>): Promise<Hold>;
  /** A plain read: a hold's card never changes, so this finds the card to lock, or a closed hold's state. */
  findByPublicId(publicId: string): Promise<Hold | null>;
  /** The card's holds still ACTIVE in storage. The caller holds the card's lock, under which alone they change. */
  listOpen(cardId: bigint): Promise<Hold[]>;
  /** Writes a hold's closing: captured, voided or expired, and when. */
  close(holds: readonly Hold[]): Promise<void>;
  /** Appends to the card's history; each event is placed after the card's latest ledger entry at that moment. */
  recordEvents(events: readonly HoldEvent[]): Promise<void>;
  /** Cards with holds past their expire time still ACTIVE, the longest lapsed first: the sweeper's work. */
  findCardsWithLapsedHolds(now: Date, limit: number): Promise<bigint[]>;
  /** Every hold ever placed on the card, whatever became of it. */
  countForCard(cardId: bigint): Promise<number>;
}

export interface LedgerRepository {
  /** Throws FundingReferenceUsed when a funding entry's external reference already funded one. */
  append(entry: LedgerEntry): Promise<StoredLedgerEntry>;
  /** Locks one entry: refunds of the same redemption serialize on it. */
  lockByPublicId(publicId: string): Promise<StoredLedgerEntry | null>;
  /** What refunds and a reversal already gave back of a redemption entry, as a positive amount. */
  sumGivenBack(redemptionEntryId: bigint): Promise<Minor>;
  countForCard(cardId: bigint): Promise<number>;
}

/** A card's history, read a page at a time from the newest end; plain reads of append-only rows. */
export interface HistoryRepository {
  /** Up to `limit` of the card's ledger entries before the position (all when null), newest first. */
  entriesBefore(
    cardId: bigint,
    before: ActivityPosition | null,
    type: ActivityType | null,
    limit: number,
  ): Promise<CardActivity[]>;
  /** Up to `limit` of the card's hold events before the position (all when null), newest first. */
  eventsBefore(
    cardId: bigint,
    before: ActivityPosition | null,
    type: ActivityType | null,
    limit: number,
  ): Promise<CardActivity[]>;
}

/**
 * How an idempotency record's fingerprint and sealed reply were made. LEGACY records (written
 * before the passcode left the fingerprint) are still read until their retention ends.
 */
export const RecordFormat = { LEGACY: 1, CURRENT: 2 } as const;
export type RecordFormat = (typeof RecordFormat)[keyof typeof RecordFormat];

/** A completed call's reply as stored: card secrets sealed apart, so they can be erased early. */
export interface SealedReply {
  readonly sealedReply: Uint8Array;
  /** A new card's number and passcode, when the reply holds them. */
  readonly sealedSecrets: Uint8Array | null;
  /** When the secrets stop being replayed and may be erased; null without secrets. */
  readonly secretsExpireAt: Date | null;
}

export interface IdempotencyRecord {
  readonly format: RecordFormat;
  readonly fingerprint: Uint8Array;
  /** Null while the claiming transaction is open, and for a key a reversal reserved before any call claimed it. */
  readonly reply: SealedReply | null;
  /** The RPC that claimed the key ('Redeem', ...); null on records written before reversals existed. */
  readonly rpc: string | null;
  /** The reversal's answer, once the key's call was reversed (or the key reserved as reversed). */
  readonly sealedReversal: Uint8Array | null;
}

/** A key as one caller sent it: two callers' equal keys are different keys (SPEC §12). */
export interface ScopedKey {
  readonly scope: string;
  readonly key: string;
}

/** A request's hold on its key, inserted in the transaction that does the work. */
export interface IdempotencyClaim {
  readonly key: ScopedKey;
  /** The RPC claiming it: a reversal names the operation it undoes, and must name this one. */
  readonly rpc: string;
  readonly fingerprint: Uint8Array;
  /** The operation id every ledger entry of the request carries: from the key, its entries are found. */
  readonly operationId: string;
  readonly now: Date;
  readonly expiresAt: Date;
}

export interface IdempotencyRepository {
  find(key: ScopedKey): Promise<IdempotencyRecord | null>;
  /** Inserts the claim, in the current record format; throws IdempotencyKeyTaken when the key is held. */
  claim(claim: IdempotencyClaim): Promise<void>;
  complete(key: ScopedKey, reply: SealedReply): Promise<void>;
  /** Locks a stored record (SELECT ... FOR UPDATE) for a reversal to read and mark under the lock. */
  lockStored(key: ScopedKey): Promise<IdempotencyRecord | null>;
  /** Records the reversal of the key's call, and keeps the key until at least expiresAt. */
  markReversed(key: ScopedKey, sealedReversal: Uint8Array, now: Date, expiresAt: Date): Promise<void>;
  /**
   * Claims a key no call has claimed, as reversed from the start, so a late call with it is
   * refused; throws IdempotencyKeyTaken when a call holds or held it. It names no operation id:
   * nothing was applied under it.
   */
  reserveReversed(reservation: ReversedKey): Promise<void>;
}

/** A key reserved by a reversal that found no call: the RPC named, and the reversal's answer. */
export interface ReversedKey extends Omit<IdempotencyClaim, 'operationId'> {
  readonly sealedReversal: Uint8Array;
}

/** Wrong passcodes per card number hash, whether or not a card has that number. */
export interface PasscodeFailureRepository {
  /** A plain read: the failures recorded against the number, NO_PASSCODE_FAILURES when none. */
  find(numberHash: Uint8Array): Promise<PasscodeFailures>;
  /**
   * Locks the number's record, creating it when missing, and reads it. Concurrent checks of one
   * number, known or not, queue here, so parallel guesses cannot pass the limit.
   */
  lock(numberHash: Uint8Array): Promise<PasscodeFailures>;
  save(numberHash: Uint8Array, failures: PasscodeFailures): Promise<void>;
  /** A right passcode ends the streak. */
  clear(numberHash: Uint8Array): Promise<void>;
}

export const AccessRole = { OWNER: 'OWNER', SHARED: 'SHARED' } as const;
export type AccessRole = (typeof AccessRole)[keyof typeof AccessRole];

export interface CardAccess {
  readonly cardId: bigint;
  readonly userId: string;
  readonly role: AccessRole;
  readonly preferred: boolean;
}

/** A card as one user holds it in their wallet. */
export interface SavedCard {
  readonly card: GiftCard;
  readonly access: CardAccess;
}

export interface CardAccessRepository {
  find(cardId: bigint, userId: string): Promise<CardAccess | null>;
  findOwner(cardId: bigint): Promise<CardAccess | null>;
  /** Throws CardAlreadyOwned when the card has another owner row (the one-owner unique key). */
  insert(access: CardAccess, now: Date): Promise<void>;
  // Wallet: save, share, unshare, list, preferred.
  /**
   * Locks every access row of one user (SELECT ... FOR UPDATE, ascending card id). Changes to a
   * user's preferred card take it first, so they run one at a time per user.
   */
  lockAllOfUser(userId: string): Promise<CardAccess[]>;
  /** Rows with role SHARED on the card: the owner is not counted. */
  countShares(cardId: bigint): Promise<number>;
  /** Throws CardAlreadyOwned when promoting to OWNER and the card has another owner. */
  setRole(cardId: bigint, userId: string, role: AccessRole): Promise<void>;
  /** Throws PreferredCardTaken when the user still has another preferred card. */
  setPreferred(cardId: bigint, userId: string, preferred: boolean): Promise<void>;
  /** Returns whether the user had access. */
  remove(cardId: bigint, userId: string): Promise<boolean>;
  /** A user's cards in ascending card id, those after `afterCardId` only; a plain read. */
  listByUser(userId: string, afterCardId: bigint | null, limit: number): Promise<SavedCard[]>;
  /**
   * Removes every user's access to the card, owner and shares alike. The caller holds the card's
   * row lock, as every change to a card's access does, so no grant can slip in alongside.
   */
  revokeAll(cardId: bigint): Promise<void>;
}

/**
 * Events for other services (SPEC §11), written to the outbox table in the transaction of the
 * change they announce, so they commit and roll back with it. Add each under its card's row lock:
 * a card's events are published in the order they were added.
 */
export interface OutboxRepository {
  /** Nothing is stored when events are off (no EVENTS_AMQP_URL). */
  add(event: CardEvent): void;
}

/** A card's new number (as its keyed hash and last four digits) and passcode hash. */
export interface CardCredentials {
  readonly numberHash: Uint8Array;
  readonly numberLast4: string;
  readonly passcodeHash: Uint8Array;
}

/** Why and by whom a card's status was set by an operator: kept for good, every change. */
export interface StatusChange {
  readonly cardId: bigint;
  readonly status: CardStatus;
  readonly reason: string;
  readonly caller: string;
  readonly operationId: string;
  readonly at: Date;
}

/** An ADJUSTMENT entry's reason, note and caller, kept beside the entry. */
export interface AdjustmentRecord {
  readonly ledgerEntryId: bigint;
  readonly reason: AdjustmentReason;
  readonly note: string;
  readonly caller: string;
}

/** Blocks, adjustments and credentials (SPEC §10); every write under the card's row lock. */
export interface CardLifecycleRepository {
  recordStatusChange(change: StatusChange): Promise<void>;
  /** The card's current block, from its latest status change; null unless that was a block. */
  findBlock(cardId: bigint): Promise<CardBlock | null>;
  recordAdjustment(record: AdjustmentRecord): Promise<void>;
  /** Replaces the number and passcode; throws CardNumberTaken when the new number's hash is stored. */
  replaceCredentials(cardId: bigint, credentials: CardCredentials, now: Date): Promise<void>;
}

/** The repositories of one database transaction. */
export interface TransactionScope {
  readonly cards: GiftCardRepository;
  readonly ledger: LedgerRepository;
  readonly idempotency: IdempotencyRepository;
  readonly access: CardAccessRepository;
  readonly passcodeFailures: PasscodeFailureRepository;
  readonly outbox: OutboxRepository;
  /**
   * From here on the transaction commits even when the call's deadline passes first: the caller
   * is answered at its deadline and the work finishes behind the answer. For writes no deadline
   * may undo, such as a wrong passcode that was judged.
   */
  shieldFromDeadline(): void;
  readonly holds: HoldRepository;
  readonly history: HistoryRepository;
  readonly lifecycle: CardLifecycleRepository;
}

export interface UnitOfWork {
  /**
   * Runs the work in one database transaction, committed when it returns and rolled back when it
   * throws; deadlocks and lock-wait timeouts rerun the whole work a bounded number of times.
   */
  run<T>(work: (tx: TransactionScope) => Promise<T>): Promise<T>;
  /** Repositories outside any transaction, for plain reads. */
  readonly reads: TransactionScope;
}

/**
 * The single-card path (issue 12): a money operation on one card in two round trips on a pool of
 * its own. The first opens the transaction and takes the card's row lock with everything the
 * decision reads; the second writes everything (the key's record with its sealed reply, the
 * card, the ledger entry, its event) and commits. The key's primary key, inside the transaction,
 * is what finds a replay: there is no lookup before it.
 */
export type CardLookup =
  | { readonly kind: 'number'; readonly numberHash: Uint8Array }
  | { readonly kind: 'saved'; readonly publicId: string; readonly userId: string }
  /** A redemption entry, locked first, what was given back of it, and the card it was taken from. */
  | { readonly kind: 'redemption'; readonly entryPublicId: string };

/** How a caller's own reference to a card is looked up: by the number's hash, or as a user's saved card. */
export type ReferenceLookup = Exclude<CardLookup, { readonly kind: 'redemption' }>;

/** What the first round trip read, under the card's row lock. */
export interface LockedCardRead {
  readonly card: GiftCard | null;
  /** The number's wrong passcodes (a plain read, as the unit of work's path reads it); none for a saved card. */
  readonly failures: PasscodeFailures;
  /** For a saved card: whether the user may use it. Always true for a lookup by number. */
  readonly hasAccess: boolean;
  /** For a redemption lookup: the entry (locked), and what refunds and a reversal gave back of it. */
  readonly redemption: LockedRedemption | null;
  /** What a batch asked for besides the card (empty for one operation). */
  readonly batch: BatchRead;
}

export interface LockedRedemption {
  readonly entry: StoredLedgerEntry;
  readonly givenBackMinor: Minor;
}

/**
 * What a batch of operations on one card reads in its first round trip besides the card: the
 * records its keys already have, and the redemptions its refunds name (locked before the card,
 * in the order every refund locks them).
 */
export interface BatchReads {
  readonly keys: readonly ScopedKey[];
  readonly redemptions: readonly string[];
}

export interface BatchRead {
  /** By scopedKeyId(key): the committed records of the batch's keys. */
  readonly records: ReadonlyMap<string, IdempotencyRecord>;
  /** By the entry's public id. */
  readonly redemptions: ReadonlyMap<string, LockedRedemption>;
}

export const NO_BATCH_READ: BatchRead = { records: new Map(), redemptions: new Map() };

/** One string per scoped key, to find a key's record in a batch's read. */
export function scopedKeyId(key: ScopedKey): string {
  return `${key.scope}\u0000${key.key}`;
}

/** A key's record as the write round trip inserts it, whole, reply included. */
export type RecordWrite = IdempotencyClaim & { readonly reply: SealedReply };

/** Everything decided operations write, sent in one round trip with the COMMIT. */
export interface CardWrite {
  /** The keys' records with their sealed replies, one per operation with a key. */
  readonly records: readonly RecordWrite[];
  readonly card: GiftCard;
  /** In the order the operations were decided. */
  readonly entries: readonly LedgerEntry[];
  readonly events: readonly CardEvent[];
  /** A right passcode ends the number's streak of wrong ones. */
  readonly clearFailuresOf: Uint8Array | null;
  readonly now: Date;
}

/** The stored record of a key another call claimed, or null when none was stored after all. */
export type KeyTaken = { readonly taken: IdempotencyRecord | null };

/** The open transaction of the single-card path, after its first round trip. */
export interface CardTransaction {
  readonly read: LockedCardRead;
  /** Writes and commits; when the key's primary key refuses the record, rolls back and reads it. */
  commit(write: CardWrite): Promise<'committed' | KeyTaken>;
  /**
   * Writes a batch's operations and commits. Whatever the database refuses (a key or a funding
   * reference some other call used meanwhile) rolls the whole batch back and is thrown: the
   * batch then runs its operations one by one, so that one of them cannot fail another.
   */
  commitBatch(write: CardWrite): Promise<void>;
  /** Commits what the first round trip did (nothing but locks) and, when given, clears a passcode streak. */
  commitRead(clearFailuresOf: Uint8Array | null): Promise<void>;
  /**
   * A wrong passcode: from here the transaction commits even when the call's deadline passes,
   * as TransactionScope.shieldFromDeadline; then the number's failures are locked (created when
   * missing) and read, and saved with the COMMIT.
   */
  shieldFromDeadline(): void;
  lockFailures(numberHash: Uint8Array): Promise<PasscodeFailures>;
  commitFailures(numberHash: Uint8Array, failures: PasscodeFailures | null): Promise<void>;
  /** Rolls back; with a key, reads its stored record in the same round trip. */
  rollback(key: ScopedKey | null): Promise<IdempotencyRecord | null>;
}

export interface CardPath {
  /**
   * Opens a transaction, locks the card and reads what the decision needs, then runs the work,
   * which must end the transaction (commit or rollback). Deadlocks and lock-wait timeouts rerun
   * the work; the call's deadline cuts it off as it does a unit of work.
   */
  run<T>(lookup: CardLookup, work: (tx: CardTransaction) => Promise<T>, batch?: BatchReads): Promise<T>;
}

/** A card in a ledger snapshot, with its entries and open holds summed. */
export interface SnapshotCard {
  /** Internal row id: the position keyset paging continues from. */
  readonly id: bigint;
  readonly card: CardFigures;
  readonly entries: readonly EntrySum[];
  readonly openHolds: OpenHoldSum;
}

/** One card's ledger entry in a snapshot, with its row id to continue from. */
export interface SnapshotEntry extends EntryStep {
  readonly id: bigint;
}

/** Reads of one consistent snapshot of the ledger tables: what a reconciliation judges. */
export interface LedgerSnapshot {
  /** Up to `limit` cards after the card id, ascending: a page of the primary key. */
  cardsAfter(afterCardId: bigint, limit: number): Promise<SnapshotCard[]>;
  /** Up to `limit` of one card's entries after the entry id, in the order they were written. */
  entriesAfter(cardId: bigint, afterEntryId: bigint, limit: number): Promise<SnapshotEntry[]>;
}

/**
 * Opens a read-only transaction on one consistent snapshot (no locks taken, safe on a replica),
 * runs the work against it and ends it, whatever the work does.
 */
export interface LedgerSnapshotReader {
  read<T>(work: (snapshot: LedgerSnapshot) => Promise<T>): Promise<T>;
}

/** Keyed hashes and sealing; implemented in security/, with the secrets from config. */
export interface CardSecrets {
  numberHash(cardNumber: string): Uint8Array;
  hashPasscode(cardPublicId: string, passcode: string): Uint8Array;
  /** Constant-time; with a null hash it still does the work, so a missing card takes as long. */
  verifyPasscode(cardPublicId: string, passcode: string, hash: Uint8Array | null): boolean;
  /** The fingerprint of a request as the given record format computes it. */
  fingerprint(canonicalRequest: string, format: RecordFormat): Uint8Array;
  /** AES-256-GCM for a stored reply, in the current record format. */
  sealReply(plaintext: Uint8Array): Uint8Array;
  openReply(sealed: Uint8Array, format: RecordFormat): Uint8Array;
  /** AES-256-GCM for a page token, under a key of its own. */
  sealPageToken(plaintext: Uint8Array): Uint8Array;
  /** Throws when the token was not sealed by this service's page-token key. */
  openPageToken(sealed: Uint8Array): Uint8Array;
}

export interface Clock {
  now(): Date;
}

export interface Limits {
  readonly maxBalanceMinor: Minor;
  readonly lockout: LockoutPolicy;
  readonly idempotencyRetentionMs: number;
  /** How long a stored reply keeps a new card's number and passcode for replay. */
  readonly cardSecretReplayWindowMs: number;
  readonly holds: HoldPolicy;
}

/** What operations tell the operators' metrics (observability/); a no-op when metrics are off. */
export interface OperationTelemetry {
  /** A retry got the stored answer of an earlier call instead of running again. */
  idempotentReplay(operation: string): void;
  /** A card's passcode checks are now refused for the cool-down. */
  passcodeLockout(): void;
}

export const NO_TELEMETRY: OperationTelemetry = {
  idempotentReplay: () => undefined,
  passcodeLockout: () => undefined,
};

/** Everything an operation needs, built once by the composition root. */
export interface AppContext {
  readonly uow: UnitOfWork;
  readonly cardPath: CardPath;
  /** Orders each card's calls in this process and batches those that arrive while one is in flight. */
  readonly cardLines: CardLines;
  readonly secrets: CardSecrets;
  readonly clock: Clock;
  readonly limits: Limits;
  readonly telemetry: OperationTelemetry;
  /** Consistent read-only snapshots of the ledger, for reconciliation. */
  readonly ledgerSnapshots: LedgerSnapshotReader;
}

export class CardNumberTaken extends Error {
  constructor() {
    super('card number hash already stored');
    this.name = 'CardNumberTaken';
  }
}

export class FundingReferenceUsed extends Error {
  constructor() {
    super('funding reference already used');
    this.name = 'FundingReferenceUsed';
  }
}

export class IdempotencyKeyTaken extends Error {
  constructor() {
    super('idempotency key already claimed');
    this.name = 'IdempotencyKeyTaken';
  }
}

export class CardAlreadyOwned extends Error {
  constructor() {
    super('card already has an owner');
    this.name = 'CardAlreadyOwned';
  }
}

export class PreferredCardTaken extends Error {
  constructor() {
    super('user already has a preferred card');
    this.name = 'PreferredCardTaken';
  }
}
