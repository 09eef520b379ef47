import { writeFileSync } from 'node:fs';
import type { Connection } from 'mysql2/promise';
import { assertLedgerInvariants } from '../support/ledger-invariants';
import type { ReconcileLedgerResponse } from '../../gen/giftcard/v1/reconciliation';
import { checkLedger, type CheckReport } from './support/checker';
import type { CurrencyFigures } from './support/currency-totals';
import { watermark } from './support/ledger-snapshot';
import { faultSettings } from './support/fault-settings';
import { DURABLE_SETTINGS, MariaDbServer, RELAXED_SETTINGS } from './support/mariadb-server';
import { FAULTS, Nemesis, type FaultTally } from './support/nemesis';
import { Rng } from './support/random';
import { secretsIn, secretsInDatabase } from './support/secrets-scan';
import { ServiceUnderTest } from './support/service-under-test';
import { Workload, type WorkloadResult } from './support/workload';
import { WorkloadWorld } from './support/world';

const settings = faultSettings();
/** Setup (a private database server, the service), the drain after the last fault, the checks, a loaded machine. */
const OVERHEAD_MS = 240_000;
/**
 * Liveness bound for the run to complete every operation of the table at least once after the
 * last fault (a combine needs a spare card first); on a healthy machine it is already done.
 */
const COVERAGE_TIMEOUT_MS = 60_000;
/** Low enough that cards run dry: refusals (INSUFFICIENT_FUNDS) must leave no trace either. */
const OPENING_BALANCE_MINOR = 10_000n;
/** The run's database, on its own server: the nemesis crashes that server. */
const DATABASE = 'giftcard_faults';
/** What the service warns of at start when the server is relaxed (FAULT_DB_DURABILITY=relaxed). */
const RELAXED_WARNINGS = ['innodb_flush_log_at_trx_commit', 'sync_binlog', 'innodb_doublewrite'];

let database: MariaDbServer | undefined;
let sut: ServiceUnderTest | undefined;

beforeAll(async () => {
  // Written at once, not buffered with the test's output: a run that dies still says how to replay it.
  process.stderr.write(
    `fault workload: seed ${settings.seed} (FAULT_SEED=${settings.seed} replays its choices), ` +
      `${settings.clients} clients, ${settings.durationMs / 1_000} s, ${settings.databaseDurability} database\n`,
  );
  database = await MariaDbServer.create(
    settings.databaseDurability === 'relaxed' ? RELAXED_SETTINGS : DURABLE_SETTINGS,
  );
  sut = await ServiceUnderTest.start({ databaseUrl: database.url(DATABASE), skewableClock: true });
}, OVERHEAD_MS);

afterAll(async () => {
  await sut?.close();
  await database?.destroy();
});

function summaryLine(result: WorkloadResult, tally: FaultTally, report: CheckReport): string {
  const holding = report.invariants.filter((i) => i.holds).length;
  const { kill, sigterm, outage, 'database-crash': crash, 'clock-skew': skew } = tally.byFault;
  return (
    `fault workload (seed ${settings.seed}, ${settings.clients} clients, ${settings.databaseDurability} database): ` +
    `${report.acknowledged} operations acknowledged, ${report.refused} refused, ${result.retries} retries, ` +
    `${result.replays} replays, ${kill.injected} server kills, ${sigterm.injected} SIGTERM restarts, ` +
    `${tally.connectionKills} connection kills, ${(outage.downMs / 1_000).toFixed(1)} s outage ` +
    `(${outage.injected} outages), ${crash.injected} database crashes, ${skew.injected} clock skews ` +
    `(up to ${(tally.largestSkewMs / 1_000).toFixed(0)} s); ${report.lost} lost, ${report.duplicated} duplicated, ` +
    `${report.balancesOff} balances off; invariants ${holding}/${report.invariants.length} hold`
  );
}

