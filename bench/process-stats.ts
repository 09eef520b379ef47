import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time and memory of other processes, read from Linux's /proc: the server and the database
 * are measured from outside, so measuring does not perturb them. Elsewhere every figure is null.
 */
const CLOCK_TICKS_PER_SECOND = readClockTicks();

function readClockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Fields of /proc/<pid>/stat after the command name, which may itself hold spaces and parentheses. */
function statFields(pid: number): string[] | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === null) return null;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** User plus system CPU time the process has used so far, in seconds. */
export function cpuSeconds(pid: number): number | null {
  const fields = statFields(pid);
  if (fields === null) return null;
  // utime and stime are fields 14 and 15 of stat; 12 and 13 counting from after the name.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  const status = readText(`/proc/${pid}/status`);
  const match = status === null ? null : new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/** Resident memory now, in MB. */
export function rssMb(pid: number): number | null {
  const kb = statusKb(pid, 'VmRSS');
  return kb === null ? null : kb / 1024;
}

/** The highest resident memory the process ever had, in MB. */
export function peakRssMb(pid: number): number | null {
  const kb = statusKb(pid, 'VmHWM');
  return kb === null ? null : kb / 1024;
}

function allPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/** The process and its descendants: a cluster primary and its workers. */
export function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const pid of allPids()) {
    const fields = statFields(pid);
    if (fields !== null) parentOf.set(pid, Number(fields[1]));
  }
  const tree = [root];
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, parent] of parentOf) {
      if (tree.includes(parent) && !tree.includes(pid)) {
        tree.push(pid);
        grew = true;
      }
    }
  }
  return tree;
}

/** The local database server, when it runs on this machine and /proc shows it. */
export function findDatabasePid(): number | null {
  for (const pid of allPids()) {
    const name = readText(`/proc/${pid}/comm`)?.trim();
    if (name === 'mariadbd' || name === 'mysqld') return pid;
  }
  return null;
}

/** Sums a figure over processes; null when none of them could be read. */
export function sumOver(pids: readonly number[], read: (pid: number) => number | null): number | null {
  let total: number | null = null;
  for (const pid of pids) {
    const value = read(pid);
    if (value !== null) total = (total ?? 0) + value;
  }
  return total;
}
