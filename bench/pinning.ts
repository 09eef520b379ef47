import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

/**
 * --pin: on a machine this small the load generators, the server and MySQL fight for the same
 * cores, and the scheduler moves them around between cells. Giving the generators a core of their
 * own makes every target pay the same load-generation cost on the same core. MySQL is shared with
 * other users of the machine, so it is left where it is.
 */
export interface Pinning {
  readonly loaders: string;
  readonly servers: string;
}

export function pinningPlan(): Pinning {
  const count = cpus().length;
  if (count < 2) throw new Error('--pin needs at least 2 CPUs');
  return { loaders: String(count - 1), servers: count === 2 ? '0' : `0-${count - 2}` };
}

/** taskset -a: every thread of each process, those already running included (libuv's pool). */
export function pin(pids: readonly number[], cpuList: string): void {
  for (const pid of pids) execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
}