/** How the service noticed the database going away and came back by itself. */
function recoveryLine(tally: FaultTally): string {
  const { outage, 'database-crash': crash } = tally.byFault;
  return (
    `recovery: NOT_SERVING seen in ${outage.seenNotServing} of ${outage.injected} outages and ` +
    `${crash.seenNotServing} of ${crash.injected} database crashes (down ${(crash.downMs / 1_000).toFixed(1)} s ` +
    `in all); SERVING again at most ${outage.slowestRecoveryMs} ms after the network returned, ` +
    `${crash.slowestRecoveryMs} ms after the restarted database answered`
  );
}

/** Acknowledged/refused calls per operation: the mix the run actually exercised. */
function operationLine(result: WorkloadResult, world: WorkloadWorld): string {
  const counts = new Map<string, { acknowledged: number; refused: number }>();
  for (const record of result.records) {
    const count = counts.get(record.operation) ?? { acknowledged: 0, refused: 0 };
    if (record.outcome === 'acknowledged') count.acknowledged++;
    if (record.outcome === 'refused') count.refused++;
    counts.set(record.operation, count);
  }
  const rows = [...counts].map(([name, count]) => `${name} ${count.acknowledged}/${count.refused}`);
  return (
    `acknowledged/refused by operation: ${rows.join(', ')}; ` +
    `${world.redirectedRefunds} refunds followed the money to a successor card`
  );
}

describe('The money operations under crashes of the server and of the database, killed connections, outages, SIGTERM and clock jumps', () => {
  it(
    'lose nothing and apply nothing twice: the ledger matches exactly what clients were told',
    async () => {
      if (database === undefined || sut === undefined) throw new Error('setup failed');
      const db = database;
      const service = sut;
      const since = await withAdmin(db, watermark);
      const world = new WorkloadWorld();
      const rng = new Rng(settings.seed);
      const workload = new Workload(
        world,
        Array.from({ length: settings.clients }, () => service.newApi()),
        rng,
        {
          clients: settings.clients,
          callDeadlineMs: settings.callDeadlineMs,
          replayShare: 0.1,
          drainTimeoutMs: 60_000,
        },
      );
      await workload.issueCards(settings.cards, OPENING_BALANCE_MINOR);
      const nemesis = new Nemesis(
        { sut: service, database: db, databaseName: DATABASE, connectAdmin: () => db.connect(DATABASE) },
        rng.fork('nemesis'),
        {
          gapMs: [300, 1_500],
          outageMs: [1_500, 3_500],
          databaseDownMs: [1_000, 2_500],
          clockSkewMs: [30_000, 600_000],
        },
      );

      const started = Date.now();
      workload.start();
      let tally: FaultTally;
      let result: WorkloadResult;
      let unexercised: string[];
      try {
        tally = await nemesis.run(settings.plan, settings.durationMs);
        unexercised = await workload.untilEveryOperationAcknowledged(COVERAGE_TIMEOUT_MS);
      } finally {
        // Whatever happened, the clients stop and get their last answers from a serving instance.
        service.database.restore();
        try {
          if (!db.running) await db.start();
          if (!service.running) await service.restart();
        } finally {
          result = await workload.stop();
        }
      }
      const ranMs = Date.now() - started;
      const { report, storedInClear } = await withAdmin(db, async (admin) => ({
        report: await checkLedger(admin, since, result.records),
        storedInClear: await secretsInDatabase(admin, DATABASE, world.secrets),
      }));
      const leakedToLogs = secretsIn(service.logs.text(), world.secrets);
      // Issue 17: the service's own reconciliation of the ledger the run left, against the checker's count.
      const reconciled = await service.newApi().reconcileLedger({ maxDiscrepancies: 1_000 });

      console.log(
        `${summaryLine(result, tally, report)}\n${recoveryLine(tally)}\n${operationLine(result, world)}\n` +
          reconcileLine(reconciled, report),
      );
      if (settings.reportPath !== null) {
        writeFileSync(
          settings.reportPath,
          JSON.stringify({ settings, ranMs, tally, report, answers: result.answers, retries: result.retries }, null, 2),
        );
      }

      expect(report.violations).toEqual([]);
      // The run's database is its own and was empty: the checker's rows are the whole ledger.
      expect(since).toEqual({ cardId: 0n, entryId: 0n });
      expect(reconciled.discrepancies).toEqual([]);
      expect(reconciled.discrepancyCount).toBe(0n);
      expect(figuresOf(reconciled)).toEqual(report.byCurrency);
      expect(report.invariants.filter((i) => !i.holds)).toEqual([]);
      expect({ lost: report.lost, duplicated: report.duplicated, balancesOff: report.balancesOff }).toEqual({
        lost: 0,
        duplicated: 0,
        balancesOff: 0,
      });
      expect(unexercised).toEqual([]);
      expect(result.replayMismatches).toEqual([]);
      expect(result.anomalies).toEqual([]);
      expect(tally.failures).toEqual([]);
      expect(FAULTS.filter((fault) => tally.byFault[fault].injected < settings.plan[fault])).toEqual([]);
      // The service noticed every database crash (NOT_SERVING) and came back by itself (above: no failures).
      const crashes = tally.byFault['database-crash'];
      expect(crashes.seenNotServing).toBe(crashes.injected);
      expect(tally.connectionKills).toBeGreaterThan(0);
      expect(tally.sigterms.map((exit) => exit.code)).toEqual(tally.sigterms.map(() => 0));
      expect(report.acknowledged).toBeGreaterThan(settings.cards);
      expect(leakedToLogs).toEqual([]);
      expect(storedInClear).toEqual([]);
      expect(service.logs.durabilityWarnings()).toEqual(
        settings.databaseDurability === 'relaxed' ? RELAXED_WARNINGS : [],
      );
      await withAdmin(db, assertLedgerInvariants);
    },
    // The plan may outlast the duration on a slow machine: the bound is for liveness only.
    2 * settings.durationMs + COVERAGE_TIMEOUT_MS + OVERHEAD_MS,
  );
});

