import { randomBytes, randomInt } from 'node:crypto';
import type { Connection } from 'mysql2/promise';
import type { GiftCardApi } from '../support/api';
import { assertLedgerInvariants } from '../support/ledger-invariants';
import { checkLedger, type CheckReport } from '../faults/support/checker';
import { drainAndJudge, eventWatermark, type EventCheckReport } from '../faults/support/event-checker';
import { EventTap } from '../support/event-tap';
import { GaleraCluster } from '../faults/support/galera-cluster';
import { watermark } from '../faults/support/ledger-snapshot';
import { Rng } from '../faults/support/random';
import { ServiceUnderTest } from '../faults/support/service-under-test';
import { Workload, type WorkloadResult } from '../faults/support/workload';
import { WorkloadWorld } from '../faults/support/world';

/**
 * Issue 19: the service on a three-node Galera cluster, two service processes writing through
 * different nodes, while nodes are SIGKILLed and restarted one at a time. Not part of `npm test`
 * (minutes of setup): `npm run test:cluster`. GALERA_DURATION_S, GALERA_KILLS, GALERA_CLIENTS and
 * GALERA_SEED change the run.
 */
const env = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
};
const DURATION_MS = env('GALERA_DURATION_S', 90) * 1_000;
const KILLS = env('GALERA_KILLS', 3);
const CLIENTS = env('GALERA_CLIENTS', 8);
const SEED = env('GALERA_SEED', randomInt(1, 2 ** 31));
const DATABASE = 'giftcard_cluster';
const CARDS = 6;
const OPENING_BALANCE_MINOR = 10_000n;
/** Cluster setup and node restarts (a state transfer each) on a loaded machine. */
const OVERHEAD_MS = 15 * 60_000;
const COVERAGE_TIMEOUT_MS = 60_000;
/** Liveness bound for the outbox to reach the consumer after the workload stops. */
const EVENT_DRAIN_TIMEOUT_MS = 60_000;
/** Liveness bound for a service to serve again after its node died; the figure itself is reported. */
const FAILOVER_TIMEOUT_MS = 60_000;
/** How long a killed node stays down before it is restarted, as a supervisor's delay would keep it. */
const NODE_DOWN_MS: readonly [number, number] = [2_000, 5_000];
const GAP_MS: readonly [number, number] = [3_000, 8_000];
const PROBE_MS = 100;
const GUARDED_AT_START = '"framing":"guarded","message":"card path transactions framed"';
const NODE_IN_USE = /"node":"([^"]+)","nodes":\d+,"message":"database node in use"/g;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let cluster: GaleraCluster | undefined;
const services: ServiceUnderTest[] = [];
/*
 * Both processes relay the outbox to the shared RabbitMQ, on an exchange of this run's own. Their
 * relays' SKIP LOCKED row locks are local to each node, so both may publish one batch; a consumer
 * that reads the broker must still get every committed event, and each card's in order.
 */
const exchange = `giftcard.events.galera-${randomBytes(4).toString('hex')}`;
let consumer: EventTap | undefined;

beforeAll(async () => {
  process.stderr.write(`galera failover: seed ${SEED}, ${CLIENTS} clients, ${DURATION_MS / 1_000} s, ${KILLS} kills\n`);
  cluster = await GaleraCluster.create(3);
  // Replicas of one service share its keys: each must read the hashes and sealed replies the other wrote.
  const keys = {
    CARD_NUMBER_INDEX_KEY: randomBytes(32).toString('hex'),
    PASSCODE_HASH_KEY: randomBytes(32).toString('hex'),
    RESPONSE_SEALING_KEY: randomBytes(32).toString('hex'),
  };
  // One after the other: the first applies the migrations, the second finds them applied.
  for (const first of [0, 1]) {
    services.push(
      await ServiceUnderTest.start({
        databaseUrl: cluster.node(first).url(DATABASE),
        // Each process lists the nodes starting from its own, so they write through different nodes.
        env: {
          ...keys,
          DATABASE_URL: cluster.url(DATABASE, first),
          DB_HEALTH_INTERVAL_MS: '250',
          EVENTS_AMQP_URL: process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
          EVENTS_EXCHANGE: exchange,
          EVENTS_BATCH_SIZE: '10',
          EVENTS_POLL_INTERVAL_MS: '100',
        },
      }),
    );
  }
  // Bound before anything is published, durable, as a consuming service's queue would be.
  consumer = await EventTap.open(exchange, { durable: true });
}, OVERHEAD_MS);

