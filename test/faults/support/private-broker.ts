import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from 'amqplib';

const run = promisify(execFile);
const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin';
/** A node's first boot on a loaded 2-core machine takes 20-30 s; liveness bound only. */
const BOOT_TIMEOUT_MS = 120_000;
const COMMAND_TIMEOUT_MS = 60_000;
const POLL_MS = 250;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Nodes any spec started, halted whatever happens to the test run. */
const living = new Set<string>();
process.once('exit', () => {
  for (const pidFile of living) {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * A RabbitMQ node of the test's own, so the fault test can stop "the broker" without touching the
 * shared one on 5672: its own node name, AMQP and distribution ports, data, logs and Erlang cookie
 * (HOME), all in a temporary directory removed at the end.
 */
export class PrivateBroker {
  private constructor(
    private readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly nodeName: string,
    readonly port: number,
  ) {}

  static async start(): Promise<PrivateBroker> {
    const dir = mkdtempSync(join(tmpdir(), 'giftcard-broker-'));
    const [port, distPort] = [await freePort(), await freePort()];
    const nodeName = `giftcard-test-${randomBytes(4).toString('hex')}@localhost`;
    for (const sub of ['home', 'mnesia', 'log']) mkdirSync(join(dir, sub));
    // Empty: the machine's rabbitmq-env.conf names the shared node, which must stay out of this.
    writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
    writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
    writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\n`);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: join(dir, 'home'),
      RABBITMQ_NODENAME: nodeName,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_PID_FILE: join(dir, 'node.pid'),
      RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      ERL_EPMD_ADDRESS: '127.0.0.1',
    };
    const broker = new PrivateBroker(dir, env, nodeName, port);
    living.add(join(dir, 'node.pid'));
    try {
      await run(join(RABBITMQ_BIN, 'rabbitmq-server'), ['-detached'], { env, cwd: dir, timeout: COMMAND_TIMEOUT_MS });
      await broker.untilAnswering(BOOT_TIMEOUT_MS);
    } catch (error) {
      await broker.close();
      throw error;
    }
    return broker;
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /** Stops RabbitMQ (stop_app): every connection closes and the port stops listening; the node stays up. */
  async stop(): Promise<void> {
    await this.ctl('stop_app');
  }

  /** Starts it again, durable queues and persistent messages as they were, and waits until it answers. */
  async resume(): Promise<void> {
    await this.ctl('start_app');
    await this.untilAnswering(BOOT_TIMEOUT_MS);
  }

  /** Halts the node and removes its files. */
  async close(): Promise<void> {
    await this.ctl('stop').catch(() => {
      try {
        process.kill(Number(readFileSync(join(this.dir, 'node.pid'), 'utf8').trim()), 'SIGKILL');
      } catch {
        // never started, or gone
      }
    });
    living.delete(join(this.dir, 'node.pid'));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async ctl(command: string): Promise<void> {
    await run(join(RABBITMQ_BIN, 'rabbitmqctl'), ['-n', this.nodeName, command], {
      env: this.env,
      cwd: this.dir,
      timeout: COMMAND_TIMEOUT_MS,
    });
  }

  /** An AMQP login, not an open port: the node listens a moment before it accepts one. */
  private async untilAnswering(timeoutMs: number): Promise<void> {
    const giveUpAt = Date.now() + timeoutMs;
    for (;;) {
      try {
        const connection = await connect(this.url);
        await connection.close();
        return;
      } catch (error) {
        if (Date.now() > giveUpAt)
          throw new Error(`private RabbitMQ did not answer in ${timeoutMs} ms: ${String(error)}`);
        await sleep(POLL_MS);
      }
    }
  }
}
