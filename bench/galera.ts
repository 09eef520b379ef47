import { join } from 'node:path';
import { GaleraCluster } from '../test/faults/support/galera-cluster';
import { recreateDatabase, seedCards } from './bench-database';
import { measureCell, type Cell, type CellResult, type MeasureContext } from './measure';
import type { ResultIndex } from './report';
import { SERVICE_SCRIPT, startServerProcess, type RunningServerProcess } from './server-process';
import type { HmacCardSecrets } from '../src/security/card-secrets';
import type { Scenario } from './scenarios';

const SERVICE_READY = 'gift card service listening';

export interface GaleraBenchInput {
  readonly context: MeasureContext;
  /** The main run's service settings (keys, pool size, log level); DATABASE_URL is replaced. */
  readonly serviceEnv: Readonly<Record<string, string>>;
  readonly secrets: HmacCardSecrets;
  readonly cards: number;
  readonly database: string;
  readonly concurrency: readonly number[];
  /** The run's --scenarios; of them, the Redeem ones are measured here. */
  readonly scenarios: readonly Scenario[];
  readonly repeat: number;
  readonly outDir: string;
  readonly say: (line: string) => void;
}

interface GaleraCells {
  readonly oneNode: CellResult;
  readonly twoNodes: CellResult;
}

const fixed = (value: number): string => value.toFixed(value < 10 ? 2 : 1);

/** Distinct cards never conflict at certification; one hot card through two nodes conflicts on every pair of commits. */
const GALERA_SCENARIOS: readonly Scenario[] = ['redeem-distinct', 'redeem-hot'];

/**
 * What certification costs: Redeem on a private three-node Galera cluster, all load through one
 * service process on one node, then the same load split over two processes writing through two
 * nodes (where every commit is certified against the other node's writesets). The cells are side
 * by side with the single server's from the main run of the same bench.
 */
export async function measureGalera(input: GaleraBenchInput, single: ResultIndex): Promise<string> {
  const { say } = input;
  say('galera: starting a private three-node cluster');
  const cluster = await GaleraCluster.create(3);
  const servers: RunningServerProcess[] = [];
  try {
    const firstNode = `mysql://root@127.0.0.1:${cluster.node(0).port}`;
    await recreateDatabase(firstNode, input.database);
    const cardsPath = join(input.outDir, 'galera-cards.json');
    await seedCards(firstNode, input.database, input.secrets, input.cards, cardsPath);
    // Its own cards file; the database's CPU is three processes here, not the one the main run watches.
    const context: MeasureContext = { ...input.context, cardsPath, databasePid: null };
    for (const node of [0, 1]) {
      servers.push(
        await startServerProcess({
          script: SERVICE_SCRIPT,
          readyMessage: SERVICE_READY,
          processes: 1,
          env: { ...input.serviceEnv, DATABASE_URL: cluster.url(input.database, node) },
        }),
      );
    }
    const [a, b] = servers as [RunningServerProcess, RunningServerProcess];
    const rows: GaleraRow[] = [];
    for (const scenario of GALERA_SCENARIOS.filter((name) => input.scenarios.includes(name))) {
      for (const concurrency of input.concurrency) {
        rows.push({ scenario, concurrency, cells: await measureRounds(input, context, [a, b], scenario, concurrency) });
      }
    }
    return galeraTable(rows, single);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await cluster.destroy();
  }
}

interface GaleraRow {
  readonly scenario: Scenario;
  readonly concurrency: number;
  readonly cells: readonly GaleraCells[];
}

async function measureRounds(
  input: GaleraBenchInput,
  context: MeasureContext,
  [a, b]: readonly [RunningServerProcess, RunningServerProcess],
  scenario: Scenario,
  concurrency: number,
): Promise<GaleraCells[]> {
  const { say } = input;
  const cells: GaleraCells[] = [];
  for (let round = 1; round <= input.repeat; round++) {
    const cell = (processes: number): Cell => ({ phase: 'service', scenario, concurrency, processes, events: false });
    const oneNode = await measureCell(context, cell(1), { kind: 'grpc', address: a.address }, a.pids);
    say(
      `galera ${scenario} one node   c=${concurrency}: ${oneNode.rps.toFixed(0)} req/s, p99 ${fixed(oneNode.p99Ms)} ms`,
    );
    const twoNodes = await measureCell(
      context,
      cell(2),
      [
        { kind: 'grpc', address: a.address },
        { kind: 'grpc', address: b.address },
      ],
      [...a.pids, ...b.pids],
    );
    say(
      `galera ${scenario} two nodes  c=${concurrency}: ${twoNodes.rps.toFixed(0)} req/s, p99 ${fixed(twoNodes.p99Ms)} ms`,
    );
    a.assertAlive();
    b.assertAlive();
    cells.push({ oneNode, twoNodes });
  }
  return cells;
}

function median<T>(items: readonly T[], rps: (item: T) => number): T {
  const sorted = [...items].sort((x, y) => rps(x) - rps(y));
  return sorted[Math.floor((sorted.length - 1) / 2)] as T;
}

function errorsOf(result: CellResult): string {
  const parts = Object.entries(result.errors).map(([code, count]) => `${code} ${count}`);
  return parts.length === 0 ? '0' : parts.join(', ');
}

function galeraTable(rows: readonly GaleraRow[], single: ResultIndex): string {
  const lines = [
    '| Scenario | c | single server (main run) | Galera, one node | Galera, two nodes | two nodes / one node | errors (one / two nodes) |',
    '|---|---|---|---|---|---|---|',
  ];
  const figure = (result: CellResult | undefined): string =>
    result === undefined
      ? '–'
      : `${result.rps.toFixed(0)}/s, p50 ${fixed(result.p50Ms)}, p99 ${fixed(result.p99Ms)} ms`;
  for (const { scenario, concurrency, cells } of rows) {
    const { oneNode } = median(cells, (c) => c.oneNode.rps);
    const { twoNodes } = median(cells, (c) => c.twoNodes.rps);
    const ratio = oneNode.rps === 0 ? '–' : `${((twoNodes.rps / oneNode.rps) * 100).toFixed(0)}%`;
    lines.push(
      `| ${scenario} | ${concurrency} | ${figure(single.find('service', scenario, concurrency, 1))} | ${figure(oneNode)} | ` +
        `${figure(twoNodes)} | ${ratio} | ${errorsOf(oneNode)} / ${errorsOf(twoNodes)} |`,
    );
  }
  return lines.join('\n');
}
