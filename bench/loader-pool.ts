import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FromLoader, LoadJob, LoadResult, ToLoader } from './protocol';

/** How long a loader may take past its window's end: the longest call deadline plus slack. */
const RESULT_GRACE_MS = 20_000;

/** The orchestrator's handle on the load generator processes. */
export class LoaderPool {
  private constructor(private readonly loaders: readonly ChildProcess[]) {}

  static async start(count: number): Promise<LoaderPool> {
    const loaders = Array.from({ length: count }, () =>
      // No inherited flags: a --cpu-prof meant for the server must not profile the load.
      fork(join(__dirname, 'load-generator.js'), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    await Promise.all(loaders.map((loader) => nextMessage(loader, 30_000)));
    return new LoaderPool(loaders);
  }

  get size(): number {
    return this.loaders.length;
  }

  get pids(): number[] {
    return this.loaders.flatMap((loader) => (loader.pid === undefined ? [] : [loader.pid]));
  }

  /** Runs one job per loader (a loader with no job stays idle) and collects the results. */
  async run(jobs: readonly LoadJob[]): Promise<LoadResult[]> {
    if (jobs.length > this.loaders.length) throw new Error('more jobs than load generators');
    return Promise.all(
      jobs.map(async (job, index) => {
        const loader = this.loaders[index]!;
        const reply = nextMessage(loader, Math.max(0, job.endsAt - Date.now()) + RESULT_GRACE_MS);
        loader.send({ type: 'run', job } satisfies ToLoader);
        const message = await reply;
        if (message.type === 'failed') throw new Error(`load generator failed: ${message.message}`);
        if (message.type !== 'result') throw new Error(`load generator sent ${message.type} instead of a result`);
        return message.result;
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(
      this.loaders.map(
        (loader) =>
          new Promise<void>((resolve) => {
            if (loader.exitCode !== null || loader.signalCode !== null) {
              resolve();
              return;
            }
            loader.once('exit', () => {
              resolve();
            });
            loader.send({ type: 'exit' } satisfies ToLoader);
          }),
      ),
    );
  }
}

function nextMessage(loader: ChildProcess, timeoutMs: number): Promise<FromLoader> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`load generator ${loader.pid ?? '?'} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: FromLoader): void => {
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`load generator ${loader.pid ?? '?'} exited with ${code ?? 'a signal'}`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      loader.off('message', onMessage);
      loader.off('exit', onExit);
    };
    loader.on('message', onMessage);
    loader.on('exit', onExit);
  });
}
