import type { Connection, RowDataPacket } from 'mysql2/promise';
import { GiftCardEvent } from '../../../gen/giftcard/v1/gift_card_event';

/** The newest outbox row and ledger entry before a run: everything after them is the run's. */
export interface EventWatermark {
  readonly eventRowId: bigint;
  readonly entryId: bigint;
}

/** An event the database committed: an outbox row, decoded. */
export interface CommittedEvent {
  readonly sequence: bigint;
  readonly event: GiftCardEvent;
}

/** A committed ledger entry, with what its event must say about it. */
export interface CommittedEntry {
  readonly publicId: string;
  readonly giftCardId: string;
  readonly amountMinor: bigint;
  readonly balanceAfterMinor: bigint;
}

/** What one consumer received, in arrival order, duplicates and all. */
export interface ConsumerStream {
  readonly name: string;
  readonly events: readonly GiftCardEvent[];
}

export interface EventCheckReport {
  readonly committedEvents: number;
  readonly committedEntries: number;
  readonly consumers: readonly { readonly name: string; readonly received: number; readonly duplicates: number }[];
  /** One line per finding; empty when every rule holds. */
  readonly violations: readonly string[];
}

/** More findings than this only repeat the story. */
const MAX_LISTED = 20;

export async function eventWatermark(db: Connection): Promise<EventWatermark> {
  const [[row]] = await db.query<RowDataPacket[]>(
    `SELECT (SELECT COALESCE(MAX(id), 0) FROM event_outbox) AS event_row_id,
            (SELECT COALESCE(MAX(id), 0) FROM ledger_entry) AS entry_id`,
  );
  return { eventRowId: BigInt(String(row?.event_row_id)), entryId: BigInt(String(row?.entry_id)) };
}

/** Committed outbox rows after the watermark that the relays have not yet marked sent. */
export async function unsentSince(db: Connection, since: EventWatermark): Promise<number> {
  const [[row]] = await db.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM event_outbox WHERE id > ? AND sent_at IS NULL',
    [since.eventRowId.toString()],
  );
  return Number(row?.n);
}

export async function loadCommitted(
  db: Connection,
  since: EventWatermark,
): Promise<{ events: CommittedEvent[]; entries: CommittedEntry[] }> {
  const [eventRows] = await db.query<RowDataPacket[]>('SELECT id, payload FROM event_outbox WHERE id > ? ORDER BY id', [
    since.eventRowId.toString(),
  ]);
  const [entryRows] = await db.query<RowDataPacket[]>(
    `SELECT e.public_id, c.public_id AS card_public_id, e.amount_minor, e.balance_after_minor
     FROM ledger_entry e JOIN gift_card c ON c.id = e.card_id WHERE e.id > ? ORDER BY e.id`,
    [since.entryId.toString()],
  );
  return {
    events: eventRows.map((row) => ({
      sequence: BigInt(String(row.id)),
      event: GiftCardEvent.decode(row.payload as Buffer),
    })),
    entries: entryRows.map((row) => ({
      publicId: String(row.public_id),
      giftCardId: String(row.card_public_id),
      amountMinor: BigInt(String(row.amount_minor)),
      balanceAfterMinor: BigInt(String(row.balance_after_minor)),
    })),
  };
}

/**
 * Holds what consumers received against what the database committed (SPEC §11): every committed
 * ledger entry has an event that states it; each consumer, once it drops the event ids it has
 * seen, has every committed event, nothing else (so nothing of a change that rolled back), with
 * the outbox's sequence, and each card's events in the order they were written.
 */
export function judgeEvents(
  committed: { readonly events: readonly CommittedEvent[]; readonly entries: readonly CommittedEntry[] },
  streams: readonly ConsumerStream[],
): EventCheckReport {
  const violations = new Findings();
  const byId = new Map(committed.events.map((c) => [c.event.eventId, c]));
  const byEntry = new Map(
    committed.events.filter((c) => c.event.ledgerEntryId !== '').map((c) => [c.event.ledgerEntryId, c.event]),
  );

  for (const entry of committed.entries) {
    const event = byEntry.get(entry.publicId);
    if (event === undefined) violations.add(`entry ${entry.publicId} on ${entry.giftCardId} has no event`);
    else if (
      event.giftCardId !== entry.giftCardId ||
      event.amount !== entry.amountMinor ||
      event.balance !== entry.balanceAfterMinor
    ) {
      violations.add(
        `entry ${entry.publicId}: event says ${event.amount} leaving ${event.balance} on ${event.giftCardId}, ` +
          `the ledger ${entry.amountMinor} leaving ${entry.balanceAfterMinor} on ${entry.giftCardId}`,
      );
    }
  }

  const consumers = streams.map((stream) => {
    const seen = new Set<string>();
    const lastSequence = new Map<string, bigint>();
    let duplicates = 0;
    for (const event of stream.events) {
      if (seen.has(event.eventId)) {
        duplicates++;
        continue;
      }
      seen.add(event.eventId);
      const written = byId.get(event.eventId);
      if (written === undefined) {
        violations.add(
          `${stream.name}: event ${event.eventId} (${event.type} on ${event.giftCardId}) was never committed`,
        );
        continue;
      }
      if (event.sequence !== written.sequence) {
        violations.add(
          `${stream.name}: event ${event.eventId} has sequence ${event.sequence}, its row ${written.sequence}`,
        );
      }
      const last = lastSequence.get(event.giftCardId);
      if (last !== undefined && event.sequence <= last) {
        violations.add(
          `${stream.name}: card ${event.giftCardId} got event ${event.sequence} after ${last}: out of order`,
        );
      }
      lastSequence.set(event.giftCardId, event.sequence);
    }
    for (const { event } of committed.events) {
      if (!seen.has(event.eventId)) {
        violations.add(
          `${stream.name}: committed event ${event.eventId} (${event.type} on ${event.giftCardId}) missing`,
        );
      }
    }
    return { name: stream.name, received: stream.events.length, duplicates };
  });

  return {
    committedEvents: committed.events.length,
    committedEntries: committed.entries.length,
    consumers,
    violations: violations.lines(),
  };
}

class Findings {
  private readonly all: string[] = [];

  add(line: string): void {
    this.all.push(line);
  }

  lines(): string[] {
    return this.all.length > MAX_LISTED
      ? [...this.all.slice(0, MAX_LISTED), `... and ${this.all.length - MAX_LISTED} more`]
      : this.all;
  }
}

/** A consumer as the drain watches it: what it has received so far, read afresh each time. */
export interface LiveConsumer {
  readonly name: string;
  readonly received: () => readonly GiftCardEvent[];
}

const DRAIN_POLL_MS = 250;

/**
 * Waits until every consumer has every event committed since the watermark and the relays have
 * marked them all sent, or `timeoutMs` passes (a liveness bound: what is missing then is judged
 * missing), then holds each consumer's stream against what was committed.
 */
export async function drainAndJudge(
  db: Connection,
  since: EventWatermark,
  consumers: readonly LiveConsumer[],
  timeoutMs: number,
): Promise<EventCheckReport> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const ids = (await loadCommitted(db, since)).events.map((c) => c.event.eventId);
    const everywhere = consumers.every((consumer) => {
      const seen = new Set(consumer.received().map((event) => event.eventId));
      return ids.every((id) => seen.has(id));
    });
    if ((everywhere && (await unsentSince(db, since)) === 0) || Date.now() > giveUpAt) break;
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  }
  return judgeEvents(
    await loadCommitted(db, since),
    consumers.map((consumer) => ({ name: consumer.name, events: consumer.received() })),
  );
}
