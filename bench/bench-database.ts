import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { generateCardNumber, generatePasscode, lastFour } from '../src/domain/card-number';
import { openDatabase } from '../src/persistence/data-source';
import type { HmacCardSecrets } from '../src/security/card-secrets';
import type { BenchCard, CardSet } from './cards';
import { CURRENCY } from './scenarios';

/** Rows per INSERT while seeding: big enough to be quick, small enough for max_allowed_packet. */
const SEED_BATCH_ROWS = 1_000;
/** Every seeded card starts here: half the default maximum, so reloads and redemptions both fit. */
export const SEED_BALANCE_MINOR = 500_000n;

/** The MySQL settings that decide what a commit costs, printed with every run. */
const DURABILITY_VARIABLES = [
  'innodb_flush_log_at_trx_commit',
  'sync_binlog',
  'log_bin',
  'innodb_doublewrite',
  'innodb_flush_method',
  'innodb_buffer_pool_size',
  'innodb_log_file_size',
  'thread_handling',
  'max_connections',
];

export function connectServer(serverUrl: string, database: string | null = null): Promise<Connection> {
  return createConnection({
    uri: database === null ? serverUrl : `${serverUrl}/${database}`,
    supportBigNumbers: true,
    bigNumberStrings: true,
    timezone: 'Z',
  });
}

export interface DatabaseFacts {
  readonly version: string;
  readonly variables: Readonly<Record<string, string>>;
}

export async function databaseFacts(serverUrl: string): Promise<DatabaseFacts> {
  const connection = await connectServer(serverUrl);
  try {
    const [[version]] = await connection.query<RowDataPacket[]>('SELECT VERSION() AS version');
    const [rows] = await connection.query<RowDataPacket[]>('SHOW GLOBAL VARIABLES WHERE Variable_name IN (?)', [
      DURABILITY_VARIABLES,
    ]);
    const variables = Object.fromEntries(rows.map((row) => [String(row.Variable_name), String(row.Value)]));
    return { version: String(version?.version), variables };
  } finally {
    await connection.end();
  }
}

/** Drops and recreates the bench's own database, then migrates it the way production does. */
export async function recreateDatabase(serverUrl: string, database: string): Promise<void> {
  if (!/^giftcard_bench\w*$/.test(database)) {
    // This drops a database: never one the bench did not name for itself.
    throw new Error(`refusing to drop "${database}": the bench database name must start with giftcard_bench`);
  }
  await dropDatabase(serverUrl, database);
  const dataSource = await openDatabase({ url: `${serverUrl}/${database}`, poolSize: 2, connectTimeoutMs: 5_000 });
  await dataSource.destroy();
}

export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  const connection = await connectServer(serverUrl);
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
  } finally {
    await connection.end();
  }
}

/**
 * Inserts `count` distinct cards and one hot card straight into the tables, each with its ISSUE
 * ledger entry, hashed with the secrets the server will run with; writes them to `cardsPath`
 * for the load generators. Issuing 10,000 cards through the RPC would only time the seeding.
 */
export async function seedCards(
  serverUrl: string,
  database: string,
  secrets: HmacCardSecrets,
  count: number,
  cardsPath: string,
): Promise<CardSet> {
  const numbers = new Set<string>();
  const cards: BenchCard[] = [];
  while (cards.length < count + 1) {
    const cardNumber = generateCardNumber();
    if (numbers.has(cardNumber)) continue;
    numbers.add(cardNumber);
    cards.push({
      id: String(cards.length + 1),
      publicId: randomUUID(),
      cardNumber,
      passcode: generatePasscode(),
      numberHashHex: Buffer.from(secrets.numberHash(cardNumber)).toString('hex'),
    });
  }
  const connection = await connectServer(serverUrl, database);
  try {
    const now = new Date();
    for (let start = 0; start < cards.length; start += SEED_BATCH_ROWS) {
      const batch = cards.slice(start, start + SEED_BATCH_ROWS);
      await connection.query(
        `INSERT INTO gift_card (id, public_id, number_hash, number_last4, passcode_hash, currency, balance_minor,
           status, created_at, updated_at) VALUES ?`,
        [
          batch.map((card) => [
            card.id,
            card.publicId,
            Buffer.from(card.numberHashHex, 'hex'),
            lastFour(card.cardNumber),
            Buffer.from(secrets.hashPasscode(card.publicId, card.passcode)),
            CURRENCY,
            SEED_BALANCE_MINOR.toString(),
            'ACTIVE',
            now,
            now,
          ]),
        ],
      );
      await connection.query(
        `INSERT INTO ledger_entry (public_id, card_id, operation_id, entry_type, amount_minor, balance_after_minor,
           currency, external_ref, created_at) VALUES ?`,
        [
          batch.map((card) => [
            randomUUID(),
            card.id,
            randomUUID(),
            'ISSUE',
            SEED_BALANCE_MINOR.toString(),
            SEED_BALANCE_MINOR.toString(),
            CURRENCY,
            `bench-seed-${card.id}`, // a purchase funds one card: the funding reference is unique
            now,
          ]),
        ],
      );
    }
  } finally {
    await connection.end();
  }
  const set: CardSet = { distinct: cards.slice(0, count), hot: cards[count]! };
  writeFileSync(cardsPath, JSON.stringify(set));
  return set;
}

export interface LedgerCheck {
  readonly cards: number;
  readonly entries: number;
  /** Cards whose balance differs from the sum of their ledger entries: must be zero. */
  readonly drifted: number;
}

/** SPEC §3 after the load: every balance equals the sum of its ledger entries. */
export async function checkLedger(serverUrl: string, database: string): Promise<LedgerCheck> {
  const connection = await connectServer(serverUrl, database);
  try {
    const [[counts]] = await connection.query<RowDataPacket[]>(
      'SELECT (SELECT COUNT(*) FROM gift_card) AS cards, (SELECT COUNT(*) FROM ledger_entry) AS entries',
    );
    const [[drift]] = await connection.query<RowDataPacket[]>(`
      SELECT COUNT(*) AS drifted FROM (
        SELECT c.id FROM gift_card c LEFT JOIN ledger_entry e ON e.card_id = c.id
        GROUP BY c.id, c.balance_minor
        HAVING c.balance_minor <> COALESCE(SUM(e.amount_minor), 0) OR c.balance_minor < 0) d`);
    return { cards: Number(counts?.cards), entries: Number(counts?.entries), drifted: Number(drift?.drifted) };
  } finally {
    await connection.end();
  }
}
