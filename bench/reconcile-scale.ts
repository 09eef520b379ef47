import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Connection } from 'mysql2/promise';
import { openDatabase } from '../src/persistence/data-source';
import { connectServer } from './bench-database';

/**
 * `npm run reconcile:scale -- --cards 1000000 --database giftcard_reconcile_scale`: seeds a ledger
 * of that many cards with bulk multi-row INSERTs into a database of its own (dropped and created
 * again), runs `npm run reconcile`'s command against it at each checkpoint (100,000 cards and the
 * full count by default), and prints its time and peak RSS next to the figures the seeding expects,
 * which the report must equal. Not part of npm test: a million cards take minutes.
 */

/** Rows per INSERT: about 300 bytes a row, well under the default 16 MB max_allowed_packet. */
const ROWS_PER_INSERT = 5_000;
const SERVER_URL_DEFAULT = 'mysql://root@127.0.0.1:3306';
const MAX_BALANCE_MINOR = 1_000_000n;

interface Expected {
  cards: number;
  entries: number;
  outstanding: bigint;
  issued: bigint;
  reloaded: bigint;
  redeemed: bigint;
  activeHolds: bigint;
  expired: bigint;
  deactivated: bigint;
}

const none = (): Expected => ({
  cards: 0,
  entries: 0,
  outstanding: 0n,
  issued: 0n,
  reloaded: 0n,
  redeemed: 0n,
  activeHolds: 0n,
  expired: 0n,
  deactivated: 0n,
});

const hex12 = (n: number): string => n.toString(16).padStart(12, '0');
const cardPublicId = (i: number): string => `00000000-0000-4000-8000-${hex12(i)}`;
const entryPublicId = (i: number, k: number): string => `0000000${k}-0000-4000-9000-${hex12(i)}`;
const holdPublicId = (i: number): string => `00000000-0000-4000-a000-${hex12(i)}`;
const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * Card i's story, the same every run: issued for 1,000 to 9,999; every third reloaded by 500;
 * every fourth redeemed 300; every tenth in EUR; every 53rd closed with money left on it; every 97th
 * past its expiry; every 100th with a hold of 100 open.
 */
function cardStory(i: number, now: Date) {
  const currency = i % 10 === 0 ? 'EUR' : 'USD';
  const moves: { type: string; amount: bigint }[] = [{ type: 'ISSUE', amount: BigInt(1_000 + (i % 9_000)) }];
  if (i % 3 === 0) moves.push({ type: 'RELOAD', amount: 500n });
  if (i % 4 === 0) moves.push({ type: 'REDEEM', amount: -300n });
  const balance = moves.reduce((sum, m) => sum + m.amount, 0n);
  const status = i % 53 === 0 ? 'DEACTIVATED' : 'ACTIVE';
  const expiresAt = i % 97 === 0 ? new Date(now.getTime() - 86_400_000) : null;
  const held = i % 100 === 0 && status === 'ACTIVE' ? 100n : 0n;
  return { currency, moves, balance, status, expiresAt, held };
}

async function insertRows(db: Connection, table: string, columns: string, rows: unknown[][]): Promise<void> {
  if (rows.length > 0) await db.query(`INSERT INTO ${table} (${columns}) VALUES ?`, [rows]);
}

/** Seeds cards (from, to], in batches of ROWS_PER_INSERT cards, and adds what they hold to `expected` per currency. */
async function seed(
  db: Connection,
  from: number,
  to: number,
  now: Date,
  expected: Map<string, Expected>,
): Promise<void> {
  const noHash = Buffer.alloc(32);
  const future = new Date(now.getTime() + 7 * 86_400_000);
  for (let start = from + 1; start <= to; start += ROWS_PER_INSERT) {
    const cards: unknown[][] = [];
    const entries: unknown[][] = [];
    const holds: unknown[][] = [];
    for (let i = start; i < Math.min(start + ROWS_PER_INSERT, to + 1); i++) {
      const story = cardStory(i, now);
      const e = expected.get(story.currency) ?? none();
      expected.set(story.currency, e);
      const hasHold = story.held > 0n;
      cards.push([
        i,
        cardPublicId(i),
        sha256(`number-${i}`),
        String(i % 10_000).padStart(4, '0'),
        noHash,
        story.currency,
        story.balance.toString(),
        story.status,
        story.expiresAt,
        story.held.toString(),
        hasHold ? 1 : 0,
        hasHold ? future : null,
        now,
        now,
      ]);
      let after = 0n;
      story.moves.forEach((move, k) => {
        after += move.amount;
        entries.push([
          entryPublicId(i, k),
          i,
          cardPublicId(i),
          move.type,
          move.amount.toString(),
          after.toString(),
          after.toString(),
          story.currency,
          move.type === 'REDEEM' ? null : `seed-${i}-${k}`,
          now,
        ]);
        if (move.type === 'ISSUE') e.issued += move.amount;
        if (move.type === 'RELOAD') e.reloaded += move.amount;
        if (move.type === 'REDEEM') e.redeemed -= move.amount;
      });
      if (hasHold) {
        holds.push([holdPublicId(i), i, story.held.toString(), story.currency, 'ACTIVE', `order-${i}`, now, future]);
      }
      e.cards++;
      e.entries += story.moves.length;
      e.outstanding += story.balance;
      e.activeHolds += story.held;
      if (story.status === 'DEACTIVATED') e.deactivated += story.balance;
      else if (story.expiresAt !== null) e.expired += story.balance;
    }
    await insertRows(
      db,
      'gift_card',
      'id, public_id, number_hash, number_last4, passcode_hash, currency, balance_minor, status, expires_at, ' +
        'held_minor, open_holds, next_hold_expires_at, created_at, updated_at',
      cards,
    );
    await insertRows(
      db,
      'ledger_entry',
      'public_id, card_id, operation_id, entry_type, amount_minor, balance_after_minor, available_after_minor, ' +
        'currency, external_ref, created_at',
      entries,
    );
    await insertRows(
      db,
      'card_hold',
      'public_id, card_id, amount_minor, currency, status, order_id, created_at, expires_at',
      holds,
    );
  }
}

