import { performance } from 'node:perf_hooks';
import { readCardSet, sliceFor, type CardSet } from './cards';
import { GrpcWorkload } from './grpc-workload';
import { LatencyHistogram } from './histogram';
import type { FromLoader, LoadJob, LoadResult, ToLoader } from './protocol';
import { operationFor } from './scenarios';
import { SqlWorkload } from './sql-workload';
import { TextbookWorkload } from './textbook-workload';
import type { Workload } from './workload';

/**
 * A load generator process: it runs its share of a cell's virtual users, closed-loop (each user
 * sends its next call when the last one is answered), and reports what completed inside the
 * measured window. It runs apart from the orchestrator and the server, so its own CPU is its own.
 */

/** The service's default DB_LOCK_WAIT_TIMEOUT_SECONDS; the SQL ceiling sets the same. */
const LOCK_WAIT_TIMEOUT_SECONDS = 2;

const cardSets = new Map<string, CardSet>();

function cardsAt(path: string): CardSet {
  let cards = cardSets.get(path);
  if (cards === undefined) {
    cards = readCardSet(path);
    cardSets.set(path, cards);
  }
  return cards;
}

function workloadFor(job: LoadJob): Workload {
  switch (job.target.kind) {
    case 'grpc':
      return new GrpcWorkload(job.target.address, job.channels);
    case 'sql':
      return new SqlWorkload({
        databaseUrl: job.target.databaseUrl,
        connections: job.users,
        lockWaitTimeoutSeconds: LOCK_WAIT_TIMEOUT_SECONDS,
      });
    case 'textbook':
      return new TextbookWorkload(job.target.databaseUrl);
  }
}

export async function runJob(job: LoadJob): Promise<LoadResult> {
  const cards = cardsAt(job.cardsPath);
  const workload = workloadFor(job);
  const latency = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let ok = 0;
  // Set by the timers below; read once the users are done.
  const cpu: { atWindowStart: NodeJS.CpuUsage | null; inWindow: NodeJS.CpuUsage | null } = {
    atWindowStart: null,
    inWindow: null,
  };
  const windowStart = setTimeout(
    () => {
      cpu.atWindowStart = process.cpuUsage();
    },
    Math.max(0, job.warmupEndsAt - Date.now()),
  );
  const windowEnd = setTimeout(
    () => {
      cpu.inWindow = process.cpuUsage(cpu.atWindowStart ?? undefined);
    },
    Math.max(0, job.endsAt - Date.now()),
  );

  const runUser = async (user: number): Promise<void> => {
    const slice = sliceFor(cards.distinct, user, job.totalUsers);
    let sequence = 0;
    while (Date.now() < job.endsAt) {
      const operation = operationFor(job.scenario, Math.random());
      const card = operation === 'redeem-hot' ? cards.hot : slice[sequence % slice.length]!;
      const call = { operation, card, idempotencyKey: `${job.keyPrefix}-${user}-${sequence}`, user };
      sequence++;
      const started = performance.now();
      let failure: string | null = null;
      try {
        await workload.perform(call);
      } catch (error) {
        failure = workload.classify(error);
      }
      const micros = (performance.now() - started) * 1000;
      const completedAt = Date.now();
      if (completedAt < job.warmupEndsAt || completedAt > job.endsAt) continue;
      if (failure === null) {
        ok++;
        latency.record(micros);
      } else {
        errors[failure] = (errors[failure] ?? 0) + 1;
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: job.users }, (_, i) => runUser(job.firstUser + i)));
  } finally {
    clearTimeout(windowStart);
    clearTimeout(windowEnd);
    await workload.close();
  }
  const used = cpu.inWindow ?? process.cpuUsage(cpu.atWindowStart ?? undefined);
  return { ok, errors, latency: latency.toSparse(), loaderCpuSeconds: (used.user + used.system) / 1e6 };
}

function send(message: FromLoader): void {
  process.send?.(message);
}

if (require.main === module) {
  process.on('message', (message: ToLoader) => {
    if (message.type === 'exit') {
      process.exit(0);
    }
    runJob(message.job).then(
      (result) => {
        send({ type: 'result', result });
      },
      (error: unknown) => {
        send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      },
    );
  });
  // The orchestrator's death must not leave generators hammering the server.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}
