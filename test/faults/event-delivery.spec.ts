import { randomBytes, randomInt } from 'node:crypto';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { EventTap } from '../support/event-tap';
import { rawConnection } from '../support/test-database';
import { checkLedger } from './support/checker';
import { drainAndJudge, eventWatermark } from './support/event-checker';
import { watermark } from './support/ledger-snapshot';
import { PrivateBroker } from './support/private-broker';
import { Rng } from './support/random';
import { ServiceUnderTest } from './support/service-under-test';
import { TcpProxy } from './support/tcp-proxy';
import { Workload } from './support/workload';
import { WorkloadWorld } from './support/world';

/**
 * Events under faults (SPEC §11, issue 15): two service instances, each with its relay, publish
 * to a RabbitMQ node of the test's own through a proxy, while the workload's clients keep calling.
 * The faults: the broker link cut (reset) and swallowed (blackhole), an instance SIGKILLed while
 * it publishes, the broker stopped for a while. Two consumers read durable queues straight from
 * the broker. Afterwards, what they received is held against what the database committed.
 *
 * The broker is private, not the shared one on 5672, so it can be stopped; the proxy in front of
 * it gives the cuts, which stopping the broker cannot (a half-open link that confirms nothing).
 */
type EventFault = 'cut' | 'blackhole' | 'kill' | 'broker-stop';

const PROFILES = { ci: { durationS: 12, clients: 6 }, long: { durationS: 120, clients: 12 } } as const;
const profile = process.env.FAULT_PROFILE === 'long' ? PROFILES.long : PROFILES.ci;
/** Its own variable: FAULT_DURATION_S sets the money workload's run, up to an hour's soak. */
const durationMs = Number(process.env.EVENT_FAULT_DURATION_S ?? profile.durationS) * 1_000;
const seed = Number(process.env.FAULT_SEED ?? randomInt(1, 2 ** 31));
/** Broker boot (20-30 s on a loaded machine), two server starts, the drain, and slack. */
const OVERHEAD_MS = 180_000;
/** Liveness bound for the outbox to drain to both consumers after the last fault. */
const DRAIN_TIMEOUT_MS = 60_000;

let broker: PrivateBroker;
let link: TcpProxy;
const instances: ServiceUnderTest[] = [];
const consumers: EventTap[] = [];
let admin: Connection;
const exchange = `giftcard.events.faults-${randomBytes(4).toString('hex')}`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  broker = await PrivateBroker.start();
  link = await TcpProxy.start('127.0.0.1', broker.port);
  const env = {
    EVENTS_AMQP_URL: `amqp://guest:guest@127.0.0.1:${link.port}`,
    EVENTS_EXCHANGE: exchange,
    EVENTS_BATCH_SIZE: '10',
    EVENTS_POLL_INTERVAL_MS: '100',
    EVENTS_PUBLISH_TIMEOUT_MS: '1500',
    EVENTS_MAX_BACKOFF_MS: '500',
    // Two instances of one service: each must verify the other's cards and open its sealed replies
    // (a retry, or a reversal, may land on either).
    CARD_NUMBER_INDEX_KEY: randomBytes(32).toString('hex'),
    PASSCODE_HASH_KEY: randomBytes(32).toString('hex'),
    RESPONSE_SEALING_KEY: randomBytes(32).toString('hex'),
  };
  instances.push(await ServiceUnderTest.start({ env }), await ServiceUnderTest.start({ env }));
  // Bound before anything is published: a durable queue each, as two consuming services would have.
  consumers.push(
    await EventTap.open(exchange, { url: broker.url, durable: true }),
    await EventTap.open(exchange, {
      url: broker.url,
      durable: true,
      bindingKeys: ['giftcard.balance.*', 'giftcard.status.*', 'giftcard.wallet.*', 'giftcard.hold.*'],
    }),
  );
  admin = await rawConnection();
}, OVERHEAD_MS);

afterAll(async () => {
  await admin.end();
  for (const consumer of consumers) await consumer.close({ deleteExchange: true }).catch(() => undefined);
  for (const instance of instances) await instance.close();
  await link.close();
  await broker.close();
}, OVERHEAD_MS);