interface CommandRun {
  readonly report: {
    cards: number;
    entries: number;
    discrepancyCount: number;
    totals: Record<string, unknown>[];
    elapsedMs: number;
    peakRssMb: number;
  };
  readonly progress: string;
}

/** Runs the built command as operators do, with its own process, so its peak RSS is its own. */
function runCommand(serverUrl: string, database: string): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(__dirname, '..', 'src', 'reconcile-command.js'), '--database', database],
      {
        env: { ...process.env, DATABASE_URL: `${serverUrl}/${database}`, MAX_BALANCE_MINOR: String(MAX_BALANCE_MINOR) },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error !== null && error.code !== 2) {
          reject(new Error(`reconcile failed: ${stderr}`));
          return;
        }
        resolve({ report: JSON.parse(stdout) as CommandRun['report'], progress: stderr });
      },
    );
  });
}

/** The report's figures that the seeding fixed, next to what it expected; empty when all agree. */
function mismatches(run: CommandRun, expected: Map<string, Expected>): string[] {
  const wrong: string[] = [];
  for (const [currency, e] of expected) {
    const got = run.report.totals.find((t) => t.currency === currency) as
      | { cards: number; entries: number; outstandingMinor: string; activeHoldsMinor: string; expiredMinor: string }
      | undefined;
    const flows = (got as unknown as { flows?: Record<string, string> } | undefined)?.flows;
    const pairs: [string, unknown, unknown][] = [
      ['cards', got?.cards, e.cards],
      ['entries', got?.entries, e.entries],
      ['outstanding', got?.outstandingMinor, e.outstanding.toString()],
      ['activeHolds', got?.activeHoldsMinor, e.activeHolds.toString()],
      ['expired', got?.expiredMinor, e.expired.toString()],
      ['deactivated', (got as { deactivatedMinor?: string } | undefined)?.deactivatedMinor, e.deactivated.toString()],
      ['issued', flows?.issued, e.issued.toString()],
      ['reloaded', flows?.reloaded, e.reloaded.toString()],
      ['redeemed', flows?.redeemed, e.redeemed.toString()],
    ];
    for (const [name, actual, want] of pairs)
      if (actual !== want) wrong.push(`${currency} ${name}: ${String(actual)} != ${String(want)}`);
  }
  if (run.report.discrepancyCount !== 0) wrong.push(`${run.report.discrepancyCount} discrepancies on a clean ledger`);
  return wrong;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cards: { type: 'string', default: '1000000' },
      database: { type: 'string', default: 'giftcard_reconcile_scale' },
      checkpoints: { type: 'string', default: '100000' },
      server: { type: 'string', default: process.env.BENCH_DATABASE_SERVER ?? SERVER_URL_DEFAULT },
    },
  });
  const total = Number(values.cards);
  const database = values.database;
  // This drops the database: only one named for this script.
  if (!/^giftcard_reconcile\w*$/.test(database)) throw new Error('--database must start with giftcard_reconcile');
  if (!Number.isInteger(total) || total <= 0) throw new Error('--cards must be a positive whole number');
  const checkpoints = [...new Set([...values.checkpoints.split(',').map(Number), total])]
    .filter((n) => Number.isInteger(n) && n > 0 && n <= total)
    .sort((a, b) => a - b);

  const admin = await connectServer(values.server);
  await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin.end();
  const migrated = await openDatabase({ url: `${values.server}/${database}`, poolSize: 1, connectTimeoutMs: 5_000 });
  await migrated.destroy();
  const db = await connectServer(values.server, database);
  const now = new Date();
  const expected = new Map<string, Expected>();
  let seeded = 0;
  try {
    for (const checkpoint of checkpoints) {
      const seedStarted = Date.now();
      await seed(db, seeded, checkpoint, now, expected);
      process.stdout.write(
        `seeded cards ${seeded + 1}..${checkpoint} in ${((Date.now() - seedStarted) / 1_000).toFixed(1)} s\n`,
      );
      seeded = checkpoint;
      const run = await runCommand(values.server, database);
      const wrong = mismatches(run, expected);
      process.stdout.write(
        `reconcile at ${checkpoint} cards: ${run.report.cards} cards, ${run.report.entries} entries in ` +
          `${(run.report.elapsedMs / 1_000).toFixed(1)} s, peak RSS ${run.report.peakRssMb} MB; ` +
          `${wrong.length === 0 ? 'totals equal the seeded figures, no discrepancies' : `MISMATCH: ${wrong.join('; ')}`}\n`,
      );
      if (wrong.length > 0) process.exitCode = 1;
    }
  } finally {
    await db.end();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `reconcile:scale failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
