import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { RowDataPacket } from 'mysql2/promise';
import { checkLedger, connectServer } from './bench-database';
import type { BenchCard } from './cards';
import { AMOUNT_MINOR } from './scenarios';
import { statementShape } from './sql-drift-check';
import { TEXTBOOK_REDEMPTION, TextbookWorkload } from './textbook-workload';

const QUERY_START_CHANNEL = 'tracing:mysql2:query:start';

interface CardState {
  readonly balance: bigint;
  readonly ledgerSum: bigint;
  readonly entries: number;
}

async function cardState(serverUrl: string, database: string, cardId: string): Promise<CardState> {
  const connection = await connectServer(serverUrl, database);
  try {
    const [[row]] = await connection.query<RowDataPacket[]>(
      `SELECT c.balance_minor AS balance, COALESCE(SUM(e.amount_minor), 0) AS ledger_sum, COUNT(e.id) AS entries
       FROM gift_card c LEFT JOIN ledger_entry e ON e.card_id = c.id WHERE c.id = ? GROUP BY c.id, c.balance_minor`,
      [cardId],
    );
    if (row === undefined) throw new Error(`card ${cardId} is missing`);
    return {
      balance: BigInt(String(row.balance)),
      ledgerSum: BigInt(String(row.ledger_sum)),
      entries: Number(row.entries),
    };
  } finally {
    await connection.end();
  }
}

/**
 * Before any load: one textbook redemption, traced, must send exactly the textbook's statements
 * (one per round trip, in order), take one unit off the card, append one ledger entry and leave
 * the balance equal to the ledger's sum. A ceiling that skipped a write would look fast and mean
 * nothing.
 */
export async function checkTextbookWorkload(serverUrl: string, database: string, card: BenchCard): Promise<void> {
  const before = await cardState(serverUrl, database, card.id);
  const workload = new TextbookWorkload(`${serverUrl}/${database}`);
  const sent: string[] = [];
  const onStart = (message: unknown): void => {
    const query = (message as { query?: unknown }).query;
    if (typeof query === 'string') sent.push(statementShape(query));
  };
  // The connection is opened outside the traced window: only the redemption's statements count.
  await workload.perform({ operation: 'redeem', card, idempotencyKey: `textbook-warm-${Date.now()}`, user: 0 });
  const warmed = await cardState(serverUrl, database, card.id);
  subscribe(QUERY_START_CHANNEL, onStart);
  try {
    await workload.perform({ operation: 'redeem', card, idempotencyKey: `textbook-check-${Date.now()}`, user: 0 });
  } finally {
    unsubscribe(QUERY_START_CHANNEL, onStart);
    await workload.close();
  }
  const after = await cardState(serverUrl, database, card.id);
  const expected = TEXTBOOK_REDEMPTION.map(statementShape);
  const problems: string[] = [];
  if (sent.join('\n') !== expected.join('\n')) {
    problems.push(`it sent:\n    ${sent.join('\n    ')}\n  instead of:\n    ${expected.join('\n    ')}`);
  }
  if (warmed.balance !== before.balance - AMOUNT_MINOR || after.balance !== warmed.balance - AMOUNT_MINOR) {
    problems.push(`the balance went ${before.balance} -> ${warmed.balance} -> ${after.balance}, not 1 unit per call`);
  }
  if (after.entries !== before.entries + 2) {
    problems.push(`${after.entries - before.entries} ledger entries for 2 redemptions`);
  }
  if (after.balance !== after.ledgerSum) {
    problems.push(`the balance ${after.balance} differs from the ledger's sum ${after.ledgerSum}`);
  }
  if (problems.length > 0) {
    throw new Error(`the textbook ceiling (bench/textbook-workload.ts) is wrong:\n  ${problems.join('\n  ')}`);
  }
}

/** After a textbook cell: every card's balance still equals its ledger sum, or the run stops. */
export async function checkLedgerAfterTextbook(serverUrl: string, database: string, cell: string): Promise<void> {
  const ledger = await checkLedger(serverUrl, database);
  if (ledger.drifted > 0) {
    throw new Error(`after the textbook cell ${cell}, ${ledger.drifted} cards' balances differ from their ledger`);
  }
}
