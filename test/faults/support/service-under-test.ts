import { randomBytes } from 'node:crypto';
import { credentials } from '@grpc/grpc-js';
import { GiftCardServiceClient } from '../../../gen/giftcard/v1/gift_card_service';
import { GiftCardApi } from '../../support/api';
import { TEST_SERVER_URL, testDatabaseName } from '../../support/test-database';
import { FAST_RECONNECT } from './channel-options';
import { HealthProbe } from './health-probe';
import { ensureServerBuilt } from './server-build';
import { LogCapture, ServerProcess, type Exit } from './server-process';
import { TcpProxy } from './tcp-proxy';

/** Liveness bounds only: how long a restarted server may take to report SERVING, an exit to come. */
const READY_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 60_000;

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
  ) {
    this.health = new HealthProbe(this.address);
  }

  static async start(env: Record<string, string> = {}): Promise<ServiceUnderTest> {
    const entry = await ensureServerBuilt();
    const mysql = new URL(TEST_SERVER_URL);
    const database = await TcpProxy.start(mysql.hostname, Number(mysql.port || 3306));
    const front = await TcpProxy.start('127.0.0.1', 0);
    const viaProxy = new URL(TEST_SERVER_URL);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(database.port);
    viaProxy.pathname = `/${testDatabaseName()}`;
    const service = new ServiceUnderTest(
      entry,
      {
        DATABASE_URL: viaProxy.toString(),
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: '0',
        LOG_LEVEL: 'debug',
        SHUTDOWN_GRACE_MS: '5000',
        DB_HEALTH_INTERVAL_MS: '250',
        DB_HEALTH_TIMEOUT_MS: '1000',
        // Fixed for the life of the service: restarts must read the hashes and sealed replies
        // their predecessors wrote.
        CARD_NUMBER_INDEX_KEY: randomBytes(32).toString('hex'),
        PASSCODE_HASH_KEY: randomBytes(32).toString('hex'),
        RESPONSE_SEALING_KEY: randomBytes(32).toString('hex'),
        ...env,
      },
      front,
      database,
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
    this.server = await ServerProcess.start(this.entry, { ...this.env, ...env }, this.logs);
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

  /** Tears everything down, also after a failed test: no process or socket may outlive the spec. */
  async close(): Promise<void> {
    for (const client of this.clients) client.close();
    this.health.close();
    if (this.running) await this.stopWith('SIGKILL').catch(() => undefined);
    await this.front.close();
    await this.database.close();
  }
}
