import { writeFileSync } from 'node:fs';
import type { Connection } from 'mysql2/promise';
import { assertLedgerInvariants } from '../support/ledger-invariants';
import { rawConnection, testDatabaseName } from '../support/test-database';
import { checkLedger, type CheckReport } from './support/checker';
import { watermark } from './support/ledger-snapshot';
import { faultSettings } from './support/fault-settings';
import { Nemesis, type FaultTally } from './support/nemesis';
import { Rng } from './support/random';
import { secretsIn, secretsInDatabase } from './support/secrets-scan';
import { ServiceUnderTest } from './support/service-under-test';
import { Workload, type WorkloadResult } from './support/workload';
import { WorkloadWorld } from './support/world';

const settings = faultSettings();
/** Setup, the drain after the last fault, the checks, and a loaded machine's slowness. */
const OVERHEAD_MS = 240_000;
/**
 * Liveness bound for the run to complete every operation of the table at least once after the
 * last fault (a combine needs a spare card first); on a healthy machine it is already done.
 */
const COVERAGE_TIMEOUT_MS = 60_000;
/** Low enough that cards run dry: refusals (INSUFFICIENT_FUNDS) must leave no trace either. */
const OPENING_BALANCE_MINOR = 10_000n;

let sut: ServiceUnderTest;
let admin: Connection;

beforeAll(async () => {
  sut = await ServiceUnderTest.start();
  admin = await rawConnection();
}, OVERHEAD_MS);

afterAll(async () => {
  await admin.end();
  await sut.close();
});

function summaryLine(result: WorkloadResult, tally: FaultTally, report: CheckReport): string {
  const holding = report.invariants.filter((i) => i.holds).length;
  return (
    `fault workload (seed ${settings.seed}, ${settings.clients} clients): ` +
    `${report.acknowledged} operations acknowledged, ${report.refused} refused, ${result.retries} retries, ` +
    `${result.replays} replays, ${tally.serverKills} server kills, ${tally.sigterms.length} SIGTERM restarts, ` +
    `${tally.connectionKills} connection kills, ${(tally.outageMs / 1_000).toFixed(1)} s outage ` +
    `(${tally.outages} outages); ${report.lost} lost, ${report.duplicated} duplicated, ` +
    `${report.balancesOff} balances off; ` +
    `invariants ${holding}/${report.invariants.length} hold`
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

describe('The money operations under crashes, killed connections, outages and SIGTERM', () => {
  it(
    'lose nothing and apply nothing twice: the ledger matches exactly what clients were told',
    async () => {
      const since = await watermark(admin);
      const world = new WorkloadWorld();
      const rng = new Rng(settings.seed);
      const workload = new Workload(
        world,
        Array.from({ length: settings.clients }, () => sut.newApi()),
        rng,
        {
          clients: settings.clients,
          callDeadlineMs: settings.callDeadlineMs,
          replayShare: 0.1,
          drainTimeoutMs: 60_000,
        },
      );
      await workload.issueCards(settings.cards, OPENING_BALANCE_MINOR);
      const nemesis = new Nemesis(sut, admin, testDatabaseName(), rng, {
        gapMs: [300, 1_500],
        outageMs: [1_500, 3_500],
      });

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
        sut.database.restore();
        try {
          if (!sut.running) await sut.restart();
        } finally {
          result = await workload.stop();
        }
      }
      const ranMs = Date.now() - started;
      const report = await checkLedger(admin, since, result.records);
      const leakedToLogs = secretsIn(sut.logs.text(), world.secrets);
      const storedInClear = await secretsInDatabase(admin, testDatabaseName(), world.secrets);

      console.log(`${summaryLine(result, tally, report)}\n${operationLine(result, world)}`);
      if (settings.reportPath !== null) {
        writeFileSync(
          settings.reportPath,
          JSON.stringify({ settings, ranMs, tally, report, answers: result.answers, retries: result.retries }, null, 2),
        );
      }

      expect(report.violations).toEqual([]);
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
      expect(tally.serverKills).toBeGreaterThanOrEqual(5);
      expect(tally.connectionKills).toBeGreaterThan(0);
      expect(tally.outages).toBeGreaterThanOrEqual(2);
      expect(tally.sigterms.map((exit) => exit.code)).toEqual(tally.sigterms.map(() => 0));
      expect(report.acknowledged).toBeGreaterThan(settings.cards);
      expect(leakedToLogs).toEqual([]);
      expect(storedInClear).toEqual([]);
      await assertLedgerInvariants(admin);
    },
    settings.durationMs + COVERAGE_TIMEOUT_MS + OVERHEAD_MS,
  );
});