afterAll(async () => {
  await consumer?.close({ deleteExchange: true }).catch(() => undefined);
  for (const service of services) await service.close();
  await cluster?.destroy();
});

/** The node a service process said last that it uses, as host:port. */
function nodeInUse(service: ServiceUnderTest): string | null {
  return [...service.logs.text().matchAll(NODE_IN_USE)].at(-1)?.[1] ?? null;
}

interface Failover {
  readonly service: number;
  readonly node: number;
  /** From the SIGKILL to the first answered call through that process. */
  readonly callsResumedMs: number;
  /** From the SIGKILL to health SERVING with the process on another node. */
  readonly servingMs: number;
}

/** Polls one process until a call through it is answered and it reports SERVING on another node. */
async function untilFailedOver(
  service: ServiceUnderTest,
  probe: GiftCardApi,
  card: { cardNumber: string; passcode: string },
  deadNode: string,
  killedAt: number,
): Promise<{ callsResumedMs: number; servingMs: number }> {
  let callsResumedMs: number | null = null;
  let servingMs: number | null = null;
  while (callsResumedMs === null || servingMs === null) {
    if (Date.now() - killedAt > FAILOVER_TIMEOUT_MS) {
      throw new Error(`no failover from ${deadNode} within ${FAILOVER_TIMEOUT_MS} ms:\n${service.logs.tail()}`);
    }
    if (callsResumedMs === null) {
      const answered = await probe
        .balanceInquiry({ cardNumber: card.cardNumber, passcode: card.passcode }, { deadlineMs: 2_000 })
        .then(
          () => true,
          () => false,
        );
      if (answered) callsResumedMs = Date.now() - killedAt;
    }
    if (servingMs === null && nodeInUse(service) !== deadNode && (await service.health.check()) === 'SERVING') {
      servingMs = Date.now() - killedAt;
    }
    await sleep(PROBE_MS);
  }
  return { callsResumedMs, servingMs };
}

function summaryLine(result: WorkloadResult, report: CheckReport, failovers: readonly Failover[], kills: number) {
  const holding = report.invariants.filter((i) => i.holds).length;
  const slowest = (pick: (f: Failover) => number, service: number): string => {
    const mine = failovers.filter((f) => f.service === service);
    return mine.length === 0 ? 'its node never died' : `${Math.max(...mine.map(pick))} ms (${mine.length} failovers)`;
  };
  return (
    `galera failover (seed ${SEED}, 3 nodes, 2 service processes, ${CLIENTS} clients): ` +
    `${report.acknowledged} operations acknowledged, ${report.refused} refused, ${result.retries} retries, ` +
    `${kills} node kills; ${report.lost} lost, ${report.duplicated} duplicated, ${report.balancesOff} balances off; ` +
    `invariants ${holding}/${report.invariants.length} hold; no service restarts; ` +
    `process A calls answered again at most ${slowest((f) => f.callsResumedMs, 0)}, SERVING on another node at most ` +
    `${slowest((f) => f.servingMs, 0)} after its node died; process B ${slowest((f) => f.callsResumedMs, 1)}, ` +
    slowest((f) => f.servingMs, 1)
  );
}

