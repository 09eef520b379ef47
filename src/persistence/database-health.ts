import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import type { Logger } from '../observability/logger';
import type { DatabaseHostSelector } from './database-hosts';

export interface DatabaseHealthOptions {
  /** The hosts DATABASE_URL names and the one in use; the probe moves it when that one stops answering. */
  readonly hosts: DatabaseHostSelector;
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
 *
 * With several hosts (a Galera cluster), a node counts as answering only while it is ready for
 * writes (wsrep_ready); when the node in use stops, the others are probed in turn and the first
 * ready one takes every pool's new connections. The service is NOT_SERVING only while none is.
 */
export class DatabaseHealthMonitor {
  private up = true;
  private connection: Connection | null = null;
  private connectionHost = -1;
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
   * killed connection is not a dead database, and must not turn a healthy service away. Then the
   * other hosts, in failover order.
   */
  private async probe(): Promise<void> {
    const hosts = this.options.hosts;
    let up = await this.probeOnce(hosts.inUse);
    if (!up) {
      this.dropConnection();
      up = await this.probeOnce(hosts.inUse);
      if (!up) this.dropConnection();
    }
    for (const index of hosts.failoverOrder().slice(1)) {
      if (up || this.stopped) break;
      up = await this.probeOnce(index);
      if (up) {
        const from = hosts.inUseName;
        hosts.moveTo(index);
        this.log.warn('database node changed; new connections go to the next ready node', {
          from,
          to: hosts.inUseName,
        });
      } else this.dropConnection();
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

  private async probeOnce(index: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => {
        resolve(false);
      }, this.options.timeoutMs);
    });
    try {
      return await Promise.race([this.selectOne(index), timedOut]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  private async selectOne(index: number): Promise<boolean> {
    if (this.connection !== null && this.connectionHost !== index) this.dropConnection();
    if (this.connection === null) {
      const connection = await createConnection({
        uri: this.options.hosts.endpoints.urlOf(index),
        connectTimeout: this.options.timeoutMs,
      });
      // A connection killed while idle emits 'error'; unheard, that would crash the process. The
      // next probe finds it dead and retries on a fresh one.
      connection.on('error', () => undefined);
      if (this.stopped) {
        connection.destroy();
        return false;
      }
      this.connection = connection;
      this.connectionHost = index;
    }
    await this.connection.query('SELECT 1');
    return this.options.hosts.size === 1 || (await isReadyForWrites(this.connection));
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

/**
 * A Galera node serves writes only in the primary component and once synced enough (wsrep_ready);
 * a node that is joining, or cut off from the majority, accepts connections but refuses queries
 * (1047). A server without Galera (wsrep_on off) is always ready.
 */
async function isReadyForWrites(connection: Connection): Promise<boolean> {
  const [wsrepOn] = await connection.query<RowDataPacket[]>("SHOW GLOBAL VARIABLES LIKE 'wsrep_on'");
  if (wsrepOn[0]?.Value !== 'ON') return true;
  const [ready] = await connection.query<RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'wsrep_ready'");
  return ready[0]?.Value === 'ON';
}
