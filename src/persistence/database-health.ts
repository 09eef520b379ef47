import { createConnection, type Connection } from 'mysql2/promise';
import type { Logger } from '../observability/logger';

export interface DatabaseHealthOptions {
  readonly url: string;
  /** Pause between the end of one probe and the start of the next. */
  readonly intervalMs: number;
  /** How long one probe may take, connecting included, before the database counts as unreachable. */
  readonly timeoutMs: number;
}

type Listener = (up: boolean) => void;

/**
 * Watches whether the database answers, with `SELECT 1` on a connection of its own: a probe that
 * queued behind busy calls in the pool would report load as an outage. While the database is
 * unreachable the service reports NOT_SERVING and refuses calls at once rather than letting each
 * one wait out a connect timeout; when it answers again, the service serves again by itself.
 */
export class DatabaseHealthMonitor {
  private up = true;
  private connection: Connection | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly listeners = new Set<Listener>();

  constructor(
    private readonly options: DatabaseHealthOptions,
    private readonly log: Logger,
  ) {}

  isUp(): boolean {
    return this.up;
  }

  /** Calls the listener on every change; returns the function that unsubscribes it. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.dropConnection();
  }

  /**
   * One probe. A probe that fails on the kept connection is tried once more on a fresh one: a
   * killed connection is not a dead database, and must not turn a healthy service away.
   */
  private async probe(): Promise<void> {
    let up = await this.probeOnce();
    if (!up) {
      this.dropConnection();
      up = await this.probeOnce();
      if (!up) this.dropConnection();
    }
    this.report(up);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.probe().finally(() => {
        this.schedule();
      });
    }, this.options.intervalMs);
    // The monitor alone must not keep a stopping process alive.
    this.timer.unref();
  }

  private async probeOnce(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => {
        resolve(false);
      }, this.options.timeoutMs);
    });
    try {
      return await Promise.race([this.selectOne(), timedOut]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  private async selectOne(): Promise<boolean> {
    if (this.connection === null) {
      const connection = await createConnection({ uri: this.options.url, connectTimeout: this.options.timeoutMs });
      // A connection killed while idle emits 'error'; unheard, that would crash the process. The
      // next probe finds it dead and retries on a fresh one.
      connection.on('error', () => undefined);
      if (this.stopped) {
        connection.destroy();
        return false;
      }
      this.connection = connection;
    }
    await this.connection.query('SELECT 1');
    return true;
  }

  private dropConnection(): void {
    this.connection?.destroy();
    this.connection = null;
  }

  private report(up: boolean): void {
    if (up === this.up || this.stopped) return;
    this.up = up;
    if (up) this.log.info('database reachable again; serving');
    else this.log.warn('database unreachable; refusing calls until it answers', { timeoutMs: this.options.timeoutMs });
    for (const listener of this.listeners) listener(up);
  }
}
