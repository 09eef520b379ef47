import {
  NO_BATCH_READ,
  scopedKeyId,
  type BatchReads,
  type IdempotencyRecord,
  type LockedCardRead,
  type LockedRedemption,
  type ReferenceLookup,
} from '../application/ports';
import { NO_PASSCODE_FAILURES } from '../domain/passcode-lockout';
import { USER_ACCESS_FIND } from './card-access.repository';
import { CARD_LOCK_BY_NUMBER_HASH, CARD_LOCK_BY_PUBLIC_ID, fromRow, type GiftCardRow } from './gift-card.repository';
import type { TransactionFraming } from './guarded-transaction';
import { RECORD_COLUMNS, toRecord, type IdempotencyRow } from './idempotency.repository';
import { ENTRY_COLUMNS, entryFromRow, type LedgerEntryRow } from './ledger.repository';
import { FAILURES_FIND, failuresFromRow, type PasscodeFailureRow } from './passcode-failure.repository';

/** What a single call reads besides the card: nothing. */
export const NO_BATCH_READS: BatchReads = { keys: [], redemptions: [] };

/**
 * The first round trip of a call or a batch that names its card by number or as a saved card:
 * the redemptions a batch's refunds name, locked first (in id order, as a single refund locks its
 * one before the card), then the card with the number's failures or the user's access, then what
 * was given back of each redemption and the records the batch's keys already have, read under
 * the lock. With NO_BATCH_READS it is exactly the single path's locking read.
 */
export function lockStatements(
  lookup: ReferenceLookup,
  batch: BatchReads,
  framing: TransactionFraming,
): { sql: string; values: unknown[]; results: number } {
  const statements: string[] = [framing.begin];
  const values: unknown[] = [];
  const { redemptions, keys } = batch;
  const entryIds = redemptions.map(() => '?').join(', ');
  if (redemptions.length > 0) {
    statements.push(`SELECT id FROM ledger_entry WHERE public_id IN (${entryIds}) ORDER BY id FOR UPDATE`);
    values.push(...redemptions);
  }
  if (lookup.kind === 'number') {
    const hash = Buffer.from(lookup.numberHash);
    statements.push(CARD_LOCK_BY_NUMBER_HASH, FAILURES_FIND);
    values.push(hash, hash);
  } else {
    statements.push(CARD_LOCK_BY_PUBLIC_ID, USER_ACCESS_FIND);
    values.push(lookup.publicId, lookup.publicId, lookup.userId);
  }
  let results = 2;
  if (redemptions.length > 0) {
    statements.push(
      `SELECT ${ENTRY_COLUMNS} FROM ledger_entry WHERE public_id IN (${entryIds})`,
      'SELECT r.public_id, (SELECT COALESCE(SUM(g.amount_minor), 0) FROM ledger_entry g ' +
        "WHERE (g.refund_of_entry_id = r.id AND g.entry_type = 'REFUND') OR g.reverses_entry_id = r.id) AS total " +
        `FROM ledger_entry r WHERE r.public_id IN (${entryIds})`,
    );
    values.push(...redemptions, ...redemptions);
    results += 2;
  }
  if (keys.length > 0) {
    statements.push(
      `SELECT caller, idempotency_key, ${RECORD_COLUMNS} FROM idempotency_record WHERE ` +
        keys.map(() => '(caller = ? AND idempotency_key = ?)').join(' OR '),
    );
    for (const key of keys) values.push(key.scope, key.key);
    results += 1;
  }
  return { sql: statements.join('; '), values, results };
}

type SumRow = { public_id: string; total: string | number };
type KeyedRecordRow = IdempotencyRow & { caller: string; idempotency_key: string };

/** What lockStatements' result sets (the last `results` of the reply) say. */
export function readLocked(results: unknown[], lookup: ReferenceLookup, batch: BatchReads): LockedCardRead {
  const [cards, second] = results as [GiftCardRow[], unknown[]];
  const row = cards[0];
  const card = row === undefined ? null : fromRow(row);
  let next = 2;
  const redemptions = new Map<string, LockedRedemption>();
  if (batch.redemptions.length > 0) {
    const entries = results[next++] as LedgerEntryRow[];
    const given = new Map((results[next++] as SumRow[]).map((sum) => [sum.public_id, BigInt(sum.total)]));
    for (const entry of entries) {
      redemptions.set(entry.public_id, {
        entry: entryFromRow(entry),
        givenBackMinor: given.get(entry.public_id) ?? 0n,
      });
    }
  }
  const records = new Map<string, IdempotencyRecord>();
  if (batch.keys.length > 0) {
    for (const stored of results[next] as KeyedRecordRow[]) {
      const record = toRecord(stored);
      if (record !== null) records.set(scopedKeyId({ scope: stored.caller, key: stored.idempotency_key }), record);
    }
  }
  const batchRead = records.size === 0 && redemptions.size === 0 ? NO_BATCH_READ : { records, redemptions };
  const read = { card, redemption: null, batch: batchRead };
  return lookup.kind === 'number'
    ? { ...read, failures: failuresFromRow((second as PasscodeFailureRow[])[0]), hasAccess: true }
    : {
        ...read,
        failures: NO_PASSCODE_FAILURES,
        // The column's collation may fold case; the user must match exactly.
        hasAccess: (second as { user_id: string }[]).some((access) => access.user_id === lookup.userId),
      };
}