/** ReconcileLedger's per-currency totals, named and written as the checker's (support/currency-totals.ts). */
function figuresOf(reconciled: ReconcileLedgerResponse): Record<string, CurrencyFigures> {
  return Object.fromEntries(
    reconciled.currencyTotals.map((t) => [
      t.currency,
      {
        cards: t.cardCount.toString(),
        entries: t.entryCount.toString(),
        outstanding: t.outstandingAmount.toString(),
        activeHolds: t.activeHoldsAmount.toString(),
        issued: t.issuedAmount.toString(),
        reloaded: t.reloadedAmount.toString(),
        adjusted: t.adjustedAmount.toString(),
        redeemed: t.redeemedAmount.toString(),
        refunded: t.refundedAmount.toString(),
        reversed: t.reversedAmount.toString(),
        movedIn: t.movedInAmount.toString(),
        movedOut: t.movedOutAmount.toString(),
      },
    ]),
  );
}

function reconcileLine(reconciled: ReconcileLedgerResponse, report: CheckReport): string {
  const agree = JSON.stringify(figuresOf(reconciled)) === JSON.stringify(report.byCurrency);
  const totals = reconciled.currencyTotals.map(
    (t) =>
      `${t.currency} outstanding ${t.outstandingAmount} on ${t.cardCount} cards, active holds ${t.activeHoldsAmount}, ` +
      `issued ${t.issuedAmount}, reloaded ${t.reloadedAmount}, adjusted ${t.adjustedAmount}, redeemed ${t.redeemedAmount}, refunded ${t.refundedAmount}, ` +
      `reversed ${t.reversedAmount}, moved ${t.movedInAmount}`,
  );
  return (
    `ReconcileLedger: ${reconciled.discrepancyCount} discrepancies; ${totals.join('; ')}; ` +
    `${agree ? 'equal to' : 'DIFFERENT FROM'} the checker's per-currency totals`
  );
}

/** A fresh session for each use: a database crash ends every session open at the time. */
async function withAdmin<T>(db: MariaDbServer, use: (admin: Connection) => Promise<T>): Promise<T> {
  const admin = await db.connect(DATABASE);
  try {
    return await use(admin);
  } finally {
    await admin.end();
  }
}
