import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createConnection, type Connection } from 'mysql2/promise';

/** mariadbd options, by name without the dashes: `{ 'sync-binlog': 1 }` is `--sync-binlog=1`. */
export type ServerSettings = Readonly<Record<string, string | number>>;

/**
 * What docs/reliability.md asks of a production server: the redo log flushed at every commit, a
 * binary log (as replication needs) synced at every commit, pages written twice. A commit the
 * server acknowledged survives a crash of the process or of the machine.
 */
export const DURABLE_SETTINGS: ServerSettings = {
  'log-bin': 'binlog',
  'server-id': 1,
  'innodb-flush-log-at-trx-commit': 1,
  'sync-binlog': 1,
  'innodb-doublewrite': 1,
};

/**
 * Everything that lets acknowledged commits go missing. With flush_log_at_trx_commit=0 a commit
 * stays in the log buffer, in the server's own memory, until the once-a-second background flush:
 * a SIGKILL of the process loses it. (With 2 the log is written to the OS at each commit, and only
 * a crash of the machine loses it; a process kill does not.)
 */
export const RELAXED_SETTINGS: ServerSettings = {
  ...DURABLE_SETTINGS,
  'innodb-flush-log-at-trx-commit': 0,
  'sync-binlog': 0,
  'innodb-doublewrite': 0,
};

/** The ports the fault suite was given on the shared machine; an ephemeral one if all are taken. */
const PREFERRED_PORTS = Array.from({ length: 10 }, (_, i) => 3400 + i);
/** Where Debian installs them (mariadbd is not on a non-root PATH). */
const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
/** Liveness bounds on a loaded machine: a fresh data directory, a start with crash recovery, an exit. */
const INSTALL_TIMEOUT_MS = 120_000;
const START_TIMEOUT_MS = 120_000;
const EXIT_TIMEOUT_MS = 60_000;
const READY_POLL_MS = 100;
/** What mariadbd writes to its error log when its port is taken. */
const PORT_TAKEN = /Do you already have another (?:server|mysqld|mariadbd) running on port|Address already in use/;

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const runningAsRoot = process.getuid?.() === 0;

/** Every server any spec started, so none outlives the test process and no data directory stays behind. */
const living = new Set<MariaDbServer>();
process.once('exit', () => {
  for (const server of living) server.abandon();
});

/**
 * A private MariaDB server for a test that must crash the database: its own data directory made
 * by mariadb-install-db in a temp dir, its own port, socket and pid file, never the shared server.
 * It can be SIGKILLed (a crash: InnoDB recovers at the next start), stopped and started again on the
 * same port and data. Several make a cluster: `install` chooses a port without starting, so each
 * node's settings can name the others before any of them starts.
 */
