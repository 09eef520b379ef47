import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from './free-port';
import { peakRssMb, processTree } from './process-stats';

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
/** Server stderr kept for the error message when a server fails to start or dies. */
const STDERR_TAIL_LINES = 40;

/** The compiled entry points, relative to dist/bench/. */
export const SERVICE_SCRIPT = join(__dirname, '..', 'src', 'main.js');
export const NOOP_SCRIPT = join(__dirname, 'noop-server.js');
const CLUSTER_SCRIPT = join(__dirname, 'cluster-server.js');

export interface ServerSpec {
  readonly script: string;
  /** The log message each server process writes once it listens. */
  readonly readyMessage: string;
  /** Server processes sharing the port: 1 runs the script itself, more run it under a cluster. */
  readonly processes: number;
  readonly env: Readonly<Record<string, string>>;
  /** Extra node flags, such as --cpu-prof. */
  readonly nodeArgs?: readonly string[];
}

export interface RunningServerProcess {
  readonly address: string;
  /** The processes that serve: the primary and its workers under a cluster. */
  readonly pids: readonly number[];
  /** Throws, with the server's last log lines, when it has died since it started. */
  assertAlive(): void;
  /** Stops the server gracefully (SIGTERM) and reports the peak RSS each process reached. */
  stop(): Promise<{ readonly peakRssMb: readonly number[] }>;
}

export async function startServerProcess(spec: ServerSpec): Promise<RunningServerProcess> {
  const port = await freePort(HOST);
  const clustered = spec.processes > 1;
  const child = spawn(process.execPath, [...(spec.nodeArgs ?? []), clustered ? CLUSTER_SCRIPT : spec.script], {
    env: {
      ...process.env,
      ...spec.env,
      GRPC_HOST: HOST,
      GRPC_PORT: String(port),
      BENCH_CLUSTER_SCRIPT: spec.script,
      BENCH_CLUSTER_WORKERS: String(spec.processes),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const tail: string[] = [];
  let listening = 0;
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`server did not listen within ${READY_TIMEOUT_MS} ms:\n${tail.join('\n')}`));
    }, READY_TIMEOUT_MS);
    createInterface({ input: child.stderr }).on('line', (line) => {
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
      if (line.includes(`"message":"${spec.readyMessage}"`) && ++listening === spec.processes) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${signal ?? code}) before listening:\n${tail.join('\n')}`));
    });
  });
  try {
    await ready;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const pid = child.pid!;
  const pids = processTree(pid);
  return {
    address: `${HOST}:${port}`,
    pids,
    assertAlive: () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`server ${pid} died (${child.signalCode ?? child.exitCode}):\n${tail.join('\n')}`);
      }
    },
    stop: async () => {
      const peaks = pids.map((p) => peakRssMb(p) ?? 0);
      await stopChild(child);
      return { peakRssMb: peaks };
    },
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
