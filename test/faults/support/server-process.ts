import { spawn, type ChildProcess } from 'node:child_process';
import { REPOSITORY_ROOT } from './server-build';

/** Everything every server process of a spec wrote, kept to search for leaked secrets. */
export class LogCapture {
  private readonly chunks: string[] = [];
  /** Characters captured so far: a position to read on from with `textSince`. */
  length = 0;

  append(chunk: string): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  text(): string {
    return this.chunks.join('');
  }

  /** What was written after `position` (a `length` read earlier), without joining an hour of logs. */
  textSince(position: number): string {
    const recent: string[] = [];
    let start = this.length;
    for (let i = this.chunks.length - 1; i >= 0 && start > position; i--) {
      const chunk = this.chunks[i] ?? '';
      recent.unshift(chunk);
      start -= chunk.length;
    }
    return recent.join('').slice(position - start);
  }

  tail(characters = 4_000): string {
    return this.text().slice(-characters);
  }

  /** The settings the service's start-up DURABILITY warnings named, in the order logged. */
  durabilityWarnings(): string[] {
    return this.text()
      .split('\n')
      .filter((line) => line.includes('"level":"warn"') && line.includes('"message":"DURABILITY:'))
      .map((line) => String((JSON.parse(line) as { setting?: unknown }).setting));
  }
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A cold start (node, TypeORM, migrations check) on a loaded machine; liveness bound only. */
const START_TIMEOUT_MS = 60_000;
const LISTENING = /\{[^\n]*"message":"gift card service listening"[^\n]*\}/;

/** Every server process any spec started, so none outlives the test run whatever happens. */
const living = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of living) child.kill('SIGKILL');
});

/** `node dist/src/main.js` as production runs it, so it can be SIGKILLed and SIGTERMed for real. */
export class ServerProcess {
  readonly exited: Promise<Exit>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    exited: Promise<Exit>,
  ) {
    this.exited = exited;
  }

  static async start(
    entry: string,
    env: Record<string, string>,
    logs: LogCapture,
    nodeOptions: readonly string[] = [],
  ): Promise<ServerProcess> {
    const child = spawn(process.execPath, [...nodeOptions, entry], {
      cwd: REPOSITORY_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    living.add(child);
    const exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => {
        living.delete(child);
        resolve({ code, signal });
      });
    });
    let seen = '';
    const port = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`server did not start within ${START_TIMEOUT_MS} ms:\n${logs.tail()}`));
      }, START_TIMEOUT_MS);
      const onOutput = (chunk: Buffer): void => {
        const text = chunk.toString('utf8');
        logs.append(text);
        seen = (seen + text).slice(-1_000);
        const line = LISTENING.exec(seen)?.[0];
        if (line !== undefined) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { port: number }).port);
        }
      };
      child.stdout.on('data', onOutput);
      child.stderr.on('data', onOutput);
      void exited.then((exit) => {
        clearTimeout(timer);
        reject(new Error(`server exited at start (${exit.code ?? exit.signal}):\n${logs.tail()}`));
      });
    });
    try {
      return new ServerProcess(child, await port, exited);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