export class MariaDbServer {
  private process: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly directory: string,
    readonly port: number,
    private readonly settings: ServerSettings,
  ) {
    living.add(this);
  }

  /** A data directory on a port free right now; not started. */
  static async install(
    settings: ServerSettings = DURABLE_SETTINGS,
    avoidPorts: readonly number[] = [],
    preferredPorts: readonly number[] = PREFERRED_PORTS,
  ): Promise<MariaDbServer> {
    const directory = mkdtempSync(join(tmpdir(), 'giftcard-mariadb-'));
    try {
      await run(
        INSTALL_DB,
        [
          '--no-defaults',
          `--datadir=${join(directory, 'data')}`,
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
          ...(runningAsRoot ? ['--user=root'] : []),
        ],
        { timeout: INSTALL_TIMEOUT_MS },
      );
      return new MariaDbServer(directory, await freePort(avoidPorts, preferredPorts), settings);
    } catch (error) {
      rmSync(directory, { recursive: true, force: true });
      throw error;
    }
  }

  /** Installs and starts a server; if another process takes its port first, tries another one. */
  static async create(settings: ServerSettings = DURABLE_SETTINGS): Promise<MariaDbServer> {
    const taken: number[] = [];
    for (;;) {
      const server = await MariaDbServer.install(settings, taken);
      try {
        await server.start();
        return server;
      } catch (error) {
        const portWasTaken = PORT_TAKEN.test(server.errorLog());
        await server.destroy();
        if (!portWasTaken || taken.length >= PREFERRED_PORTS.length) throw error;
        taken.push(server.port);
      }
    }
  }

  /** `mysql://root@127.0.0.1:port`, with `/database` when given. */
  url(database?: string): string {
    return `mysql://root@127.0.0.1:${this.port}${database === undefined ? '' : `/${database}`}`;
  }

  get running(): boolean {
    return this.process !== null && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** An administrative session, read the way the fault specs read rows (BIGINT as strings, UTC). */
  connect(database?: string): Promise<Connection> {
    return createConnection({
      uri: this.url(database),
      supportBigNumbers: true,
      bigNumberStrings: true,
      timezone: 'Z',
    });
  }

  /**
   * Starts the server on its data directory and waits until it answers a query (after crash
   * recovery, if the last run was killed). `extraOptions` apply to this start only (a cluster's
   * bootstrap node passes `--wsrep-new-cluster`).
   */
  async start(extraOptions: readonly string[] = []): Promise<void> {
    if (this.running) throw new Error(`the server on port ${this.port} is already running`);
    const child = spawn(MARIADBD, this.commandLine(extraOptions), { stdio: 'ignore' });
    this.process = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        resolve();
      });
    });
    const giveUpAt = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`mariadbd on port ${this.port} exited at start:\n${this.errorLog()}`);
      if (await this.answers()) return;
      if (Date.now() > giveUpAt) {
        await this.kill();
        throw new Error(
          `mariadbd on port ${this.port} did not answer within ${START_TIMEOUT_MS} ms:\n${this.errorLog()}`,
        );
      }
      await sleep(READY_POLL_MS);
    }
  }

  /**
   * Runs mariadbd on the data directory with `extraOptions` until its error log says what
   * `awaited` matches (a Galera node's `--wsrep-recover` and its recovered position), and returns
   * the match. The run is then SIGKILLed if it has not exited: after a node was killed during a
   * state transfer, a recovery run on MariaDB 10.11 can print its position and then never exit
   * (seen here in three cluster runs); what it recovered is InnoDB's, and the next start
   * recovers the same again.
   */
  async runUntilLogged(extraOptions: readonly string[], awaited: RegExp): Promise<RegExpExecArray> {
    if (this.running) throw new Error(`the server on port ${this.port} is running`);
    const before = this.errorLog(Number.MAX_SAFE_INTEGER).length;
    const logged = (): RegExpExecArray | null => awaited.exec(this.errorLog(Number.MAX_SAFE_INTEGER).slice(before));
    const child = spawn(MARIADBD, this.commandLine(extraOptions), { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        resolve();
      });
    });
    const giveUpAt = Date.now() + START_TIMEOUT_MS;
    try {
      for (;;) {
        // Whether it had exited is read before the log, so a last line written on the way out counts.
        const exitedBefore = child.exitCode !== null || child.signalCode !== null;
        const match = logged();
        if (match !== null) return match;
        if (exitedBefore) {
          throw new Error(
            `mariadbd ${extraOptions.join(' ')} on port ${this.port} exited without it:\n${this.errorLog()}`,
          );
        }
        if (Date.now() > giveUpAt) {
          throw new Error(
            `mariadbd ${extraOptions.join(' ')} on port ${this.port} did not log it:\n${this.errorLog()}`,
          );
        }
        await sleep(READY_POLL_MS);
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  }

  private commandLine(extraOptions: readonly string[]): string[] {
    return [
      '--no-defaults',
      `--datadir=${join(this.directory, 'data')}`,
      `--port=${this.port}`,
      '--bind-address=127.0.0.1',
      `--socket=${join(this.directory, 'mariadbd.sock')}`,
      `--pid-file=${join(this.directory, 'mariadbd.pid')}`,
      `--log-error=${join(this.directory, 'error.log')}`,
      '--skip-name-resolve',
      ...(runningAsRoot ? ['--user=root'] : []),
      ...Object.entries(this.settings).map(([name, value]) => `--${name}=${value}`),
      ...extraOptions,
    ];
  }

  /** A crash: SIGKILL, nothing flushed, nothing rolled back until the next start recovers. */
  kill(): Promise<void> {
    return this.stopWith('SIGKILL');
  }

  /** A clean shutdown. */
  stop(): Promise<void> {
    return this.stopWith('SIGTERM');
  }

  /** Stops the server and removes its data directory. */
  async destroy(): Promise<void> {
    if (this.running) await this.kill();
    rmSync(this.directory, { recursive: true, force: true });
    living.delete(this);
  }

  /** The end of the server's error log: what it said when it would not start. */
  errorLog(characters = 4_000): string {
    try {
      return readFileSync(join(this.directory, 'error.log'), 'utf8').slice(-characters);
    } catch {
      return '(no error log)';
    }
  }

  /** For the exit handler only: the test process is ending, whatever state the server is in. */
  abandon(): void {
    this.process?.kill('SIGKILL');
    rmSync(this.directory, { recursive: true, force: true });
  }

  private async stopWith(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const child = this.process;
    if (child === null || !this.running) return;
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.exited,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`mariadbd on port ${this.port} did not exit within ${EXIT_TIMEOUT_MS} ms of ${signal}`));
        }, EXIT_TIMEOUT_MS);
      }),
    ]).finally(() => {
      clearTimeout(timer);
    });
  }

  private async answers(): Promise<boolean> {
    try {
      const connection = await this.connect();
      try {
        await connection.query('SELECT 1');
        return true;
      } finally {
        connection.destroy();
      }
    } catch {
      return false;
    }
  }
}

/** The first preferred port nobody listens on now, else one the OS picks. */
export async function freePort(
  avoid: readonly number[],
  preferred: readonly number[] = PREFERRED_PORTS,
): Promise<number> {
  for (const port of preferred) {
    if (!avoid.includes(port) && (await listenable(port)) === port) return port;
  }
  const port = await listenable(0);
  if (port === 0) throw new Error('no free port for a private database server');
  return port;
}

/** Binds the port for a moment: the port it got, or 0 (false) when it is taken. */
function listenable(port: number): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => {
      resolve(0);
    });
    probe.listen(port, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  });
}