describe('The service on a Galera cluster, its nodes killed one at a time', () => {
  it(
    'loses nothing, applies nothing twice, and each process moves to a live node without a restart',
    async () => {
      if (cluster === undefined || services.length !== 2) throw new Error('setup failed');
      const db = cluster;
      const [a, b] = services as [ServiceUnderTest, ServiceUnderTest];
      // Each process found it runs on Galera and guards its COMMITs (src/persistence/guarded-transaction.ts).
      for (const service of services) expect(service.logs.text()).toContain(GUARDED_AT_START);
      const since = await withAdmin(db, 0, watermark);
      const eventsSince = await withAdmin(db, 0, eventWatermark);
      const world = new WorkloadWorld();
      const rng = new Rng(SEED);
      const apis = Array.from({ length: CLIENTS }, (_, i) => (i % 2 === 0 ? a : b).newApi());
      const workload = new Workload(world, apis, rng, {
        clients: CLIENTS,
        callDeadlineMs: 3_000,
        replayShare: 0.1,
        drainTimeoutMs: 60_000,
      });
      await workload.issueCards(CARDS, OPENING_BALANCE_MINOR);
      const probes = [a.newApi(), b.newApi()];
      const probeCard = world.cards[0];
      if (probeCard === undefined) throw new Error('no cards');

      const failovers: Failover[] = [];
      const started = Date.now();
      let kills = 0;
      workload.start();
      let result: WorkloadResult;
      let unexercised: string[];
      try {
        const nemesis = rng.fork('nemesis');
        while (kills < KILLS || Date.now() - started < DURATION_MS) {
          await sleep(nemesis.int(...GAP_MS));
          // Round the nodes: every node, and so each process's, dies at least once in three kills.
          const victim = kills % 3;
          const deadNode = `127.0.0.1:${db.node(victim).port}`;
          const affected = services
            .map((service, index) => ({ service, index }))
            .filter(({ service }) => nodeInUse(service) === deadNode);
          const killedAt = Date.now();
          await db.node(victim).kill();
          kills++;
          const downFor = sleep(nemesis.int(...NODE_DOWN_MS));
          for (const { service, index } of affected) {
            const probe = probes[index] as GiftCardApi;
            failovers.push({
              service: index,
              node: victim,
              ...(await untilFailedOver(service, probe, probeCard, deadNode, killedAt)),
            });
          }
          await downFor;
          await db.restart(victim);
        }
        unexercised = await workload.untilEveryOperationAcknowledged(COVERAGE_TIMEOUT_MS);
      } finally {
        result = await workload.stop();
      }
      const report = await withAdmin(db, 0, (admin) => checkLedger(admin, since, result.records));
      const tap = consumer as EventTap;
      const events = await withAdmin(db, 0, (admin) =>
        drainAndJudge(
          admin,
          eventsSince,
          [{ name: 'consumer', received: () => tap.received.map((tapped) => tapped.event) }],
          EVENT_DRAIN_TIMEOUT_MS,
        ),
      );

      console.log(
        `${summaryLine(result, report, failovers, kills)}\nfailovers: ${failovers
          .map(
            (f) =>
              `${f.service === 0 ? 'A' : 'B'} off node${f.node + 1} answered in ${f.callsResumedMs} ms, SERVING in ${f.servingMs} ms`,
          )
          .join('; ')}\n${eventsLine(events)}\nanswers: ${JSON.stringify(result.answers)}`,
      );

      expect(report.violations).toEqual([]);
      expect(events.violations).toEqual([]);
      expect(report.invariants.filter((i) => !i.holds)).toEqual([]);
      expect({ lost: report.lost, duplicated: report.duplicated, balancesOff: report.balancesOff }).toEqual({
        lost: 0,
        duplicated: 0,
        balancesOff: 0,
      });
      expect(kills).toBeGreaterThanOrEqual(3);
      // Both processes lost their node at least once and came back on another, still running.
      expect(new Set(failovers.map((f) => f.service))).toEqual(new Set([0, 1]));
      expect(services.every((service) => service.running)).toBe(true);
      expect(unexercised).toEqual([]);
      expect(result.replayMismatches).toEqual([]);
      expect(result.anomalies).toEqual([]);
      await withAdmin(db, 1, assertLedgerInvariants);
    },
    DURATION_MS * 3 + COVERAGE_TIMEOUT_MS + OVERHEAD_MS,
  );
});

function eventsLine(report: EventCheckReport): string {
  const streams = report.consumers.map((c) => `${c.received} received, ${c.duplicates} duplicates`).join('; ');
  return `events: ${report.committedEvents} committed; ${streams}; ${report.violations.length} violations`;
}

/**
 * A fresh session on one node, whose reads wait until the node has applied everything the
 * cluster committed before them (wsrep_sync_wait): the writes came through the other nodes too.
 */
async function withAdmin<T>(db: GaleraCluster, node: number, use: (admin: Connection) => Promise<T>): Promise<T> {
  const admin = await db.node(node).connect(DATABASE);
  try {
    await admin.query('SET SESSION wsrep_sync_wait = 1');
    return await use(admin);
  } finally {
    await admin.end();
  }
}
