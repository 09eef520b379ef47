import { freePort } from './free-port';
import { measureCell, type Cell, type CellResult, type MeasureContext } from './measure';
import { cellLine } from './report';
import { SERVICE_SCRIPT, startServerProcess } from './server-process';

const SERVICE_READY = 'gift card service listening';

/** What the operators' instruments cost: the per-call JSON log line, the metrics and their endpoint. */
export type ObservabilityMode = 'off' | 'on';

async function modeEnv(mode: ObservabilityMode): Promise<Record<string, string>> {
  return mode === 'on'
    ? { LOG_CALLS: 'true', METRICS_HOST: '127.0.0.1', METRICS_PORT: String(await freePort('127.0.0.1')) }
    : { LOG_CALLS: 'false', METRICS_PORT: '0' };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/**
 * Distinct-card Redeem against the service with request log and metrics off, then on, in the same
 * run, interleaved `rounds` times (the order alternates, so a drift in the machine's load is shared),
 * and the median of each. Tracing stays off in both: it is off unless a collector is configured.
 */
export async function measureObservabilityOverhead(
  context: MeasureContext,
  serviceEnv: Readonly<Record<string, string>>,
  concurrency: number,
  rounds: number,
  say: (line: string) => void,
): Promise<string> {
  const results: Record<ObservabilityMode, CellResult[]> = { off: [], on: [] };
  const cell: Cell = { phase: 'service', scenario: 'redeem-distinct', concurrency, processes: 1, events: false };
  for (let round = 0; round < rounds; round++) {
    const order: ObservabilityMode[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
    for (const mode of order) {
      const server = await startServerProcess({
        script: SERVICE_SCRIPT,
        readyMessage: SERVICE_READY,
        processes: 1,
        env: { ...serviceEnv, ...(await modeEnv(mode)) },
      });
      try {
        const result = await measureCell(context, cell, { kind: 'grpc', address: server.address }, server.pids);
        say(`observability ${mode}: ${cellLine(result)}`);
        results[mode].push(result);
      } finally {
        await server.stop();
      }
    }
  }
  const rps = (mode: ObservabilityMode): number => median(results[mode].map((r) => r.rps));
  const p99 = (mode: ObservabilityMode): number => median(results[mode].map((r) => r.p99Ms));
  const cpu = (mode: ObservabilityMode): number => median(results[mode].map((r) => r.serverCpuPercent ?? 0));
  // Server CPU per answered call: on a machine others are using, throughput moves with their load
  // from one window to the next, while the CPU each call costs the server moves far less.
  const cpuMsPerCall = (mode: ObservabilityMode): number =>
    median(
      results[mode].map((r) =>
        r.ok === 0 ? 0 : (((r.serverCpuPercent ?? 0) / 100) * r.durationSeconds * 1000) / r.ok,
      ),
    );
  const overheadPercent = ((rps('off') - rps('on')) / rps('off')) * 100;
  const cpuOverheadPercent = ((cpuMsPerCall('on') - cpuMsPerCall('off')) / cpuMsPerCall('off')) * 100;
  return [
    `Distinct-card Redeem at c=${concurrency}, median of ${rounds} interleaved round(s); target: at most 5% fewer calls/s with request log and metrics on.`,
    '',
    '| request log + metrics | calls/s | p99 ms | server CPU % | server CPU ms/call |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| off (LOG_CALLS=false, METRICS_PORT=0) | ${rps('off').toFixed(0)} | ${p99('off').toFixed(1)} | ${cpu('off').toFixed(0)} | ${cpuMsPerCall('off').toFixed(2)} |`,
    `| on (LOG_CALLS=true, METRICS_PORT set) | ${rps('on').toFixed(0)} | ${p99('on').toFixed(1)} | ${cpu('on').toFixed(0)} | ${cpuMsPerCall('on').toFixed(2)} |`,
    '',
    `Overhead: ${overheadPercent.toFixed(1)}% of throughput (${overheadPercent <= 5 ? 'within' : 'over'} the 5% target); ` +
      `${cpuOverheadPercent.toFixed(1)}% more server CPU per call.`,
  ].join('\n');
}