async function newestEntryId(): Promise<bigint> {
  const [[row]] = await admin.query<RowDataPacket[]>('SELECT COALESCE(MAX(id), 0) AS id FROM ledger_entry');
  return BigInt(String(row?.id));
}

describe('Events under broker cuts, a stopped broker and SIGKILLed instances', () => {
  it(
    'reach every consumer: each committed change at least once, none of a rolled-back one, each card in order',
    async () => {
      const rng = new Rng(seed);
      const since = await eventWatermark(admin);
      const ledgerSince = await watermark(admin);
      const world = new WorkloadWorld();
      const apis = Array.from({ length: profile.clients }, (_, i) => instances[i % instances.length]!.newApi());
      const workload = new Workload(world, apis, rng, {
        clients: profile.clients,
        callDeadlineMs: 3_000,
        replayShare: 0.1,
        drainTimeoutMs: 60_000,
      });
      await workload.issueCards(6, 10_000n);

      const tally: Record<EventFault, number> = { cut: 0, blackhole: 0, kill: 0, 'broker-stop': 0 };
      let entriesWhileBrokerStopped = 0n;
      workload.start();
      try {
        const until = Date.now() + durationMs;
        const bag = rng.shuffle<EventFault>(['cut', 'blackhole', 'kill', 'kill', 'broker-stop']);
        while (bag.length > 0 || Date.now() < until) {
          await sleep(rng.int(300, 1_200));
          const fault = bag.shift() ?? rng.pick<EventFault>(['cut', 'blackhole', 'kill', 'broker-stop']);
          if (fault === 'cut' || fault === 'blackhole') {
            link.cut(fault === 'cut' ? 'refuse' : 'blackhole');
            await sleep(rng.int(1_000, 2_500));
            link.restore();
          } else if (fault === 'kill') {
            // The workload keeps both relays publishing, so the kill lands mid-batch as often as not.
            const victim = rng.pick(instances);
            await victim.stopWith('SIGKILL');
            await victim.restart();
          } else {
            const before = await newestEntryId();
            await broker.stop();
            await sleep(rng.int(2_000, 4_000));
            entriesWhileBrokerStopped += (await newestEntryId()) - before;
            await broker.resume();
          }
          tally[fault]++;
        }
      } finally {
        link.restore();
        for (const instance of instances) if (!instance.running) await instance.restart();
      }
      const result = await workload.stop();

      const report = await drainAndJudge(
        admin,
        since,
        consumers.map((consumer, i) => ({
          name: `consumer ${i + 1}`,
          received: () => consumer.received.map((tapped) => tapped.event),
        })),
        DRAIN_TIMEOUT_MS,
      );
      const ledger = await checkLedger(admin, ledgerSince, result.records);
      console.log(
        `event delivery (seed ${seed}, ${profile.clients} clients, ${durationMs / 1000} s): ` +
          `${report.committedEntries} ledger entries, ${report.committedEvents} events committed; ` +
          `faults ${Object.entries(tally)
            .map(([fault, n]) => `${fault} ${n}`)
            .join(', ')}; ${entriesWhileBrokerStopped} entries committed while the broker was stopped; ` +
          report.consumers
            .map(
              (c, i) =>
                `${c.name}: ${c.received} received, ${c.duplicates} duplicates, ${consumers[i]?.reconnects} reconnects`,
            )
            .join('; ') +
          `; ${report.violations.length} violations`,
      );

      expect(report.violations).toEqual([]);
      expect(ledger.violations).toEqual([]);
      expect(report.committedEntries).toBeGreaterThan(0);
      expect(tally.cut).toBeGreaterThanOrEqual(1);
      expect(tally.blackhole).toBeGreaterThanOrEqual(1);
      expect(tally.kill).toBeGreaterThanOrEqual(2);
      expect(tally['broker-stop']).toBeGreaterThanOrEqual(1);
      // Money kept moving while there was no broker at all.
      expect(entriesWhileBrokerStopped).toBeGreaterThan(0n);
    },
    durationMs + DRAIN_TIMEOUT_MS + OVERHEAD_MS,
  );
});
