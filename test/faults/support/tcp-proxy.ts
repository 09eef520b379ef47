import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * How the network fails: `refuse` resets every connection and every new one (a database restart,
 * a firewall answering RST); `blackhole` forwards nothing and answers nothing (a partition), and
 * delivers what it held back once restored, so a COMMIT sent into the partition may land late.
 */
export type Outage = 'refuse' | 'blackhole';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  frozen: boolean;
}

/** A TCP forwarder on an ephemeral port whose link can be cut and restored, for fault tests. */
export class TcpProxy {
  private outage: Outage | null = null;
  private readonly pairs = new Set<Pair>();
  /** Connections accepted during a blackhole, waiting for the network to return. */
  private readonly held = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private targetPort: number,
    private readonly targetHost: string,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, targetPort, targetHost);
    server.on('connection', (client) => {
      proxy.accept(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        resolve();
      });
    });
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy is not listening');
    return address.port;
  }

  get isCut(): boolean {
    return this.outage !== null;
  }

  /** New connections go to this port from now on; open ones stay where they are. */
  retarget(port: number): void {
    this.targetPort = port;
  }

  cut(outage: Outage): void {
    this.outage = outage;
    for (const pair of this.pairs) {
      if (outage === 'refuse') {
        reset(pair.client);
        pair.upstream.destroy();
      } else {
        freeze(pair);
      }
    }
  }

  restore(): void {
    this.outage = null;
    for (const pair of this.pairs) thaw(pair);
    for (const client of this.held) this.forward(client);
    this.held.clear();
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    for (const client of this.held) client.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.outage === 'refuse') {
      reset(client);
    } else if (this.outage === 'blackhole') {
      client.pause();
      this.held.add(client);
      client.once('close', () => this.held.delete(client));
    } else {
      this.forward(client);
    }
  }

  private forward(client: Socket): void {
    if (client.destroyed) return;
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    const pair = { client, upstream, frozen: true };
    this.pairs.add(pair);
    const drop = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', drop);
    client.on('error', drop);
    upstream.on('close', drop);
    client.on('close', drop);
    thaw(pair);
  }
}

/** Stops the flow both ways; what arrives meanwhile stays buffered in the sockets. */
function freeze(pair: Pair): void {
  if (pair.frozen) return;
  pair.frozen = true;
  pair.client.unpipe(pair.upstream);
  pair.upstream.unpipe(pair.client);
  pair.client.pause();
  pair.upstream.pause();
}

function thaw(pair: Pair): void {
  if (!pair.frozen) return;
  pair.frozen = false;
  pair.client.pipe(pair.upstream);
  pair.upstream.pipe(pair.client);
}

function reset(socket: Socket): void {
  if (!socket.destroyed) socket.resetAndDestroy();
}
