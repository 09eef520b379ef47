import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { GiftCardServiceClient } from '../../../gen/giftcard/v1/gift_card_service';
import { GiftCardApi } from '../../support/api';
import { testDatabaseUrl } from '../../support/test-database';
import { FAST_RECONNECT } from './channel-options';
import { HealthProbe } from './health-probe';
import { CLOCK_PRELOAD, ensureServerBuilt } from './server-build';
import { LogCapture, ServerProcess, type Exit } from './server-process';
import { TcpProxy } from './tcp-proxy';

/** Liveness bounds only: how long a restarted server may take to report SERVING, an exit to come. */
const READY_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 60_000;
/** How long a running server may take to acknowledge a new clock offset. */
const CLOCK_ACK_TIMEOUT_MS = 10_000;
const CLOCK_ACK = /"message":"fault clock offset","offsetMs":(-?\d+)/g;
const POLL_MS = 50;

export interface ServiceOptions {
  /** Settings for every server process of the service. */
  readonly env?: Record<string, string>;
  /** The database, as a mysql:// URL naming it; by default the test run's throwaway database. */
  readonly databaseUrl?: string;
  /** Loads clock-preload.ts into every server process, so `skewClock` can move its wall clock. */
  readonly skewableClock?: boolean;
}

export interface StoppedServer extends Exit {
  readonly ms: number;
}

/**
 * The service as a fault test sees it: a real server process reached through a front proxy (so
 * clients keep one address across restarts on fresh ephemeral ports) and talking to the run's
 * database through a proxy that can cut the network.
 */
export class ServiceUnderTest {
  readonly logs = new LogCapture();
  readonly health: HealthProbe;
  private server: ServerProcess | null = null;
  private readonly clients: GiftCardServiceClient[] = [];

  private constructor(
    private readonly entry: string,
    private readonly env: Record<string, string>,
    readonly front: TcpProxy,
    readonly database: TcpProxy,
    /** The file the clock preload reads its offset from; null without a skewable clock. */
    private readonly clockFile: string | null,
  ) {
    this.health = new HealthProbe(this.address);
  }

  static async start(options: ServiceOptions = {}): Promise<ServiceUnderTest> {
    const entry = await ensureServerBuilt();
    const target = new URL(options.databaseUrl ?? testDatabaseUrl());
    const database = await TcpProxy.start(target.hostname, Number(target.port || 3306));
    const front = await TcpProxy.start('127.0.0.1', 0);
    const viaProxy = new URL(target);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(database.port);
    let clockFile: string | null = null;
    if (options.skewableClock === true) {
      clockFile = join(tmpdir(), `giftcard-clock-${process.pid}-${randomBytes(4).toString('hex')}`);
      writeFileSync(clockFile, '0');
    }
    const service = new ServiceUnderTest(
      entry,
      {
        DATABASE_URL: viaProxy.toString(),
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: '0',
        LOG_LEVEL: 'debug',
        // Off: a fixed port would collide with every other server on the machine.
        METRICS_PORT: '0',
        SHUTDOWN_GRACE_MS: '5000',
        DB_HEALTH_INTERVAL_MS: '250',
        DB_HEALTH_TIMEOUT_MS: '1000',
        // Fixed for the life of the service: restarts must read the hashes and sealed replies
        // their predecessors wrote.
        CARD_NUMBER_INDEX_KEY: randomBytes(32).toString('hex'),
        PASSCODE_HASH_KEY: randomBytes(32).toString('hex'),
        RESPONSE_SEALING_KEY: randomBytes(32).toString('hex'),
        ...(clockFile === null ? {} : { FAULT_CLOCK_FILE: clockFile }),
        ...options.env,
      },
      front,
      database,
      clockFile,
    );
    try {
      await service.restart();
    } catch (error) {
      await service.close();
      throw error;
    }
    return service;
  }

  get address(): string {
    return `127.0.0.1:${this.front.port}`;
  }

  get running(): boolean {
    return this.server?.alive ?? false;
  }

  /** A client of its own, as each instance of a calling service would have. */
  newApi(): GiftCardApi {
    const client = new GiftCardServiceClient(this.address, credentials.createInsecure(), FAST_RECONNECT);
    this.clients.push(client);
    return new GiftCardApi(client);
  }

  /**
   * Starts a fresh server process (the previous one must have exited) and waits for SERVING;
   * `env` adds settings for this process only.
   */
  async restart(env: Record<string, string> = {}): Promise<void> {
    if (this.running) throw new Error('the server is still running');
    const nodeOptions = this.clockFile === null ? [] : ['--require', CLOCK_PRELOAD];
    this.server = await ServerProcess.start(this.entry, { ...this.env, ...env }, this.logs, nodeOptions);
    this.front.retarget(this.server.port);
    await this.health.waitFor('SERVING', READY_TIMEOUT_MS);
  }

  /**
   * Sends the signal and waits for the process to exit: SIGKILL for a crash, SIGTERM for a deploy.
   * Not exiting within `withinMs` fails the test.
   */
  async stopWith(signal: 'SIGKILL' | 'SIGTERM', withinMs = EXIT_TIMEOUT_MS): Promise<StoppedServer> {
    const server = this.server;
    if (server === null) throw new Error('no server was started');
    const started = Date.now();
    server.signal(signal);
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      server.exited,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`server did not exit within ${withinMs} ms of ${signal}`));
        }, withinMs);
      }),
    ]).finally(() => {
      clearTimeout(timer);
    });
    return { ...exit, ms: Date.now() - started };
  }

  /**
   * Sets the wall clock of this and every later server process `offsetMs` off the machine's (a jump,
   * forward or back, when a server is running) and waits for the running one to acknowledge it.
   */
  async skewClock(offsetMs: number): Promise<void> {
    if (this.clockFile === null) throw new Error('the service was started without a skewable clock');
    writeFileSync(this.clockFile, String(offsetMs));
    const server = this.server;
    if (server === null || !this.running) return;
    const before = this.logs.length;
    server.signal('SIGUSR2');
    const giveUpAt = Date.now() + CLOCK_ACK_TIMEOUT_MS;
    for (;;) {
      const acks = [...this.logs.textSince(before).matchAll(CLOCK_ACK)];
      if (Number(acks.at(-1)?.[1]) === offsetMs) return;
      if (Date.now() > giveUpAt) throw new Error(`the server did not acknowledge a clock offset of ${offsetMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Tears everything down, also after a failed test: no process or socket may outlive the spec. */
  async close(): Promise<void> {
    for (const client of this.clients) client.close();
    this.health.close();
    if (this.running) await this.stopWith('SIGKILL').catch(() => undefined);
    await this.front.close();
    await this.database.close();
    if (this.clockFile !== null) rmSync(this.clockFile, { force: true });
  }
}
