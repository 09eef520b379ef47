import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { reconcileLedger, type LedgerReport } from './application/reconcile-ledger';
import { loadConfig } from './config';
import { createDataSource } from './persistence/data-source';
import { TypeOrmLedgerSnapshots } from './persistence/ledger-snapshot.repository';

/** A progress line at most this often: enough to see it move, few enough to read. */
const PROGRESS_EVERY_MS = 2_000;
/** Exit status when the ledger does not reconcile, apart from 1 for a run that failed: cron and CI tell them apart. */
const EXIT_DISCREPANCIES = 2;
const USAGE = `usage: npm run reconcile -- [--database NAME] [--max-listed N]

Checks the ledger of DATABASE_URL (or the database NAME on its server) on one consistent snapshot,
without locks, and prints the report as JSON on stdout; progress goes to stderr. Exit status 0 when
the ledger reconciles, ${EXIT_DISCREPANCIES} when it has discrepancies, 1 when the run failed.`;

const peakRssMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

/** DATABASE_URL, pointed at another database on the same server when --database names one. */
function databaseUrl(configured: string, database: string | undefined): string {
  if (database === undefined) return configured;
  if (!/^[A-Za-z0-9_]+$/.test(database))
    throw new Error(`--database "${database}" must be letters, digits and underscores`);
  const url = new URL(configured);
  url.pathname = `/${database}`;
  return url.toString();
}

/** The report as JSON: bigints as decimal strings, as the wire's int64 is in JSON. */
function reportJson(report: LedgerReport, elapsedMs: number): string {
  return JSON.stringify(
    { ...report, elapsedMs, peakRssMb: peakRssMb() },
    (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
    2,
  );
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      database: { type: 'string' },
      'max-listed': { type: 'string', default: '100' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const maxListed = Number(values['max-listed']);
  if (!Number.isInteger(maxListed) || maxListed < 0) throw new Error('--max-listed must be a whole number');
  // The command serves no calls, so the rules a serving process must meet in production (TLS, a
  // callers file) are not its concern; DATABASE_URL and MAX_BALANCE_MINOR are read as the service reads them.
  const config = loadConfig({ ...process.env, NODE_ENV: undefined });
  // No migrations and no CREATE DATABASE: the command only reads, and may point at a read-only replica.
  const dataSource = createDataSource({
    url: databaseUrl(config.databaseUrl, values.database),
    poolSize: 1,
    connectTimeoutMs: config.dbConnectTimeoutMs,
  });
  await dataSource.initialize();
  const started = Date.now();
  let lastProgressMs = started;
  try {
    const report = await reconcileLedger(
      {
        ledgerSnapshots: new TypeOrmLedgerSnapshots(dataSource),
        clock: { now: () => new Date() },
        limits: { maxBalanceMinor: config.maxBalanceMinor },
      },
      {
        maxListed,
        onProgress: ({ cards, discrepancies }) => {
          const now = Date.now();
          if (now - lastProgressMs < PROGRESS_EVERY_MS) return;
          lastProgressMs = now;
          process.stderr.write(
            `reconcile: ${cards} cards checked, ${discrepancies} discrepancies, ` +
              `${((now - started) / 1_000).toFixed(1)} s, peak RSS ${peakRssMb()} MB\n`,
          );
        },
      },
    );
    const elapsedMs = Date.now() - started;
    process.stdout.write(`${reportJson(report, elapsedMs)}\n`);
    process.stderr.write(
      `reconcile: done, ${report.cards} cards and ${report.entries} entries as of ${report.asOf.toISOString()} in ` +
        `${(elapsedMs / 1_000).toFixed(1)} s, peak RSS ${peakRssMb()} MB; ` +
        `${report.discrepancyCount === 0 ? 'the ledger reconciles' : `${report.discrepancyCount} DISCREPANCIES`}\n`,
    );
    return report.discrepancyCount === 0 ? 0 : EXIT_DISCREPANCIES;
  } finally {
    await dataSource.destroy();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`reconcile failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
